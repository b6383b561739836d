/**
 * A user's active sessions (GitLab's `ActiveSession`): list them with their device details, revoke one, all but
 * one, or all, and keep the index tidy. Each operation is one store round trip, whatever the number of sessions,
 * and never touches another user's session.
 *
 * @module
 */
import { elevatedUntil } from './elevation.js'
import type { RevokeEvent } from './events.js'
import type { CleanupResult, ListedSession, SessionStore, StorePolicy } from './store.js'
import { ELEVATION_FIELD, decodeStoredPairs, type DecodedSession } from './stored-fields.js'
import type { Telemetry } from './telemetry.js'
import { parseSessionId } from './token.js'
import { toUserRef, type UserIdInput } from './user-id.js'

/** A session as listed on the Active Sessions page and by the admin CLI. */
export interface ActiveSession {
  /** The private id: safe to show, can revoke, can never authenticate. */
  readonly id: string
  /** The signed-in user. */
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
  /** When the user signed in on this session. */
  readonly signedInAt: Date
  /** The last request that touched the session (updated at most once per `touchIntervalMs`). */
  readonly lastSeenAt: Date
  /** When the session expires unless used (the idle deadline, capped by the absolute one). */
  readonly expiresAt: Date
  /** The absolute deadline, fixed at sign-in. */
  readonly absoluteExpiresAt: Date
  /** Opened by an admin signing in as the user. */
  readonly impersonated: boolean
  /** The cookie outlives the browser session. */
  readonly rememberMe: boolean
  /** In elevated mode (admin mode) now: shown as "with admin mode". */
  readonly elevated: boolean
}

/** Options of `revokeAllSessions`. */
export interface RevokeAllOptions {
  /** Also revoke sessions an admin opened while impersonating the user. Default true. */
  readonly includeImpersonated?: boolean
}

export class ActiveSessions {
  readonly #store: SessionStore
  readonly #policy: StorePolicy
  readonly #telemetry: Telemetry

  constructor(store: SessionStore, policy: StorePolicy, telemetry: Telemetry) {
    this.#store = store
    this.#policy = policy
    this.#telemetry = telemetry
  }

  /** A user's live sessions, newest sign-in first; `currentId` is marked `current`. */
  async list(userId: UserIdInput, currentId?: string): Promise<ActiveSession[]> {
    const user = toUserRef(userId)
    const listed = await this.#store.list(user, this.#policy)
    const out: ActiveSession[] = []
    const now = Date.now()
    for (const entry of listed) {
      const decoded = decodeStoredPairs(entry.fields)
      // The store checked the owner; a session whose metadata does not decode is not shown.
      if (decoded?.meta.userId === user.id) out.push(toActiveSession(entry, decoded, currentId, now))
    }
    return out.sort(newestFirst)
  }

  /**
   * Whether any live session of the user is in elevated mode now (GitLab's `any_session_with_admin_mode?`): one
   * round trip, for sessionless contexts.
   */
  async anyElevated(userId: UserIdInput): Promise<boolean> {
    return (await this.list(userId)).some((session) => session.elevated)
  }

  /** Revokes one session of a user. False (touching nothing) when the id is not one of theirs. */
  async revoke(userId: UserIdInput, id: string): Promise<boolean> {
    const user = toUserRef(userId)
    const ref = parseSessionId(id)
    if (!ref || ref.tag !== user.tag) return false
    const revoked = await this.#store.revoke(user, { kind: 'ids', hashes: [ref.hash] })
    this.#revoked(user.id, 'one', ref.id, revoked)
    return revoked > 0
  }

  /** Revokes all of a user's sessions but `currentId`, sparing impersonated ones. Returns how many went. */
  async revokeOthers(userId: UserIdInput, currentId: string | undefined): Promise<number> {
    const user = toUserRef(userId)
    const current = currentId === undefined ? undefined : parseSessionId(currentId)
    const revoked = await this.#store.revoke(user, {
      kind: 'all',
      exceptHash: current?.hash,
      spareImpersonated: true,
    })
    this.#revoked(user.id, 'others', undefined, revoked)
    return revoked
  }

  /** Revokes every session of a user. */
  async revokeAll(userId: UserIdInput, options: RevokeAllOptions = {}): Promise<number> {
    const user = toUserRef(userId)
    const revoked = await this.#store.revoke(user, {
      kind: 'all',
      spareImpersonated: options.includeImpersonated === false,
    })
    this.#revoked(user.id, 'all', undefined, revoked)
    return revoked
  }

  /** Prunes a user's index and enforces the per-user cap. */
  async cleanup(userId: UserIdInput, options: { dryRun?: boolean } = {}): Promise<CleanupResult> {
    const user = toUserRef(userId)
    const dryRun = options.dryRun === true
    const result = await this.#store.cleanup(user, this.#policy, dryRun)
    if (!dryRun && result.evicted > 0 && this.#telemetry.wants('evict')) {
      this.#telemetry.emit('evict', {
        userId: user.id,
        count: result.evicted,
        reason: 'cleanup',
        at: new Date(),
      })
    }
    return result
  }

  #revoked(userId: string, scope: RevokeEvent['scope'], publicId: string | undefined, count: number): void {
    if (count > 0 && this.#telemetry.wants('revoke')) {
      this.#telemetry.emit('revoke', { userId, scope, publicId, count, at: new Date() })
    }
  }
}

/** A listed entry with its decoded metadata as an {@link ActiveSession} (the admin service lists with it too). */
export function toActiveSession(
  entry: ListedSession,
  decoded: DecodedSession,
  currentId: string | undefined,
  now: number,
): ActiveSession {
  const meta = decoded.meta
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
    elevated: elevatedUntil(decoded.values.get(ELEVATION_FIELD), now) !== undefined,
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
