/**
 * Background access to sessions (GitLab's `ActiveSession.list_sessions` / `sessions_from_ids`): for jobs and
 * sessionless contexts (webhooks, API tokens) that must know something about a user's browser sessions. A
 * snapshot is read without touching the session (no TTL slide, no last-seen update) and decoded with the same
 * checks a request's load applies (size cap, metadata, JSON that sessionkit could have written, the slot of its
 * user), so a job never sees a session that a request would refuse. It is a frozen copy: nothing written to it
 * reaches the store.
 *
 * @module
 */
import { elevatedUntil } from './elevation.js'
import { InvalidArgumentError } from './errors.js'
import { parseJsonSafe, type JsonValue } from './json.js'
import type { FlatFields, SessionStore, StorePolicy } from './store.js'
import {
  DATA_PREFIX,
  ELEVATION_FIELD,
  NAMESPACE_PREFIX,
  decodeLoadedSession,
  type DecodedSession,
} from './stored-fields.js'
import { parseSessionId, tagForUser, type SessionRef } from './token.js'
import { toUserRef, type UserIdInput } from './user-id.js'

/** A read-only copy of one session: its id, metadata and data. Times are Dates; everything is frozen. */
export interface SessionSnapshot {
  /** The session's id (`<tag>.<hash>`, as `session.id` and the lists show it): safe to log, never a credential. */
  readonly id: string
  /** The signed-in user, `undefined` for an anonymous session. */
  readonly userId: string | undefined
  /** When the session was first stored (kept across sign-ins of the same visitor and rotations). */
  readonly createdAt: Date
  /** When its user signed in; `undefined` for an anonymous session. */
  readonly signedInAt: Date | undefined
  /** The last request that touched the session (updated at most once per `touchIntervalMs`). */
  readonly lastSeenAt: Date
  /** When the session expires unless it is used (the idle deadline, capped by the absolute one). */
  readonly expiresAt: Date
  /** The absolute deadline: activity never extends it. */
  readonly absoluteExpiresAt: Date
  /** The address the session was last seen from; empty when unknown. */
  readonly ipAddress: string
  /** Browser name (`Chrome`, `Mobile Safari`...); empty when unknown or anonymous (parsed at sign-in). */
  readonly browser: string
  /** Operating system (`Windows`, `iOS`...); empty when unknown or anonymous. */
  readonly os: string
  /** Device type (`desktop`, `smartphone`, `tablet`...); empty when unknown or anonymous. */
  readonly deviceType: string
  /** Marketing name (`iPhone`, `Galaxy S23 Ultra`); empty when unknown or anonymous. */
  readonly deviceName: string
  /** The admin signed in as the user, for an impersonated session. */
  readonly impersonator: string | undefined
  /** Whether the cookie outlives the browser session (signed in with `rememberMe`). */
  readonly rememberMe: boolean
  /** Whether the session is in elevated mode (admin mode) now. */
  readonly elevated: boolean
  /** When its elevated mode ends, while it lasts. */
  readonly elevatedUntil: Date | undefined
  /** The top-level keys (`session.get(key)`). */
  readonly data: Readonly<Record<string, JsonValue>>
  /** The namespaced keys by namespace (`session.namespace(name).get(key)`). */
  readonly namespaces: Readonly<Record<string, Readonly<Record<string, JsonValue>>>>
}

export class SnapshotReader {
  readonly #store: SessionStore
  readonly #policy: StorePolicy

  constructor(store: SessionStore, policy: StorePolicy) {
    this.#store = store
    this.#policy = policy
  }

  /** Every live session of a user, newest sign-in first: one round trip. */
  async sessionsOf(userId: UserIdInput): Promise<SessionSnapshot[]> {
    const user = toUserRef(userId)
    const entries = await this.#store.snapshot(user, this.#policy)
    const now = Date.now()
    const out: SessionSnapshot[] = []
    for (const entry of entries) {
      const snapshot = this.#decode(entry.ref, entry.fields, entry.expiresAt, now)
      if (snapshot?.userId === user.id) out.push(snapshot)
    }
    return out.sort(
      (a, b) => (b.signedInAt?.getTime() ?? 0) - (a.signedInAt?.getTime() ?? 0) || (a.id < b.id ? -1 : 1),
    )
  }

  /**
   * One session by id, or `undefined` when there is no such live session.
   *
   * @throws {InvalidArgumentError} `publicId` is not a session id
   */
  async readSession(publicId: string): Promise<SessionSnapshot | undefined> {
    const ref = parseSessionId(publicId)
    if (!ref) {
      throw new InvalidArgumentError(
        'publicId',
        'readSession() needs a session id: <3 hex>.<27 base64url chars> (see parseSessionId)',
      )
    }
    const found = await this.#store.peek(ref, this.#policy)
    return found.status === 'found' ? this.#decode(ref, found.fields, found.expiresAt, Date.now()) : undefined
  }

  #decode(ref: SessionRef, fields: FlatFields, expiresAt: number, now: number): SessionSnapshot | undefined {
    if (byteSize(fields) > this.#policy.maxStoredBytes) return undefined
    const decoded = decodeLoadedSession(fields)
    if (!decoded) return undefined
    const { meta } = decoded
    // As a load: a signed-in session outside its user's slot was planted there.
    if (meta.userId !== undefined && tagForUser(meta.userId) !== ref.tag) return undefined
    if (meta.absoluteExpiresAt <= now) return undefined
    const until =
      meta.userId === undefined ? undefined : elevatedUntil(decoded.values.get(ELEVATION_FIELD), now)
    const { data, namespaces } = decodeValues(decoded)
    return Object.freeze({
      id: ref.id,
      userId: meta.userId,
      createdAt: new Date(meta.createdAt),
      signedInAt: meta.signedInAt === undefined ? undefined : new Date(meta.signedInAt),
      lastSeenAt: new Date(meta.lastSeenAt),
      expiresAt: new Date(Math.min(expiresAt, meta.absoluteExpiresAt)),
      absoluteExpiresAt: new Date(meta.absoluteExpiresAt),
      ipAddress: meta.ipAddress ?? '',
      browser: meta.device?.browser ?? '',
      os: meta.device?.os ?? '',
      deviceType: meta.device?.deviceType ?? '',
      deviceName: meta.device?.deviceName ?? '',
      impersonator: meta.impersonator,
      rememberMe: meta.rememberMe,
      elevated: until !== undefined,
      elevatedUntil: until === undefined ? undefined : new Date(until),
      data,
      namespaces,
    })
  }
}

/** The values as frozen, null-prototype records (a stored key named `__proto__` stays a plain entry). */
function decodeValues(decoded: DecodedSession): Pick<SessionSnapshot, 'data' | 'namespaces'> {
  const data = Object.create(null) as Record<string, JsonValue>
  const namespaces = Object.create(null) as Record<string, Record<string, JsonValue>>
  for (const [field, json] of decoded.values) {
    const value = parseJsonSafe(json)
    if (value === undefined) continue
    if (field.startsWith(DATA_PREFIX)) {
      data[field.slice(DATA_PREFIX.length)] = deepFreeze(value)
      continue
    }
    const rest = field.slice(NAMESPACE_PREFIX.length)
    const colon = rest.indexOf(':')
    const namespace = rest.slice(0, colon)
    namespaces[namespace] ??= Object.create(null) as Record<string, JsonValue>
    namespaces[namespace][rest.slice(colon + 1)] = deepFreeze(value)
  }
  for (const values of Object.values(namespaces)) Object.freeze(values)
  return { data: Object.freeze(data), namespaces: Object.freeze(namespaces) }
}

function deepFreeze(value: JsonValue): JsonValue {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner)
    Object.freeze(value)
  }
  return value
}

function byteSize(fields: FlatFields): number {
  let size = 0
  for (const text of fields) size += Buffer.byteLength(text)
  return size
}
