/**
 * How one session is laid out as flat string fields: the same layout in the Redis hash and in the memory store,
 * so both stores hold the same bytes and the same code decodes them.
 *
 * - `_`-prefixed fields are sessionkit's own metadata (user, times, device...).
 * - `d:<key>` holds the JSON of a top-level session key.
 * - `n:<namespace>:<key>` holds the JSON of a namespaced key. Namespace names cannot contain `:`, so the split is
 *   unambiguous. One field per key is what lets two requests that change different keys both win.
 *
 * @module
 */
import { InvalidSessionKeyError } from './errors.js'
import { isStoredJson } from './json.js'
import { decodeUserId } from './user-id.js'

/** Metadata field names. Short on purpose: they are repeated in every session in Redis. */
export const META = {
  user: '_u',
  createdAt: '_c',
  signedInAt: '_si',
  absoluteDeadline: '_ab',
  lastSeen: '_ls',
  ip: '_ip',
  device: '_dv',
  impersonator: '_im',
  rememberMe: '_rm',
} as const

export const DATA_PREFIX = 'd:'
export const NAMESPACE_PREFIX = 'n:'

export const MAX_KEY_LENGTH = 256
const NAMESPACE_NAME = /^[A-Za-z0-9_.-]{1,64}$/

export function dataField(key: string): string {
  return DATA_PREFIX + key
}

export function namespaceField(namespace: string, key: string): string {
  return `${NAMESPACE_PREFIX}${namespace}:${key}`
}

export function namespacePrefix(namespace: string): string {
  return `${NAMESPACE_PREFIX}${namespace}:`
}

export function assertSessionKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new InvalidSessionKeyError(
      `a session key must be a non-empty string of at most ${MAX_KEY_LENGTH} characters, got ${describe(key)}`,
    )
  }
  // The load script joins stored names with NUL (see stores/redis/scripts/load.lua).
  if (key.includes('\0')) {
    throw new InvalidSessionKeyError(`a session key must not contain NUL, got ${describe(key)}`)
  }
}

export function assertNamespaceName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAMESPACE_NAME.test(name)) {
    throw new InvalidSessionKeyError(
      `a namespace name must match ${String(NAMESPACE_NAME)}, got ${describe(name)}`,
    )
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value
}

/** Device details parsed from the User-Agent at sign-in. */
export interface DeviceInfo {
  /** Browser name, e.g. `Chrome`, `Mobile Safari`; empty when unknown. */
  readonly browser: string
  /** Operating system name, e.g. `Windows`, `iOS`; empty when unknown. */
  readonly os: string
  /** Device type as the detector names it: `desktop`, `smartphone`, `tablet`, `phablet`, `tv`...; empty when unknown. */
  readonly deviceType: string
  /** Marketing name where known, e.g. `iPhone`, `Galaxy S23 Ultra`; empty otherwise. */
  readonly deviceName: string
}

/** Session metadata as decoded from the store. Times are epoch milliseconds. */
export interface SessionMeta {
  readonly userId: string | undefined
  readonly createdAt: number
  readonly signedInAt: number | undefined
  readonly absoluteExpiresAt: number
  readonly lastSeenAt: number
  readonly ipAddress: string | undefined
  readonly device: DeviceInfo | undefined
  readonly impersonator: string | undefined
  readonly rememberMe: boolean
}

/** Metadata as loaded. The device is parsed on first use: only listings need it, and a load runs per request. */
class StoredMeta implements SessionMeta {
  readonly #deviceText: string | undefined
  #device: DeviceInfo | undefined | null = null

  constructor(
    readonly userId: string | undefined,
    readonly createdAt: number,
    readonly signedInAt: number | undefined,
    readonly absoluteExpiresAt: number,
    readonly lastSeenAt: number,
    readonly ipAddress: string | undefined,
    deviceText: string | undefined,
    readonly impersonator: string | undefined,
    readonly rememberMe: boolean,
  ) {
    this.#deviceText = deviceText
  }

  get device(): DeviceInfo | undefined {
    if (this.#device === null) this.#device = decodeDevice(this.#deviceText)
    return this.#device
  }
}

/** A session as decoded: metadata, and the raw JSON of every data and namespace field. */
export interface DecodedSession {
  readonly meta: SessionMeta
  /** The user id as stored (percent-encoded), so it need not be encoded again. */
  readonly encodedUserId: string | undefined
  readonly values: Map<string, string>
}

/**
 * Decodes stored fields. Returns `undefined` when the metadata is missing or malformed: such a session is treated
 * as absent (fail closed), never as one without deadlines.
 */
export function decodeFields(fields: Iterable<readonly [string, string]>): DecodedSession | undefined {
  const flat: string[] = []
  for (const [name, value] of fields) flat.push(name, value)
  return decodeFlatFields(flat)
}

/** As {@link decodeFields}, from a flat `[name, value, name, value, ...]` list (what a load returns). */
export function decodeFlatFields(flat: readonly string[]): DecodedSession | undefined {
  // One pass, no intermediate map: this runs on every request that carries a cookie.
  const values = new Map<string, string>()
  let user: string | undefined
  let created: string | undefined
  let signedIn: string | undefined
  let deadline: string | undefined
  let lastSeen: string | undefined
  let ip: string | undefined
  let device: string | undefined
  let impersonator: string | undefined
  let rememberMe: string | undefined
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i] as string
    const value = flat[i + 1] as string
    if (name.startsWith(DATA_PREFIX) || name.startsWith(NAMESPACE_PREFIX)) {
      values.set(name, value)
      continue
    }
    switch (name) {
      case META.user:
        user = value
        break
      case META.createdAt:
        created = value
        break
      case META.signedInAt:
        signedIn = value
        break
      case META.absoluteDeadline:
        deadline = value
        break
      case META.lastSeen:
        lastSeen = value
        break
      case META.ip:
        ip = value
        break
      case META.device:
        device = value
        break
      case META.impersonator:
        impersonator = value
        break
      case META.rememberMe:
        rememberMe = value
        break
    }
  }
  const createdAt = toTime(created)
  const absoluteExpiresAt = toTime(deadline)
  const lastSeenAt = toTime(lastSeen)
  if (createdAt === undefined || absoluteExpiresAt === undefined || lastSeenAt === undefined) return undefined
  const userId = user === undefined ? undefined : decodeStoredId(user)
  const impersonatorId = impersonator === undefined ? undefined : decodeStoredId(impersonator)
  // A present but undecodable (or empty) id is corrupt metadata, never "no user".
  if (userId === '' || impersonatorId === '') return undefined
  const signedInAt = toTime(signedIn)
  if (userId !== undefined && signedInAt === undefined) return undefined
  return {
    meta: new StoredMeta(
      userId,
      createdAt,
      signedInAt,
      absoluteExpiresAt,
      lastSeenAt,
      ip,
      device,
      impersonatorId,
      rememberMe === '1',
    ),
    encodedUserId: user,
    values,
  }
}

/**
 * Decodes a session loaded for a request: as {@link decodeFlatFields}, and also `undefined` when a data value is
 * not JSON that sessionkit could have written (invalid JSON, `__proto__` keys...). Such a session was tampered
 * with or corrupted, so it is treated as absent (fail closed) rather than served with values missing.
 */
export function decodeLoadedSession(flat: readonly string[]): DecodedSession | undefined {
  const decoded = decodeFlatFields(flat)
  if (!decoded) return undefined
  for (const json of decoded.values.values()) if (!isStoredJson(json)) return undefined
  return decoded
}

/** A percent-encoded id as stored (`_u`, `_im`); `''` when it does not decode. */
function decodeStoredId(encoded: string): string {
  try {
    return decodeUserId(encoded)
  } catch {
    return ''
  }
}

/** A stored time: 1 to 15 ASCII digits, nothing else (no sign, exponent, spaces or hex that Number() accepts). */
function toTime(value: string | undefined): number | undefined {
  if (value === undefined || value.length === 0 || value.length > 15) return undefined
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c < 48 || c > 57) return undefined
  }
  return Number(value)
}

/** Device info is stored as a compact JSON array `[browser, os, deviceType, deviceName]`. */
export function encodeDevice(device: DeviceInfo): string {
  return JSON.stringify([device.browser, device.os, device.deviceType, device.deviceName])
}

export function decodeDevice(text: string | undefined): DeviceInfo | undefined {
  if (text === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(text)
    if (!Array.isArray(parsed) || parsed.length !== 4 || !parsed.every((v) => typeof v === 'string')) {
      return undefined
    }
    const [browser, os, deviceType, deviceName] = parsed as [string, string, string, string]
    return { browser, os, deviceType, deviceName }
  } catch {
    return undefined
  }
}
