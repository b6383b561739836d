/**
 * `Sessionkit` is what an application holds: it opens a request's session from its cookie (for the framework
 * adapters) and offers the user-level operations (list and revoke a user's sessions) to admin code and jobs. It
 * composes the lifecycle (one request's session) and the active-sessions service (a user's sessions) over one
 * store.
 *
 * @module
 */
import { addressBucket } from './address.js'
import { ActiveSessions, type ActiveSession, type RevokeAllOptions } from './active-sessions.js'
import { readSessionCookie } from './cookie.js'
import { preloadDeviceDetector } from './device.js'
import { adoptLegacySession } from './legacy-source.js'
import { InvalidArgumentError } from './errors.js'
import { isEventName, type SessionkitEventName, type SessionkitListener } from './events.js'
import { SessionGuards } from './guards.js'
import { SessionLifecycle } from './lifecycle.js'
import { ObservedStore } from './observed-store.js'
import { resolveOptions, type ResolvedOptions, type SessionkitOptions } from './options.js'
import { Session, type SessionServices } from './session.js'
import { SnapshotReader, type SessionSnapshot } from './snapshots.js'
import type { HttpContext } from './state.js'
import type { CleanupResult, SessionStore } from './store.js'
import { Telemetry } from './telemetry.js'
import type { UserIdInput } from './user-id.js'

/** How long a sample of the number of live sessions (the `sessionkit.sessions.active` gauge) is reused. */
const ACTIVE_SESSIONS_SAMPLE_MS = 30_000

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

/**
 * The session layer of one application. Made by {@link createSessionkit}; the adapters open each request's session
 * with it, and admin code and jobs reach a user's sessions through it.
 *
 * @example
 * ```ts
 * // After a password change: sign the user out everywhere but here.
 * await kit.revokeOtherSessions(user.id, req.session.id)
 * // In a job: what is in their carts?
 * const carts = (await kit.sessionsOf(user.id)).map((snapshot) => snapshot.data.cart)
 * ```
 */
export class Sessionkit {
  /** The options, validated and with defaults applied. */
  readonly options: ResolvedOptions
  readonly #lifecycle: SessionLifecycle
  readonly #activeSessions: ActiveSessions
  /** Shared by every session this instance opens (one object, not one per request). */
  readonly #services: SessionServices
  readonly #telemetry: Telemetry
  readonly #snapshots: SnapshotReader
  readonly #store: SessionStore

  /** @throws {InvalidOptionsError} naming the first invalid option */
  constructor(options: SessionkitOptions) {
    this.options = resolveOptions(options)
    const { policy, cookie, deviceParser, maxSessionBytes, anonymousLimit, unknownSignIn, meter } =
      this.options
    const telemetry = new Telemetry(meter)
    const store = new ObservedStore(this.options.store, telemetry)
    const guards = new SessionGuards({ store, telemetry, anonymousLimit, unknownSignIn })
    this.#lifecycle = new SessionLifecycle({
      store,
      policy,
      cookie,
      deviceParser,
      maxSessionBytes,
      telemetry,
      guards,
    })
    this.#activeSessions = new ActiveSessions(store, policy, telemetry)
    this.#snapshots = new SnapshotReader(store, policy)
    this.#telemetry = telemetry
    this.#store = store
    this.#services = Object.freeze({ lifecycle: this.#lifecycle, activeSessions: this.#activeSessions })
    if (telemetry.metrics) telemetry.metrics.observeActiveSessions(activeSessionsSampler(this.options.store))
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
   * @throws {InvalidUserIdError}
   * @throws {StoreUnavailableError}
   */
  listSessions(userId: UserIdInput, currentId?: string): Promise<ActiveSession[]> {
    return this.#activeSessions.list(userId, currentId)
  }

  /**
   * Revokes one session of a user. Returns false (touching nothing) when the id is not one of theirs.
   *
   * @throws {InvalidUserIdError}
   * @throws {StoreUnavailableError}
   */
  revokeSession(userId: UserIdInput, id: string): Promise<boolean> {
    return this.#activeSessions.revoke(userId, id)
  }

  /**
   * Revokes all of a user's sessions except `currentId`, sparing impersonated sessions (as GitLab's
   * `destroy_all_but_current`). Returns how many were revoked.
   *
   * @param currentId the session to keep (the caller's own `session.id`); `undefined` keeps none
   * @throws {InvalidUserIdError}
   * @throws {StoreUnavailableError}
   */
  revokeOtherSessions(userId: UserIdInput, currentId: string | undefined): Promise<number> {
    return this.#activeSessions.revokeOthers(userId, currentId)
  }

  /**
   * Revokes every session of a user (after a password change, or when the account is disabled), impersonated ones
   * too unless `includeImpersonated: false`. Returns how many were revoked.
   *
   * @throws {InvalidUserIdError}
   * @throws {StoreUnavailableError}
   */
  revokeAllSessions(userId: UserIdInput, options: RevokeAllOptions = {}): Promise<number> {
    return this.#activeSessions.revokeAll(userId, options)
  }

  /**
   * Prunes a user's index (entries whose session is gone) and evicts the least recently active sessions over
   * `maxSessionsPerUser`; with `dryRun`, only counts. Sign-ins and listings do this as they go: call it from a job.
   *
   * @throws {InvalidUserIdError}
   * @throws {StoreUnavailableError}
   */
  cleanupSessions(userId: UserIdInput, options: { dryRun?: boolean } = {}): Promise<CleanupResult> {
    return this.#activeSessions.cleanup(userId, options)
  }

  /**
   * Every live session of a user with its metadata and data, as read-only snapshots, newest sign-in first (GitLab's
   * `ActiveSession.list_sessions`): for jobs and sessionless contexts. One store round trip however many
   * sessions; nothing is touched (no TTL slide, no last-seen update).
   *
   * @example
   * ```ts
   * const carts = (await kit.sessionsOf(userId)).map((s) => s.data.cart).filter(Boolean)
   * ```
   * @throws {InvalidUserIdError}
   * @throws {StoreUnavailableError}
   */
  sessionsOf(userId: UserIdInput): Promise<SessionSnapshot[]> {
    return this.#snapshots.sessionsOf(userId)
  }

  /**
   * One session by its id (`session.id`, as lists show it), as a read-only snapshot; `undefined` when it is gone.
   *
   * @throws {InvalidArgumentError} `publicId` is not a session id (check one with `parseSessionId`)
   * @throws {StoreUnavailableError}
   */
  readSession(publicId: string): Promise<SessionSnapshot | undefined> {
    return this.#snapshots.readSession(publicId)
  }

  /**
   * Whether any live session of the user is in elevated mode (admin mode) now, for sessionless contexts (GitLab's
   * `any_session_with_admin_mode?`). One store round trip.
   *
   * @throws {InvalidUserIdError}
   * @throws {StoreUnavailableError}
   */
  anySessionElevated(userId: UserIdInput): Promise<boolean> {
    return this.#activeSessions.anyElevated(userId)
  }

  /**
   * How many anonymous sessions `ipAddress` created in the counting window (a day after its latest; cleared by a
   * sign-in from it). IPv6 addresses are counted by /64 network (see the README). Compare it with your own threshold to ask for a captcha before `maxAnonymousSessionsPerIp`
   * refuses.
   *
   * @throws {InvalidArgumentError} `ipAddress` is not an IPv4 or IPv6 address
   * @throws {StoreUnavailableError}
   */
  anonymousSessionsFrom(ipAddress: string): Promise<number> {
    const bucket = typeof ipAddress === 'string' ? addressBucket(ipAddress) : undefined
    if (bucket === undefined) {
      return Promise.reject(
        new InvalidArgumentError('ipAddress', 'anonymousSessionsFrom() needs an IPv4 or IPv6 address'),
      )
    }
    return this.#store.anonymousCount(bucket)
  }

  /**
   * Listens to a lifecycle event; returns a function that stops listening. Listeners run synchronously after the
   * operation succeeded; one that throws is reported as a process warning and never fails the operation. The same
   * payloads are published on `node:diagnostics_channel` channels `sessionkit:<event>`.
   *
   * @example
   * ```ts
   * kit.on('signIn', ({ userId, publicId, ipAddress }) => audit.log('sign-in', { userId, publicId, ipAddress }))
   * ```
   * @throws {InvalidArgumentError} an unknown event name or a listener that is not a function
   */
  on<E extends SessionkitEventName>(event: E, listener: SessionkitListener<E>): () => void {
    if (!isEventName(event)) {
      throw new InvalidArgumentError('event', `kit.on(): unknown event ${JSON.stringify(event)}`)
    }
    if (typeof listener !== 'function') {
      throw new InvalidArgumentError('listener', 'kit.on(): the listener must be a function')
    }
    this.#telemetry.on(event, listener)
    return () => {
      this.#telemetry.off(event, listener)
    }
  }

  /** Stops a listener added with {@link Sessionkit.on}. */
  off<E extends SessionkitEventName>(event: E, listener: SessionkitListener<E>): void {
    this.#telemetry.off(event, listener)
  }

  /**
   * Reports the sessions the store expires by itself as `expire` events (`detectedBy: 'store'`): on Redis through
   * keyspace notifications (the server needs `notify-keyspace-events` with `E` and `x`, e.g. `Ex`; one extra
   * connection per master, opened by duplicating your client), on the memory store from its own expiry. Resolves
   * with a function that stops watching and closes those connections.
   *
   * @throws {InvalidArgumentError} the store cannot report expirations
   */
  async watchExpirations(): Promise<() => Promise<void>> {
    const store = this.options.store
    if (!store.watchExpirations) {
      throw new InvalidArgumentError('store', 'this store cannot report expirations (watchExpirations)')
    }
    return store.watchExpirations((ref) => {
      if (this.#telemetry.wants('expire')) {
        this.#telemetry.emit('expire', {
          publicId: ref.id,
          userId: undefined,
          detectedBy: 'store',
          at: new Date(),
        })
      }
    })
  }
}

/**
 * The active-sessions gauge's sampler: the store's count (exact for small stores, estimated above), taken at most
 * every 30 s however often the meter collects. A failed count observes nothing (the failure is a `storeError`
 * only if it went through the observed store, which counting does not: it is not a request's call).
 */
function activeSessionsSampler(store: SessionStore): () => Promise<number | undefined> {
  let last: { value: number; at: number } | undefined
  let pending: Promise<number | undefined> | undefined
  return () => {
    if (!store.countSessions) return Promise.resolve(undefined)
    if (last && Date.now() - last.at < ACTIVE_SESSIONS_SAMPLE_MS) return Promise.resolve(last.value)
    pending ??= store.countSessions().then(
      (value) => {
        last = { value, at: Date.now() }
        pending = undefined
        return value
      },
      () => {
        pending = undefined
        return undefined
      },
    )
    return pending
  }
}
