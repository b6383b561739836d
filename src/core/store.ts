/**
 * The request-path port between sessionkit's core and a storage backend: what opening, saving, signing in and
 * out, listing and revoking need, and nothing else (admin tools use the separate `AdminStore` port). Two
 * implementations exist, held to one contract test suite (`test/stores/store-contract.test.ts`): `RedisStore` and
 * `MemoryStore`.
 *
 * A store knows nothing about cookies, JSON or users' devices: it keeps flat string fields per session (see
 * `stored-fields.ts`), a per-user index, and enforces lifetimes. Every operation that checks and then acts does so
 * atomically, and every operation is one round trip to the backend.
 *
 * @module
 */
import type { SessionRef } from './token.js'
import type { UserRef } from './user-id.js'

/** Lifetimes and limits the store enforces. Validated once by `createSessionkit`. */
export interface StorePolicy {
  /** Sliding lifetime of a signed-in session, in ms. */
  readonly idleTimeoutMs: number
  /** Sliding lifetime of a session with no user, in ms. */
  readonly anonymousTimeoutMs: number
  /** Lifetime from creation or sign-in that activity never extends, in ms. */
  readonly absoluteTimeoutMs: number
  /** A session is touched (TTL slid, last-seen updated) at most once per interval, in ms. */
  readonly touchIntervalMs: number
  /** Sessions whose stored fields exceed this many bytes are refused on load. */
  readonly maxStoredBytes: number
  /** Most sessions one user may have; the least recently active are evicted at sign-in. */
  readonly maxSessionsPerUser: number
  /**
   * Most distinct client addresses one user may use within a window (GitLab's `UniqueIpsLimiter`): a sign-in or
   * request from one more is refused. Off when absent.
   */
  readonly uniqueIpsPerUser?: UniqueIpsLimit | undefined
}

/** `uniqueIpsPerUser`: at most `max` distinct addresses per user within `windowMs`. Both are required. */
export interface UniqueIpsLimit {
  /** Most distinct client addresses per user in the window, 1 to 10 000. */
  readonly max: number
  /** The sliding window, in ms: an address counts until this long after its latest use. */
  readonly windowMs: number
}

/** Stored fields of one session, as name/value pairs. */
export type StoredFields = ReadonlyArray<readonly [string, string]>

/**
 * Stored fields of one session as one flat list `[name, value, name, value, ...]`: what a load returns, since it
 * runs on every request and a flat list is the cheapest shape to build and to read.
 */
export type FlatFields = readonly string[]

/** What {@link SessionStore.load} found: `status` says which case it is. */
export type LoadResult =
  /** Live and usable (and touched, if the touch interval had passed). */
  | {
      /** The session is live. */
      readonly status: 'found'
      /** All of its stored fields. */
      readonly fields: FlatFields
    }
  /** No such session (never created, expired, signed out, revoked). */
  | {
      /** No session. */
      readonly status: 'missing'
    }
  /** Present but unusable (wrong type, oversize, outside its user's index): treated as absent, never an error. */
  | {
      /** The stored session cannot be used. */
      readonly status: 'invalid'
      /** `corrupt` (not what sessionkit writes) or `too_large` (over `policy.maxStoredBytes`). */
      readonly reason: 'corrupt' | 'too_large'
    }
  /** Found past its absolute deadline (and deleted): the session is over. */
  | {
      /** The session is over. */
      readonly status: 'expired'
      /** Its encoded user id, or `''` for an anonymous session. */
      readonly owner: string
    }
  /** Live, but this request is refused: its address is one more than `uniqueIpsPerUser` allows. Nothing changed. */
  | {
      /** The request is refused. */
      readonly status: 'refused'
      /** Why: one distinct address too many for the user. */
      readonly reason: 'too_many_ips'
      /** The session's encoded user id. */
      readonly owner: string
    }

/** What {@link SessionStore.create} stores: a new session under a new id. */
export interface CreateSpec {
  /** The new session's id (from its fresh token). */
  readonly ref: SessionRef
  /** The user the new session belongs to; `undefined` for an anonymous session. */
  readonly user: UserRef | undefined
  /** Data and metadata fields, without the time fields the store sets itself. */
  readonly fields: StoredFields
  /** Keep this creation time (rotation carries it over); default now. */
  readonly createdAt?: number | undefined
  /** Keep this sign-in time (rotation without sign-in); default now. Signed-in sessions only. */
  readonly signedInAt?: number | undefined
  /** Keep this absolute deadline (rotation without sign-in); default now + the absolute timeout. */
  readonly absoluteExpiresAt?: number | undefined
  /**
   * The second step of a rotation whose first step (the claim) already took effect: the store must try it even
   * while it sheds load (an open circuit, a full queue), since failing it now would sign the user out.
   */
  readonly completesRotation?: boolean
  /**
   * The client's address at a sign-in. With `checkKnownIp`, the store reports whether one of the user's other
   * live sessions (impersonated ones aside) was last seen from it; with `limitIps`, the sign-in is refused when
   * it would make one more distinct address than `policy.uniqueIpsPerUser` allows.
   */
  readonly ipAddress?: string | undefined
  /** Report in {@link CreateResult.knownIp} whether another live session of the user was seen from `ipAddress`. */
  readonly checkKnownIp?: boolean | undefined
  /** Enforce `policy.uniqueIpsPerUser` on `ipAddress` (a sign-in that is not an impersonation). */
  readonly limitIps?: boolean | undefined
}

/** What {@link SessionStore.create} did. */
export interface CreateResult {
  /** The store's clock when the session was created (epoch ms). */
  readonly now: number
  /** The new session's absolute deadline (epoch ms): the kept one, or now + the absolute timeout. */
  readonly absoluteExpiresAt: number
  /** False when a kept absolute deadline had already passed, or the sign-in was refused: nothing was written. */
  readonly created: boolean
  /** Set when the sign-in was refused (nothing was written). */
  readonly refused?: 'too_many_ips' | undefined
  /** Sessions of the user evicted to stay within `maxSessionsPerUser`. */
  readonly evicted?: number | undefined
  /** With `checkKnownIp`: whether another live session of the user was last seen from `ipAddress`. */
  readonly knownIp?: boolean | undefined
}

/** The changes one request made: only these fields are written. */
export interface SessionDelta {
  /** Fields to write, with their new values. */
  readonly set: StoredFields
  /** Fields to delete. */
  readonly del: readonly string[]
}

/** Where a save goes, and whose session it must still be. */
export interface SaveTarget {
  /** The session to write to. */
  readonly ref: SessionRef
  /** The owner the session must still have: the encoded user id, `''` for an anonymous session. */
  readonly owner: string
  /**
   * The save follows a rotation of the session it started on (see {@link SaveResult} `moved`): if the target is
   * not created yet (the rotation is between its two steps), the delta is held and applied when it is.
   */
  readonly forwarded: boolean
}

/** What {@link SessionStore.save} did: `status` says which case it is. */
export type SaveResult =
  /** Written (or held for the target's creation, for a forwarded save). */
  | {
      /** The delta was written (or held). */
      readonly status: 'applied'
    }
  /** The session was signed out, revoked or expired meanwhile: nothing was written. */
  | {
      /** Nothing was written. */
      readonly status: 'gone'
    }
  /** The session was rotated meanwhile and its data carried to `to`: save there (with `owner`). */
  | {
      /** Nothing was written here: follow the data. */
      readonly status: 'moved'
      /** The session the data moved to. */
      readonly to: SessionRef
      /** Its owner: the encoded user id, `''` for an anonymous session. */
      readonly owner: string
    }

/**
 * How long a rotated session's forwarding note, and a forwarded save held for a session not created yet, live:
 * a request still running this long after the session it loaded was rotated loses its write. (The Redis scripts
 * carry the same value as `FORWARD_MS` in lib.lua; a test keeps the two equal.)
 * @internal
 */
export const FORWARD_WINDOW_MS = 60_000

/** The session a rotation moves to, when the data is carried: in-flight saves of the old one follow it. */
export interface Successor {
  /** The new session's id. */
  readonly ref: SessionRef
  /** Its owner: the encoded user id, `''` for an anonymous session. */
  readonly owner: string
}

/** One entry of a user's index, with the metadata fields needed to show it. */
export interface ListedSession {
  /** The session's id. */
  readonly ref: SessionRef
  /** The listed metadata fields (`LISTED_FIELDS`) that the session has. */
  readonly fields: StoredFields
  /** When the store will drop the session unless it is used (epoch ms). */
  readonly expiresAt: number
}

/** Which of a user's sessions {@link SessionStore.revoke} removes: `kind` says which case it is. */
export type RevokeSpec =
  /** Revoke these sessions (by hash), if they belong to the user. */
  | {
      /** Revoke by id. */
      readonly kind: 'ids'
      /** The `hash` part of each session's id ({@link SessionRef.hash}). */
      readonly hashes: readonly string[]
    }
  /** Revoke every session of the user but `exceptHash`, sparing impersonated ones if asked. */
  | {
      /** Revoke all of them (but the exceptions). */
      readonly kind: 'all'
      /** The `hash` of a session to keep (the caller's own). */
      readonly exceptHash?: string | undefined
      /** Keep the sessions an admin opened by impersonation. */
      readonly spareImpersonated: boolean
    }

/** What a cleanup of a user's index did (or, with `dryRun`, would do). */
export interface CleanupResult {
  /** Index entries removed because their session was gone. */
  readonly pruned: number
  /** Live sessions removed because the user had more than the cap. */
  readonly evicted: number
}

/**
 * The storage port of the request path. `RedisStore` and `MemoryStore` implement it; the application only passes
 * one to `createSessionkit`. A store of your own must pass the contract tests both built-in stores pass
 * (`test/stores/store-contract.test.ts`): every check-then-act atomic, lifetimes enforced by the store.
 */
export interface SessionStore {
  /** Loads a session and, when the touch interval has passed, slides its TTL and updates last-seen: one round trip. */
  load(ref: SessionRef, policy: StorePolicy, ipAddress: string | undefined): Promise<LoadResult>
  /** Creates a session (and its index entry, enforcing the per-user cap) in one atomic step. */
  create(spec: CreateSpec, policy: StorePolicy): Promise<CreateResult>
  /**
   * Applies a delta only if the session still exists and still has the target's owner: a save racing a sign-out,
   * revocation or expiry writes nothing (`gone`); one racing a rotation is told where the data went (`moved`).
   */
  save(target: SaveTarget, delta: SessionDelta): Promise<SaveResult>
  /**
   * Atomically deletes a session (and its index entry) and returns its fields, for rotation. Of two concurrent
   * claims of one session, exactly one gets the fields; the other gets `undefined`. With a `successor`, saves
   * still in flight for the old session are forwarded to it for a minute.
   */
  claim(ref: SessionRef, successor: Successor | undefined): Promise<StoredFields | undefined>
  /** Deletes a session and its index entry. Returns whether it existed. */
  destroy(ref: SessionRef): Promise<boolean>
  /** Lists a user's live sessions, pruning stale index entries on the way: one round trip. */
  list(user: UserRef, policy: StorePolicy): Promise<readonly ListedSession[]>
  /** Revokes sessions of one user: never touches another user's session. Returns how many were removed. */
  revoke(user: UserRef, spec: RevokeSpec): Promise<number>
  /** Prunes a user's index and enforces the cap. With `dryRun`, only counts. */
  cleanup(user: UserRef, policy: StorePolicy, dryRun: boolean): Promise<CleanupResult>

  // --- Background reads and per-address limits (GitLab's list_sessions, AnonymousSession) -------------------

  /**
   * Every live session of a user with all its fields, read only (no touch, no pruning): one round trip, however
   * many sessions. Sessions past their absolute deadline or no longer the user's are left out.
   */
  snapshot(user: UserRef, policy: StorePolicy): Promise<readonly SnapshotEntry[]>
  /** One session's fields as a load would see them, read only (no touch). */
  peek(ref: SessionRef, policy: StorePolicy): Promise<PeekResult>
  /**
   * Counts one more anonymous session created from `ip` in the window (which restarts at each count, as GitLab's
   * counter's TTL does). With `max`, refuses (counting nothing) when `max` are already counted.
   */
  countAnonymous(ip: string, limit: AnonymousLimit): Promise<AnonymousCount>
  /** The anonymous sessions counted for `ip` in the current window. */
  anonymousCount(ip: string): Promise<number>
  /** Forgets the count of `ip` (a successful sign-in from it). */
  clearAnonymous(ip: string): Promise<void>
  /**
   * Calls `onExpired` for each session the store itself expires (Redis: keyspace notifications). Resolves with a
   * function that stops watching. Optional: stores without it report no store-side expiry.
   */
  watchExpirations?(onExpired: (ref: SessionRef) => void): Promise<() => Promise<void>>
  /** The number of live sessions, exact or estimated by sampling (cheap: for a metrics gauge). Optional. */
  countSessions?(): Promise<number>
}

/** One session of a {@link SessionStore.snapshot}. */
export interface SnapshotEntry {
  /** The session's id. */
  readonly ref: SessionRef
  /** All of its stored fields. */
  readonly fields: FlatFields
  /** When the store will drop the session unless it is used (epoch ms). */
  readonly expiresAt: number
}

/** What {@link SessionStore.peek} found: `status` says which case it is. */
export type PeekResult =
  /** Live and usable (not touched). */
  | {
      /** The session is live. */
      readonly status: 'found'
      /** All of its stored fields. */
      readonly fields: FlatFields
      /** When the store will drop the session unless it is used (epoch ms). */
      readonly expiresAt: number
    }
  /** No such session. */
  | {
      /** No session. */
      readonly status: 'missing'
    }
  /** Present but unusable: treated as absent, as a load would. */
  | {
      /** The stored session cannot be used. */
      readonly status: 'invalid'
      /** `corrupt` (not what sessionkit writes) or `too_large` (over `policy.maxStoredBytes`). */
      readonly reason: 'corrupt' | 'too_large'
    }

/** The per-address count of anonymous sessions (`maxAnonymousSessionsPerIp`), as the store applies it. */
export interface AnonymousLimit {
  /** Most anonymous sessions counted per address; `undefined` counts without a cap. */
  readonly max: number | undefined
  /** How long a count lives after the latest one, in ms. */
  readonly windowMs: number
}

/** What {@link SessionStore.countAnonymous} did. */
export interface AnonymousCount {
  /** False when the cap was reached: nothing was counted. */
  readonly allowed: boolean
  /** The count after this call. */
  readonly count: number
}
