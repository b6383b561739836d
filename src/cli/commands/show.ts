/**
 * `sessionkit show SESSION_ID`: one session's metadata and data, read without touching it (no TTL slide, no
 * last-seen update). Values are decoded with `parseJsonSafe` (plain JSON, prototype keys dropped), never evaluated.
 *
 * @module
 */
import { decodeDevice } from '../../core/device.js'
import { elevatedUntil } from '../../core/elevation.js'
import {
  DATA_PREFIX,
  ELEVATION_FIELD,
  META,
  NAMESPACE_PREFIX,
  decodeStoredPairs,
} from '../../core/stored-fields.js'
import { parseJsonSafe, type JsonValue } from '../../core/json.js'
import { parseSessionId, type SessionRef } from '../../core/token.js'
import { decodeStoredUserId } from '../../core/user-id.js'
import type { CliContext } from '../connect.js'
import { notFoundError, usageError } from '../errors.js'

export interface ShowOptions {
  readonly sessionId?: string | undefined
}

/** A stored value that is not valid JSON, shown raw (truncated). */
export interface InvalidValue {
  readonly field: string
  readonly raw: string
}

export interface ShowResult {
  readonly id: string
  /** The signed-in user, `null` for an anonymous session. */
  readonly userId: string | null
  readonly anonymous: boolean
  readonly impersonated: boolean
  readonly impersonator: string | null
  readonly createdAt: string | null
  readonly signedInAt: string | null
  readonly lastSeenAt: string | null
  /** The absolute deadline, fixed at sign-in. */
  readonly absoluteExpiresAt: string | null
  /** When Redis drops the key unless the session is used (now + TTL); `null` without a TTL. */
  readonly expiresAt: string | null
  /** Remaining TTL of the key in seconds; `null` when the key has none. */
  readonly ttlSeconds: number | null
  readonly ipAddress: string
  readonly browser: string
  readonly os: string
  readonly deviceType: string
  readonly deviceName: string
  readonly rememberMe: boolean
  /** In elevated mode (admin mode) now. */
  readonly elevated: boolean
  /** False when the metadata is missing or malformed: the library treats such a session as absent. */
  readonly validMetadata: boolean
  /** Top-level session keys (`session.get(key)`). */
  readonly data: Record<string, JsonValue>
  /** Namespaced keys, grouped by namespace (`session.namespace(ns).get(key)`). */
  readonly namespaces: Record<string, Record<string, JsonValue>>
  readonly invalidValues: readonly InvalidValue[]
}

/** @throws {CliError} exit 2 for a missing or malformed id */
export function checkShowOptions(options: ShowOptions): SessionRef {
  if (options.sessionId === undefined) throw usageError('show needs a SESSION_ID')
  const ref = parseSessionId(options.sessionId)
  if (!ref) throw usageError(`${describeId(options.sessionId)} is not a session id (<tag>.<64 hex>)`)
  return ref
}

export function describeId(id: string): string {
  return JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id)
}

const RAW_PREVIEW = 200

export async function showCommand(ctx: CliContext, options: ShowOptions): Promise<ShowResult> {
  const ref = checkShowOptions(options)
  const found = await ctx.store.inspect(ref)
  if (!found) throw notFoundError(`session ${ref.id} not found`)
  const raw = new Map<string, string>()
  // Null-prototype records: a stored key named "__proto__" stays a plain entry.
  const data = Object.create(null) as Record<string, JsonValue>
  const namespaces = Object.create(null) as Record<string, Record<string, JsonValue>>
  const invalidValues: InvalidValue[] = []
  for (const [field, value] of found.fields) {
    if (field.startsWith('_')) {
      raw.set(field, value)
      continue
    }
    const parsed = parseJsonSafe(value)
    if (parsed === undefined) {
      invalidValues.push({
        field,
        raw: value.length > RAW_PREVIEW ? `${value.slice(0, RAW_PREVIEW)}…` : value,
      })
    } else if (field.startsWith(DATA_PREFIX)) {
      data[field.slice(DATA_PREFIX.length)] = parsed
    } else if (field.startsWith(NAMESPACE_PREFIX)) {
      const rest = field.slice(NAMESPACE_PREFIX.length)
      const colon = rest.indexOf(':')
      const namespace = colon < 0 ? rest : rest.slice(0, colon)
      const key = colon < 0 ? '' : rest.slice(colon + 1)
      namespaces[namespace] ??= Object.create(null) as Record<string, JsonValue>
      namespaces[namespace][key] = parsed
    } else {
      invalidValues.push({ field, raw: value.slice(0, RAW_PREVIEW) })
    }
  }
  const encodedUser = raw.get(META.userId)
  const userId = encodedUser === undefined ? null : safeDecode(encodedUser)
  const device = decodeDevice(raw.get(META.device))
  const encodedImpersonator = raw.get(META.impersonator)
  const impersonator = encodedImpersonator === undefined ? null : safeDecode(encodedImpersonator)
  const ttlMs = found.ttlMs
  const elevation = found.fields.find(([field]) => field === ELEVATION_FIELD)?.[1]
  return {
    id: ref.id,
    userId,
    anonymous: encodedUser === undefined,
    impersonated: impersonator !== null,
    impersonator,
    createdAt: isoTime(raw.get(META.createdAt)),
    signedInAt: isoTime(raw.get(META.signedInAt)),
    lastSeenAt: isoTime(raw.get(META.lastSeenAt)),
    absoluteExpiresAt: isoTime(raw.get(META.absoluteExpiresAt)),
    expiresAt: ttlMs >= 0 ? new Date(Date.now() + ttlMs).toISOString() : null,
    ttlSeconds: ttlMs >= 0 ? Math.ceil(ttlMs / 1000) : null,
    ipAddress: raw.get(META.ipAddress) ?? '',
    browser: device?.browser ?? '',
    os: device?.os ?? '',
    deviceType: device?.deviceType ?? '',
    deviceName: device?.deviceName ?? '',
    rememberMe: raw.get(META.rememberMe) === '1',
    elevated: encodedUser !== undefined && elevatedUntil(elevation, Date.now()) !== undefined,
    validMetadata: decodeStoredPairs(found.fields) !== undefined,
    data,
    namespaces,
    invalidValues,
  }
}

function safeDecode(encoded: string): string {
  return decodeStoredUserId(encoded) ?? encoded
}

function isoTime(value: string | undefined): string | null {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return null
  return new Date(Number(value)).toISOString()
}
