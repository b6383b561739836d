/**
 * The admin service: what an administrator does with sessions — list a user's, show one, revoke, clean up, and
 * count them all — over a store's two ports. The CLI and the admin view both call it, so a command and a page can
 * never disagree about what a session is or what a revocation touches.
 *
 * Foreign data never fails an operation: a key of another type, a name or a field sessionkit could not have
 * written is reported (`skipped`, or a `foreign` outcome) and left alone.
 *
 * @module
 */
import { Telemetry } from '../core/telemetry.js'
import { ActiveSessions, newestFirst, toActiveSession, type ActiveSession } from '../core/active-sessions.js'
import { InvalidOptionsError } from '../core/errors.js'
import type { Sessionkit } from '../core/sessionkit.js'
import type { CleanupResult, SessionStore, StorePolicy } from '../core/store.js'
import { META, decodeStoredPairs } from '../core/stored-fields.js'
import { parseSessionId, type SessionRef } from '../core/token.js'
import { decodeStoredUserId, toUserRef, type UserIdInput, type UserRef } from '../core/user-id.js'
import { adminStoreOf, type AdminStore, type ForeignKey, type InspectedSession } from './admin-store.js'
import { sessionDetails, type SessionDetails } from './session-details.js'
import { NO_SKIPPED_KEYS, SkippedCollector, type SkippedKeys } from './skipped.js'
import { collectStats, defaultKeyName, type CollectStatsOptions, type SessionStats } from './stats.js'

export interface SessionAdminOptions {
  /** The request-path port: listing, revoking and cleaning up go through the same scripts as the app's. */
  readonly store: SessionStore
  /** The admin port of the same store: inspecting and walking. */
  readonly adminStore: AdminStore
  /** The app's lifetimes and limits (the cleanup cap defaults to its `maxSessionsPerUser`). */
  readonly policy: StorePolicy
  /** The name a skipped session is reported under (its Redis key, for the CLI). Default `session <id>`. */
  readonly keyName?: (ref: SessionRef) => string
}

/** A user's sessions, and the listed entries that were skipped (metadata the library refuses). */
export interface AdminSessionList {
  readonly sessions: readonly ActiveSession[]
  readonly skipped: SkippedKeys
}

export type ShowOutcome =
  | { readonly status: 'found'; readonly session: SessionDetails }
  | { readonly status: 'missing' }
  /** The key exists but is not a session (another type): left alone. */
  | { readonly status: 'foreign'; readonly key: ForeignKey }

export type RevokeSessionOutcome =
  /** `userId` is the owner, `null` for an anonymous session or one whose owner does not decode. */
  | { readonly status: 'revoked'; readonly userId: string | null }
  | { readonly status: 'missing' }
  | { readonly status: 'foreign'; readonly key: ForeignKey }

export type RevokeUserOutcome =
  | { readonly status: 'revoked'; readonly revoked: number }
  /** The session to keep is not one of the user's: nothing was revoked. */
  | { readonly status: 'except-not-theirs' }

export interface CleanupOptions {
  /** Only this user; default every user with an index (SCAN over every master). */
  readonly userId?: UserIdInput | undefined
  /** Count only, write nothing. */
  readonly dryRun?: boolean | undefined
  /** The per-user cap to enforce; default the policy's `maxSessionsPerUser`. */
  readonly maxSessions?: number | undefined
  /** Called every {@link CLEANUP_PROGRESS_EVERY} users and once at the end. */
  readonly onProgress?: ((progress: CleanupProgress) => void) | undefined
}

export interface CleanupProgress {
  /** Users whose index was checked. */
  readonly users: number
  /** Index entries whose session was gone (expired, revoked, signed out). */
  readonly pruned: number
  /** Live sessions over the cap, least recently active first. */
  readonly evicted: number
}

export interface CleanupReport extends CleanupProgress {
  /** True when nothing was written: the counts are what a real run would do. */
  readonly dryRun: boolean
  readonly maxSessions: number
  /** Index keys that are not (another type, an undecodable user id, the wrong slot): left alone. */
  readonly skipped: SkippedKeys
}

/** How often cleanup reports progress, in users. */
export const CLEANUP_PROGRESS_EVERY = 100

/**
 * Administers the sessions of one store.
 *
 * @example
 * ```ts
 * const admin = SessionAdmin.of(kit)
 * const { sessions } = await admin.listSessions('alice')
 * await admin.revokeSession(sessions[0].id)
 * ```
 */
export class SessionAdmin {
  readonly #store: SessionStore
  readonly #admin: AdminStore
  readonly #policy: StorePolicy
  readonly #sessions: ActiveSessions
  readonly #keyName: (ref: SessionRef) => string

  constructor(options: SessionAdminOptions) {
    this.#store = options.store
    this.#admin = options.adminStore
    this.#policy = options.policy
    this.#sessions = new ActiveSessions(options.store, options.policy, new Telemetry(undefined))
    this.#keyName = options.keyName ?? defaultKeyName
  }

  /**
   * The admin service over an app's store and policy.
   *
   * @throws {InvalidOptionsError} the store cannot be inspected or walked (it does not implement `AdminStore`)
   */
  static of(kit: Sessionkit, keyName?: (ref: SessionRef) => string): SessionAdmin {
    const adminStore = adminStoreOf(kit.store)
    if (!adminStore) {
      throw new InvalidOptionsError(
        'the admin tools need a store that can be inspected and scanned (RedisStore, MemoryStore)',
      )
    }
    return new SessionAdmin({ store: kit.store, adminStore, policy: kit.options.policy, keyName })
  }

  /**
   * A user's live sessions, newest sign-in first (impersonated ones included and flagged). An entry whose
   * metadata the library would refuse is skipped and reported.
   *
   * @throws {InvalidUserIdError} for a user id the library refuses
   */
  async listSessions(userId: UserIdInput, currentId?: string): Promise<AdminSessionList> {
    const user = toUserRef(userId)
    const skipped = new SkippedCollector()
    const sessions: ActiveSession[] = []
    for (const entry of await this.#store.list(user, this.#policy)) {
      const decoded = decodeStoredPairs(entry.fields)
      if (decoded?.meta.userId === user.id)
        sessions.push(toActiveSession(entry, decoded, currentId, Date.now()))
      else skipped.add({ key: this.#keyName(entry.ref), reason: 'session metadata missing or malformed' })
    }
    return { sessions: sessions.sort(newestFirst), skipped: skipped.report() }
  }

  /** One session, read without touching it. A malformed id is `missing`. */
  async showSession(id: string): Promise<ShowOutcome> {
    const ref = parseSessionId(id)
    const found = ref && (await this.#admin.inspect(ref))
    if (!ref || !found) return { status: 'missing' }
    if (found.foreign) return { status: 'foreign', key: found.foreign }
    return { status: 'found', session: sessionDetails(ref, found) }
  }

  /**
   * Revokes one session by id, signed-in or anonymous. With `userId`, only if it is that user's. A signed-in
   * session goes with its index entry in one atomic step; an anonymous one (or one whose owner does not decode,
   * which the library treats as absent) is destroyed with whatever index entry names it.
   */
  async revokeSession(id: string, options: { userId?: UserIdInput } = {}): Promise<RevokeSessionOutcome> {
    const ref = parseSessionId(id)
    if (!ref) return { status: 'missing' }
    if (options.userId !== undefined) {
      const userId = toUserRef(options.userId).id
      const revoked = await this.#sessions.revoke(userId, id)
      return revoked ? { status: 'revoked', userId } : { status: 'missing' }
    }
    const found = await this.#admin.inspect(ref)
    if (!found) return { status: 'missing' }
    if (found.foreign) return { status: 'foreign', key: found.foreign }
    const userId = ownerOf(found)
    if (userId !== null && (await this.#sessions.revoke(userId, id))) return { status: 'revoked', userId }
    // Anonymous, or an owner the session's slot does not match (planted): delete it and its index entry.
    return (await this.#store.destroy(ref)) ? { status: 'revoked', userId } : { status: 'missing' }
  }

  /**
   * Revokes every session of a user, impersonated ones too, except `except` (which must be one of theirs).
   *
   * @throws {InvalidUserIdError} for a user id the library refuses
   */
  async revokeUserSessions(
    userId: UserIdInput,
    options: { except?: string } = {},
  ): Promise<RevokeUserOutcome> {
    const user = toUserRef(userId)
    if (options.except === undefined) {
      return { status: 'revoked', revoked: await this.#sessions.revokeAll(user.id) }
    }
    const keep = parseSessionId(options.except)
    // Refuse rather than revoke everything when the session to keep is not this user's.
    if (!keep || !(await this.#owns(user, keep))) return { status: 'except-not-theirs' }
    const revoked = await this.#store.revoke(user, {
      kind: 'all',
      exceptHash: keep.hash,
      spareImpersonated: false,
    })
    return { status: 'revoked', revoked }
  }

  /**
   * Prunes index entries whose session is gone and evicts the least recently active sessions over the cap, for
   * one user or every user. Index keys that are not sessionkit's are skipped and reported, never touched.
   *
   * @throws {InvalidOptionsError} for a cap that is not a positive integer
   * @throws {InvalidUserIdError} for a user id the library refuses
   */
  async cleanup(options: CleanupOptions = {}): Promise<CleanupReport> {
    const maxSessions = options.maxSessions ?? this.#policy.maxSessionsPerUser
    if (!Number.isSafeInteger(maxSessions) || maxSessions < 1) {
      throw new InvalidOptionsError(`maxSessions must be a positive integer, got ${String(maxSessions)}`)
    }
    const dryRun = options.dryRun === true
    const sessions = new ActiveSessions(
      this.#store,
      { ...this.#policy, maxSessionsPerUser: maxSessions },
      new Telemetry(undefined),
    )
    const clean = (userId: string): Promise<CleanupResult> => sessions.cleanup(userId, { dryRun })
    if (options.userId !== undefined) {
      const result = await clean(toUserRef(options.userId).id)
      return { dryRun, maxSessions, users: 1, ...result, skipped: NO_SKIPPED_KEYS }
    }
    const walk = await this.#cleanupAll(clean, options.onProgress)
    return { dryRun, maxSessions, ...walk }
  }

  async #cleanupAll(
    clean: (userId: string) => Promise<CleanupResult>,
    onProgress: ((progress: CleanupProgress) => void) | undefined,
  ): Promise<CleanupProgress & { skipped: SkippedKeys }> {
    const totals = { users: 0, pruned: 0, evicted: 0 }
    const skipped = new SkippedCollector()
    // SCAN may return a key twice: clean each user once, so dry-run counts are exact too.
    const done = new Set<string>()
    await this.#admin.scanUsers(async (batch) => {
      skipped.addAll(batch.foreign)
      for (const userId of batch.users) {
        if (done.has(userId)) continue
        done.add(userId)
        const result = await clean(userId)
        totals.users++
        totals.pruned += result.pruned
        totals.evicted += result.evicted
        if (totals.users % CLEANUP_PROGRESS_EVERY === 0) onProgress?.({ ...totals })
      }
    })
    onProgress?.({ ...totals })
    return { ...totals, skipped: skipped.report() }
  }

  /** Totals and breakdowns over every session (one SCAN walk, metadata only). */
  stats(options: CollectStatsOptions = {}): Promise<SessionStats> {
    return collectStats(this.#admin, { keyName: this.#keyName, ...options })
  }

  async #owns(user: UserRef, ref: SessionRef): Promise<boolean> {
    const found = await this.#admin.inspect(ref)
    return found !== undefined && !found.foreign && rawOwnerOf(found) === user.encoded
  }
}

/** The stored owner field as is. */
function rawOwnerOf(found: InspectedSession): string | undefined {
  return found.fields.find(([name]) => name === META.userId)?.[1]
}

/** The decoded owner; `null` when anonymous or when the stored id does not decode. */
function ownerOf(found: InspectedSession): string | null {
  const encoded = rawOwnerOf(found)
  return (encoded === undefined ? undefined : decodeStoredUserId(encoded)) ?? null
}
