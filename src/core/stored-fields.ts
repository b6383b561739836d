/**
 * How one session is laid out as flat string fields: the same layout in the Redis hash and in the memory store,
 * so both stores hold the same bytes and the same code decodes them. The Lua argument builders and the memory
 * store take the field names (and the list of fields a listing reads) from here.
 *
 * - `_`-prefixed fields are sessionkit's own metadata (user, times, device...).
 * - `d:<key>` holds the JSON of a top-level session key.
 * - `n:<namespace>:<key>` holds the JSON of a namespaced key. Namespace names cannot contain `:`, so the split is
 *   unambiguous. One field per key is what lets two requests that change different keys both win.
 *
 * @module
 */
import { decodeDevice, type DeviceInfo } from './device.js'
import { isStoredJson } from './json.js'
import { decodeStoredUserId } from './user-id.js'

/** Metadata field names. Short on purpose: they are repeated in every session in Redis. */
export const META = {
  userId: '_u',
  createdAt: '_c',
  signedInAt: '_si',
  absoluteExpiresAt: '_ab',
  lastSeenAt: '_ls',
  ipAddress: '_ip',
  device: '_dv',
  impersonator: '_im',
  rememberMe: '_rm',
} as const

/**
 * The namespace elevated mode ("admin mode", `session.elevate()`) lives in: GitLab's `current_user_mode`. Its one
 * key holds the time the elevation ends (epoch ms). It belongs to one authentication, like {@link OWN_NAMESPACE}:
 * every sign-in drops it.
 */
export const ELEVATION_NAMESPACE = 'current_user_mode'
export const ELEVATION_KEY = 'admin_mode_until'
/** The stored field of the elevation's end. */
export const ELEVATION_FIELD = `n:${ELEVATION_NAMESPACE}:${ELEVATION_KEY}`

/**
 * What a listing reads: the metadata, and the one data field a list shows (the elevation's end, for the "with
 * admin mode" badge), never the rest of the data. The list script and the memory store return exactly these.
 */
export const LISTED_FIELDS: readonly string[] = [...Object.values(META), ELEVATION_FIELD]

/** Metadata a rotation carries to the new session (the store sets the times itself). */
export const CARRIED_FIELDS: readonly string[] = [
  META.ipAddress,
  META.device,
  META.impersonator,
  META.rememberMe,
]

/**
 * sessionkit's own namespace (the UI's CSRF token): it belongs to one authentication, so every sign-in starts it
 * afresh.
 */
export const OWN_NAMESPACE = 'sessionkit'

/** The namespaces that belong to one authentication: a sign-in starts them afresh (see `SessionLifecycle.signIn`). */
export const AUTHENTICATION_NAMESPACES: readonly string[] = [OWN_NAMESPACE, ELEVATION_NAMESPACE]

export const DATA_PREFIX = 'd:'
export const NAMESPACE_PREFIX = 'n:'

export function dataField(key: string): string {
  return DATA_PREFIX + key
}

export function namespaceField(namespace: string, key: string): string {
  return `${NAMESPACE_PREFIX}${namespace}:${key}`
}

export function namespacePrefix(namespace: string): string {
  return `${NAMESPACE_PREFIX}${namespace}:`
}

/** Whether a stored field holds application data (top-level or namespaced), as opposed to metadata. */
export function isDataField(name: string): boolean {
  return name.startsWith(DATA_PREFIX) || name.startsWith(NAMESPACE_PREFIX)
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

/** A session as decoded: metadata, and the raw JSON of every data and namespace field. */
export interface DecodedSession {
  readonly meta: SessionMeta
  /** The user id as stored (percent-encoded), so it need not be encoded again. */
  readonly encodedUserId: string | undefined
  readonly values: Map<string, string>
}

/** Where each metadata field lands in the raw array the decoder fills. */
const SLOT = new Map<string, number>(Object.values(META).map((name, i) => [name, i]))
const scratch: (string | undefined)[] = new Array<string | undefined>(SLOT.size)
const [USER, CREATED, SIGNED_IN, ABSOLUTE, LAST_SEEN, IP, DEVICE, IMPERSONATOR, REMEMBER_ME] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8,
] as const

/**
 * Decodes stored fields given as a flat `[name, value, name, value, ...]` list (what a load returns). Returns
 * `undefined` when the metadata is missing or malformed: such a session is treated as absent (fail closed), never
 * as one without deadlines.
 */
export function decodeStoredFields(flat: readonly string[]): DecodedSession | undefined {
  // One pass, no intermediate object per field: this runs on every request that carries a cookie. The scratch
  // array is reused (decoding is synchronous, so no two decodes share it at once).
  const values = new Map<string, string>()
  const raw = scratch.fill(undefined)
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i] as string
    const value = flat[i + 1] as string
    if (isDataField(name)) values.set(name, value)
    else {
      const slot = SLOT.get(name)
      if (slot !== undefined) raw[slot] = value
    }
  }
  const meta = toMeta(raw)
  return meta && { meta, encodedUserId: raw[USER], values }
}

/** As {@link decodeStoredFields}, from name/value pairs (admin tools, listings). */
export function decodeStoredPairs(pairs: Iterable<readonly [string, string]>): DecodedSession | undefined {
  const flat: string[] = []
  for (const [name, value] of pairs) flat.push(name, value)
  return decodeStoredFields(flat)
}

/**
 * Decodes a session loaded for a request: as {@link decodeStoredFields}, and also `undefined` when a data value is
 * not JSON that sessionkit could have written (invalid JSON, `__proto__` keys...). Such a session was tampered
 * with or corrupted, so it is treated as absent (fail closed) rather than served with values missing.
 */
export function decodeLoadedSession(flat: readonly string[]): DecodedSession | undefined {
  const decoded = decodeStoredFields(flat)
  if (!decoded) return undefined
  for (const json of decoded.values.values()) if (!isStoredJson(json)) return undefined
  return decoded
}

function toMeta(raw: readonly (string | undefined)[]): SessionMeta | undefined {
  const createdAt = toTime(raw[CREATED])
  const absoluteExpiresAt = toTime(raw[ABSOLUTE])
  const lastSeenAt = toTime(raw[LAST_SEEN])
  if (createdAt === undefined || absoluteExpiresAt === undefined || lastSeenAt === undefined) return undefined
  const encodedUser = raw[USER]
  const encodedImpersonator = raw[IMPERSONATOR]
  const userId = encodedUser === undefined ? undefined : decodeStoredUserId(encodedUser)
  const impersonator = encodedImpersonator === undefined ? undefined : decodeStoredUserId(encodedImpersonator)
  // A present but undecodable (or empty) id is corrupt metadata, never "no user".
  if (
    (encodedUser !== undefined && userId === undefined) ||
    (encodedImpersonator !== undefined && !impersonator)
  ) {
    return undefined
  }
  const signedInAt = toTime(raw[SIGNED_IN])
  if (userId !== undefined && signedInAt === undefined) return undefined
  return new StoredMeta(
    userId,
    createdAt,
    signedInAt,
    absoluteExpiresAt,
    lastSeenAt,
    raw[IP],
    raw[DEVICE],
    impersonator,
    raw[REMEMBER_ME] === '1',
  )
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

/** A stored time: 1 to 15 ASCII digits, nothing else (no sign, exponent, spaces or hex that Number() accepts). */
export function toTime(value: string | undefined): number | undefined {
  if (value === undefined || value.length === 0 || value.length > 15) return undefined
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c < 48 || c > 57) return undefined
  }
  return Number(value)
}
