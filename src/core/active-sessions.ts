/**
 * A user's active sessions (GitLab's `ActiveSession`): list them with their device details, revoke one, all but
 * one, or all, and keep the index tidy. Each operation is one store round trip, whatever the number of sessions,
 * and never touches another user's session.
 *
 * @module
 */
import type { CleanupResult, ListedSession, SessionStore, StorePolicy } from './store.js'
import { decodeStoredPairs, type SessionMeta } from './stored-fields.js'
import { parseSessionId } from './token.js'
import { toUserRef, type UserIdInput } from './user-id.js'

/** A session as listed on the Active Sessions page and by the admin CLI. */
export interface ActiveSession {
  /** The private id: safe to show, can revoke, can never authenticate. */
  readonly id: string
  readonly userId: string
  /** Whether this is the session of the request that asked. */
  readonly current: boolean
  /** Browser name (`Chrome`, `Mobile Safari`...); empty when unknown. */
  readonly browser: string
  /** Operating system (`Windows`, `iOS`...); empty when unknown. */
  readonly os: string
  /** Device type (`desktop`, `smartphone`, `tablet`...); empty when unknown. */
  readonly deviceType: string
  /** Marketing name (`iPhone`, `Galaxy S23 Ultra`); empty when unknown. */
  readonly deviceName: string
  /** The address the session was last seen from; empty when unknown. */
  readonly ipAddress: string
  readonly signedInAt: Date
  readonly lastSeenAt: Date
  /** When the session expires unless used (the idle deadline, capped by the absolute one). */
  readonly expiresAt: Date
  /** The absolute deadline, fixed at sign-in. */
  readonly absoluteExpiresAt: Date
  /** Opened by an admin signing in as the user. */
  readonly impersonated: boolean
  /** The cookie outlives the browser session. */
  readonly rememberMe: boolean
}

/** Options of `revokeAllSessions`. */
export interface RevokeAllOptions {
  /** Also revoke sessions an admin opened while impersonating the user. Default true. */
  readonly includeImpersonated?: boolean
}

export class ActiveSessions {
  readonly #store: SessionStore
  readonly #policy: StorePolicy

  constructor(store: SessionStore, policy: StorePolicy) {
    this.#store = store
    this.#policy = policy
  }

  /** A user's live sessions, newest sign-in first; `currentId` is marked `current`. */
  async list(userId: UserIdInput, currentId?: string): Promise<ActiveSession[]> {
    const user = toUserRef(userId)
    const listed = await this.#store.list(user, this.#policy)
    const out: ActiveSession[] = []
    for (const entry of listed) {
      const decoded = decodeStoredPairs(entry.fields)
      // The store checked the owner; a session whose metadata does not decode is not shown.
      if (decoded?.meta.userId === user.id) out.push(toActiveSession(entry, decoded.meta, currentId))
    }
    return out.sort(newestFirst)
  }

  /** Revokes one session of a user. False (touching nothing) when the id is not one of theirs. */
  async revoke(userId: UserIdInput, id: string): Promise<boolean> {
    const user = toUserRef(userId)
    const ref = parseSessionId(id)
    if (!ref || ref.tag !== user.tag) return false
    return (await this.#store.revoke(user, { kind: 'ids', hashes: [ref.hash] })) > 0
  }

  /** Revokes all of a user's sessions but `currentId`, sparing impersonated ones. Returns how many went. */
  async revokeOthers(userId: UserIdInput, currentId: string | undefined): Promise<number> {
    const user = toUserRef(userId)
    const current = currentId === undefined ? undefined : parseSessionId(currentId)
    return this.#store.revoke(user, { kind: 'all', exceptHash: current?.hash, spareImpersonated: true })
  }

  /** Revokes every session of a user. */
  async revokeAll(userId: UserIdInput, options: RevokeAllOptions = {}): Promise<number> {
    const user = toUserRef(userId)
    return this.#store.revoke(user, { kind: 'all', spareImpersonated: options.includeImpersonated === false })
  }

  /** Prunes a user's index and enforces the per-user cap. */
  async cleanup(userId: UserIdInput, options: { dryRun?: boolean } = {}): Promise<CleanupResult> {
    return this.#store.cleanup(toUserRef(userId), this.#policy, options.dryRun === true)
  }
}

/** A listed entry with its decoded metadata as an {@link ActiveSession} (the admin service lists with it too). */
export function toActiveSession(
  entry: ListedSession,
  meta: SessionMeta,
  currentId: string | undefined,
): ActiveSession {
  return {
    id: entry.ref.id,
    userId: meta.userId ?? '',
    current: entry.ref.id === currentId,
    browser: meta.device?.browser ?? '',
    os: meta.device?.os ?? '',
    deviceType: meta.device?.deviceType ?? '',
    deviceName: meta.device?.deviceName ?? '',
    ipAddress: meta.ipAddress ?? '',
    signedInAt: new Date(meta.signedInAt ?? meta.createdAt),
    lastSeenAt: new Date(meta.lastSeenAt),
    expiresAt: new Date(entry.expiresAt),
    absoluteExpiresAt: new Date(meta.absoluteExpiresAt),
    impersonated: meta.impersonator !== undefined,
    rememberMe: meta.rememberMe,
  }
}

/** Newest sign-in first; then most recently seen; then by id, so equal times list in a stable order. */
export function newestFirst(a: ActiveSession, b: ActiveSession): number {
  return (
    b.signedInAt.getTime() - a.signedInAt.getTime() ||
    b.lastSeenAt.getTime() - a.lastSeenAt.getTime() ||
    (a.id < b.id ? -1 : 1)
  )
}
