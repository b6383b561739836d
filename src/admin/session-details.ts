/**
 * One session as an admin sees it (`sessionkit show`): metadata, TTL, and the data decoded as plain JSON with
 * namespaced keys grouped. Values are decoded with `parseJsonSafe` (plain JSON, prototype keys dropped), never
 * evaluated; a field that does not decode is listed with its raw value and why, never fatal.
 *
 * @module
 */
import { decodeDevice } from '../core/device.js'
import { parseJsonSafe, type JsonValue } from '../core/json.js'
import { elevatedUntil } from '../core/elevation.js'
import {
  DATA_PREFIX,
  ELEVATION_FIELD,
  META,
  NAMESPACE_PREFIX,
  decodeStoredPairs,
  toTime,
} from '../core/stored-fields.js'
import type { SessionRef } from '../core/token.js'
import { decodeStoredUserId } from '../core/user-id.js'
import type { InspectedSession } from './admin-store.js'

/** A stored field that does not decode, shown raw (truncated) with the reason. */
export interface InvalidValue {
  readonly field: string
  readonly raw: string
  readonly reason: string
}

/** A session's details as plain JSON (times in ISO 8601). */
export interface SessionDetails {
  readonly id: string
  /** The signed-in user, `null` for an anonymous session (or one whose `_u` does not decode). */
  readonly userId: string | null
  readonly anonymous: boolean
  readonly impersonated: boolean
  readonly impersonator: string | null
  readonly createdAt: string | null
  readonly signedInAt: string | null
  readonly lastSeenAt: string | null
  /** The absolute deadline, fixed at sign-in. */
  readonly absoluteExpiresAt: string | null
  /** When the store drops the session unless it is used (now + TTL); `null` without a TTL. */
  readonly expiresAt: string | null
  /** Remaining TTL in seconds; `null` when the key has none. */
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
  /** Fields that do not decode (invalid JSON, an undecodable user id, a field sessionkit never writes). */
  readonly invalidValues: readonly InvalidValue[]
}

const RAW_PREVIEW = 200

/** Decodes an inspected session. `now` is when the TTL was read. */
export function sessionDetails(ref: SessionRef, found: InspectedSession, now = Date.now()): SessionDetails {
  const values = decodeValues(found)
  const meta = values.meta
  const userId = decodedId(meta, META.userId, values.invalid)
  const impersonator = decodedId(meta, META.impersonator, values.invalid)
  const device = decodeDevice(meta.get(META.device))
  const ttlMs = found.ttlMs
  return {
    id: ref.id,
    userId,
    anonymous: !meta.has(META.userId),
    impersonated: meta.has(META.impersonator),
    impersonator,
    createdAt: isoTime(meta.get(META.createdAt)),
    signedInAt: isoTime(meta.get(META.signedInAt)),
    lastSeenAt: isoTime(meta.get(META.lastSeenAt)),
    absoluteExpiresAt: isoTime(meta.get(META.absoluteExpiresAt)),
    expiresAt: ttlMs >= 0 ? new Date(now + ttlMs).toISOString() : null,
    ttlSeconds: ttlMs >= 0 ? Math.ceil(ttlMs / 1000) : null,
    ipAddress: meta.get(META.ipAddress) ?? '',
    browser: device?.browser ?? '',
    os: device?.os ?? '',
    deviceType: device?.deviceType ?? '',
    deviceName: device?.deviceName ?? '',
    rememberMe: meta.get(META.rememberMe) === '1',
    elevated:
      userId !== null &&
      elevatedUntil(found.fields.find(([field]) => field === ELEVATION_FIELD)?.[1], now) !== undefined,
    validMetadata: decodeStoredPairs(found.fields) !== undefined,
    data: values.data,
    namespaces: values.namespaces,
    invalidValues: values.invalid,
  }
}

interface DecodedValues {
  /** The `_`-prefixed metadata fields, raw. */
  readonly meta: Map<string, string>
  readonly data: Record<string, JsonValue>
  readonly namespaces: Record<string, Record<string, JsonValue>>
  readonly invalid: InvalidValue[]
}

function decodeValues(found: InspectedSession): DecodedValues {
  // Null-prototype records: a stored key named "__proto__" stays a plain entry.
  const data = Object.create(null) as Record<string, JsonValue>
  const namespaces = Object.create(null) as Record<string, Record<string, JsonValue>>
  const out: DecodedValues = { meta: new Map(), data, namespaces, invalid: [] }
  for (const [field, value] of found.fields) {
    if (field.startsWith('_')) {
      out.meta.set(field, value)
      continue
    }
    const parsed = parseJsonSafe(value)
    if (parsed === undefined) {
      out.invalid.push(invalid(field, value, 'not valid JSON'))
    } else if (field.startsWith(DATA_PREFIX)) {
      data[field.slice(DATA_PREFIX.length)] = parsed
    } else if (field.startsWith(NAMESPACE_PREFIX)) {
      const rest = field.slice(NAMESPACE_PREFIX.length)
      const colon = rest.indexOf(':')
      const namespace = colon < 0 ? rest : rest.slice(0, colon)
      namespaces[namespace] ??= Object.create(null) as Record<string, JsonValue>
      namespaces[namespace][colon < 0 ? '' : rest.slice(colon + 1)] = parsed
    } else {
      out.invalid.push(invalid(field, value, 'not a field sessionkit writes'))
    }
  }
  return out
}

/** A stored user id, decoded by the one decoder; an undecodable one is listed as invalid and shown as `null`. */
function decodedId(
  meta: ReadonlyMap<string, string>,
  field: string,
  invalidValues: InvalidValue[],
): string | null {
  const encoded = meta.get(field)
  if (encoded === undefined) return null
  const id = decodeStoredUserId(encoded)
  if (id === undefined) invalidValues.push(invalid(field, encoded, 'not a user id sessionkit writes'))
  return id ?? null
}

function invalid(field: string, raw: string, reason: string): InvalidValue {
  return { field, raw: raw.length > RAW_PREVIEW ? `${raw.slice(0, RAW_PREVIEW)}…` : raw, reason }
}

function isoTime(value: string | undefined): string | null {
  const time = toTime(value)
  return time === undefined ? null : new Date(time).toISOString()
}
