/**
 * The admin port: what the CLI and the admin view need from a store beyond the request path — reading a session
 * without touching it, and walking the whole keyspace. Kept apart from `SessionStore` so that the per-request code
 * never sees (or depends on) keyspace walks. `RedisStore` and `MemoryStore` implement both ports.
 *
 * Admin tools must survive whatever else lives in the keyspace: a key of another type or with a name sessionkit
 * never writes is reported as a {@link ForeignKey} and skipped, never an error that stops the walk.
 *
 * @module
 */
import type { SessionRef } from '../core/token.js'
import type { StoredFields } from '../core/store.js'

/** A session read for an admin tool: every stored field, and how long it has left. */
export interface InspectedSession {
  /** Every stored field (metadata, data and namespaces), as stored. */
  readonly fields: StoredFields
  /** Time to live in ms; negative when the backend reports none. */
  readonly ttlMs: number
  /**
   * Set when the key exists but is not what sessionkit writes (e.g. it holds a string): `fields` is then empty
   * and the key must be left alone.
   */
  readonly foreign?: ForeignKey | undefined
}

/** What a walk over all sessions reports for each one (metadata fields only, never the data). */
export interface ScannedSession {
  /** The session's id. */
  readonly ref: SessionRef
  /** Its metadata fields (the ones a listing reads). */
  readonly fields: StoredFields
}

/** A key under the session layout that is not what sessionkit writes: reported and skipped, never fatal. */
export interface ForeignKey {
  /** The key's name, raw (escape it before printing it to a terminal). */
  readonly key: string
  /** Why it was skipped, for people: `holds a string, not a hash`... */
  readonly reason: string
}

/** One batch of {@link AdminStore.scanSessions}. */
export interface SessionScanBatch {
  /** Sessions found in this batch. */
  readonly sessions: readonly ScannedSession[]
  /** Session-like keys that are not what sessionkit writes. */
  readonly foreign: readonly ForeignKey[]
}

/** One batch of {@link AdminStore.scanUsers}. */
export interface UserScanBatch {
  /** Users whose index is a well-formed key of the right type. */
  readonly users: readonly string[]
  /** Index-like keys that are not (another type, an undecodable user id, the wrong slot). */
  readonly foreign: readonly ForeignKey[]
}

/**
 * The admin port, for the CLI and the admin view: read a session without touching it, walk every session and
 * every user. `RedisStore` (SCAN on every master, never KEYS) and `MemoryStore` implement it.
 */
export interface AdminStore {
  /** Reads a session without touching it (no TTL slide, no last-seen update). */
  inspect(ref: SessionRef): Promise<InspectedSession | undefined>
  /** Walks every session (metadata fields only), in batches. A key may be reported twice; dedupe by ref id. */
  scanSessions(visit: (batch: SessionScanBatch) => void | Promise<void>): Promise<void>
  /** Walks every user that has an index, in batches. A user may be reported twice. */
  scanUsers(visit: (batch: UserScanBatch) => void | Promise<void>): Promise<void>
  /** Resolves when the store answers; rejects with StoreUnavailableError otherwise. */
  ping(): Promise<void>
}

/**
 * The admin side of a store, when it has one (both built-in stores do).
 * @internal
 */
export function adminStoreOf(store: object): AdminStore | undefined {
  const candidate = store as Partial<AdminStore>
  return typeof candidate.inspect === 'function' &&
    typeof candidate.scanSessions === 'function' &&
    typeof candidate.scanUsers === 'function' &&
    typeof candidate.ping === 'function'
    ? (store as AdminStore)
    : undefined
}
