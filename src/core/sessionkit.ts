/**
 * `Sessionkit` is what an application holds: it opens a request's session from its cookie (for the framework
 * adapters) and offers the user-level operations (list and revoke a user's sessions) to admin code and jobs. It
 * composes the lifecycle (one request's session) and the active-sessions service (a user's sessions) over one
 * store.
 *
 * @module
 */
import { ActiveSessions, type ActiveSession, type RevokeAllOptions } from './active-sessions.js'
import { readSessionCookie } from './cookie.js'
import { preloadDeviceDetector } from './device.js'
import { adoptLegacySession } from './legacy-source.js'
import { SessionLifecycle } from './lifecycle.js'
import { resolveOptions, type ResolvedOptions, type SessionkitOptions } from './options.js'
import { Session, type SessionServices } from './session.js'
import type { HttpContext } from './state.js'
import type { CleanupResult, SessionStore } from './store.js'
import type { UserIdInput } from './user-id.js'

/**
 * Creates the session layer.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * import { createSessionkit, RedisStore } from 'sessionkit'
 *
 * const client = await createClient({ url: process.env.REDIS_URL }).connect()
 * export const sessions = createSessionkit({ store: new RedisStore({ client }) })
 * ```
 * @throws {InvalidOptionsError} naming the first invalid option
 */
export function createSessionkit(options: SessionkitOptions): Sessionkit {
  return new Sessionkit(options)
}

/** The session layer of one application. Made by {@link createSessionkit}. */
export class Sessionkit {
  /** The options, validated and with defaults applied. */
  readonly options: ResolvedOptions
  readonly #lifecycle: SessionLifecycle
  readonly #activeSessions: ActiveSessions
  /** Shared by every session this instance opens (one object, not one per request). */
  readonly #services: SessionServices

  /** @throws {InvalidOptionsError} naming the first invalid option */
  constructor(options: SessionkitOptions) {
    this.options = resolveOptions(options)
    const { store, policy, cookie, deviceParser, maxSessionBytes } = this.options
    this.#lifecycle = new SessionLifecycle({ store, policy, cookie, deviceParser, maxSessionBytes })
    this.#activeSessions = new ActiveSessions(store, policy)
    this.#services = Object.freeze({ lifecycle: this.#lifecycle, activeSessions: this.#activeSessions })
  }

  /** The store sessions live in. */
  get store(): SessionStore {
    return this.options.store
  }

  /** The session cookie's name (with its `__Host-` prefix, if any). */
  get cookieName(): string {
    return this.options.cookie.name
  }

  /** Loads the device detector now, so the first sign-in does not wait for it. Adapters call this. */
  warmUp(): void {
    if (this.options.deviceParser) void preloadDeviceDetector().catch(() => undefined)
  }

  /**
   * Opens the session of a request: no store call without a cookie, one (load + throttled touch) with one. A
   * cookie that names no live session never becomes one (strict mode). Adapters call it; a custom integration
   * calls it once per request, then `session.commit()` before the response when `session.isDirty`.
   *
   * @throws {StoreUnavailableError} the store failed: the cookie is left alone
   */
  openSession(http: HttpContext): Promise<Session> {
    const opening = this.#lifecycle.open(http).then((state) => new Session(state, this.#services))
    return this.options.migrateFrom === undefined ? opening : opening.then((s) => this.#migrate(s, http))
  }

  /** A request with the legacy library's cookie and no sessionkit cookie adopts the legacy session. */
  #migrate(session: Session, http: HttpContext): Promise<Session> | Session {
    const source = this.options.migrateFrom
    const header = http.cookieHeader
    if (
      source === undefined ||
      header === undefined ||
      !session.isNew ||
      !header.includes(source.cookieName) ||
      readSessionCookie(header, this.cookieName).kind === 'token'
    ) {
      return session
    }
    return adoptLegacySession(session, source, http, header)
  }

  /**
   * Lists a user's live sessions, newest sign-in first: one store round trip whatever their number.
   *
   * @param currentId the private id to mark `current`
   */
  listSessions(userId: UserIdInput, currentId?: string): Promise<ActiveSession[]> {
    return this.#activeSessions.list(userId, currentId)
  }

  /** Revokes one session of a user. Returns false (touching nothing) when the id is not one of theirs. */
  revokeSession(userId: UserIdInput, id: string): Promise<boolean> {
    return this.#activeSessions.revoke(userId, id)
  }

  /**
   * Revokes all of a user's sessions except `currentId`, sparing impersonated sessions (as GitLab's
   * `destroy_all_but_current`). Returns how many were revoked.
   */
  revokeOtherSessions(userId: UserIdInput, currentId: string | undefined): Promise<number> {
    return this.#activeSessions.revokeOthers(userId, currentId)
  }

  /** Revokes every session of a user (after a password change, or when the account is disabled). */
  revokeAllSessions(userId: UserIdInput, options: RevokeAllOptions = {}): Promise<number> {
    return this.#activeSessions.revokeAll(userId, options)
  }

  /** Prunes a user's index and enforces the per-user cap. */
  cleanupSessions(userId: UserIdInput, options: { dryRun?: boolean } = {}): Promise<CleanupResult> {
    return this.#activeSessions.cleanup(userId, options)
  }
}
