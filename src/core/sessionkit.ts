/**
 * `Sessionkit` ties a store, the lifetimes and the cookie together: it opens a request's session from its
 * cookie, commits what the request changed, signs users in and out, and lists and revokes a user's sessions.
 * Framework adapters (`sessionkit/express`, `sessionkit/fastify`) drive it; jobs and admin code call the
 * user-level methods directly.
 *
 * @module
 */
import { isIP } from 'node:net'
import {
  readSessionCookie,
  serializeClearedCookie,
  serializeSessionCookie,
  type ResolvedCookieOptions,
} from '../http/cookie.js'
import type { CleanupResult, SessionStore, StoredFields, StorePolicy } from '../stores/store.js'
import { preloadDeviceDetector } from './device.js'
import { HeadersSentError, SessionConflictError } from './errors.js'
import {
  META,
  decodeFields,
  decodeLoadedSession,
  encodeDevice,
  type DecodedSession,
  type SessionMeta,
} from './fields.js'
import { resolveOptions, type ResolvedOptions, type SessionkitOptions } from './options.js'
import {
  Session,
  emptyState,
  sessionState,
  type ActiveSession,
  type SessionHost,
  type RequestBinding,
  type SessionState,
  type SignInOptions,
} from './session.js'
import { generateToken, parseSessionId, randomTag, refFromToken, type SessionRef } from './token.js'
import { encodeUserId, normalizeUserId, toUserRef, type UserIdInput, type UserRef } from './user-id.js'

export type { RequestBinding } from './session.js'

/** Options of {@link Sessionkit.revokeAllSessions}. */
export interface RevokeAllOptions {
  /** Also revoke sessions an admin opened while impersonating the user. Default true. */
  readonly includeImpersonated?: boolean
}

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

export class Sessionkit {
  readonly options: ResolvedOptions
  readonly store: SessionStore
  readonly #policy: StorePolicy
  readonly #cookie: ResolvedCookieOptions
  readonly #host: SessionHost

  constructor(options: SessionkitOptions) {
    this.options = resolveOptions(options)
    this.store = this.options.store
    this.#policy = this.options.policy
    this.#cookie = this.options.cookie
    this.#host = {
      signIn: (session, userId, opts) => this.#signIn(session, userId, opts),
      signOut: (session) => this.#signOut(session),
      rotate: (session) => this.#rotate(session),
      listSessions: (session) => this.#listOwn(session),
      revokeSession: (session, id) => this.#revokeOwn(session, id),
      revokeOtherSessions: (session) => this.#revokeOthers(session),
    }
  }

  /** The session cookie's name (with its `__Host-` prefix, if any). */
  get cookieName(): string {
    return this.#cookie.name
  }

  /** Loads the device detector now, so the first sign-in does not wait for it. Adapters call this. */
  warmUp(): void {
    if (this.options.deviceParser) void preloadDeviceDetector().catch(() => undefined)
  }

  /**
   * Opens the session of a request: no store call without a cookie, one (load + throttled touch) with one.
   * A cookie that names no live session never becomes one (strict mode): the next write mints a new token.
   *
   * @throws {StoreUnavailableError} the store failed: the cookie is left alone
   */
  openSession(binding: RequestBinding): Promise<Session> {
    const reading = readSessionCookie(binding.cookieHeader, this.#cookie.name)
    if (reading.kind !== 'token') {
      // Only a malformed cookie is cleared. A well-formed one whose session is gone may be racing a sign-in
      // in another tab: clearing it could delete the fresh cookie that response just set.
      if (reading.kind === 'malformed') binding.setCookie(serializeClearedCookie(this.#cookie))
      return Promise.resolve(this.#bind(emptyState(binding)))
    }
    const ref = refFromToken(reading.token)
    return this.store.load(ref, this.#policy, clientIp(binding)).then((result) => {
      const decoded = result.status === 'found' ? decodeLoadedSession(result.fields) : undefined
      return this.#bind(decoded ? stateFromStore(ref, decoded, binding) : emptyState(binding))
    })
  }

  /**
   * Writes what the request changed: only the changed keys, and only if the session still exists (a save racing
   * a sign-out or revocation writes nothing). Creates the session, and sets its cookie, on the first write.
   *
   * @throws {StoreUnavailableError}
   * @throws {HeadersSentError} a new session could not get its cookie because the headers were sent
   */
  commit(session: Session): Promise<void> {
    const state = session[sessionState]
    if (state.changes.size === 0) return Promise.resolve()
    if (!state.ref) return this.#createOnCommit(state)
    const set: [string, string][] = []
    const del: string[] = []
    for (const [field, json] of state.changes) {
      if (json === undefined) del.push(field)
      else set.push([field, json])
    }
    state.changes.clear()
    // Not async: this runs on every request that changed its session, and an async frame costs a promise.
    try {
      return this.store.save(state.ref, state.user, { set, del }).then(toVoid)
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
  }

  /** The first write of a session that is not stored yet: creates it and sets its cookie. */
  async #createOnCommit(state: SessionState): Promise<void> {
    const binding = state.binding
    state.changes.clear()
    if (state.values.size === 0 || !binding) return
    if (binding.headersSent()) throw new HeadersSentError('create a session')
    const token = generateToken(randomTag())
    const ref = refFromToken(token)
    const created = await this.store.create({ ref, user: undefined, fields: [...state.values] }, this.#policy)
    binding.setCookie(serializeSessionCookie(this.#cookie, token))
    state.ref = ref
    state.meta = newMeta(created.now, created.absoluteExpiresAt, undefined, [])
  }

  /**
   * Lists a user's live sessions, newest sign-in first: one store round trip whatever their number.
   *
   * @param currentId the private id to mark `current`
   */
  async listSessions(userId: UserIdInput, currentId?: string): Promise<ActiveSession[]> {
    const user = toUserRef(userId)
    const { sessions } = await this.store.list(user, this.#policy)
    const out: ActiveSession[] = []
    for (const listed of sessions) {
      const decoded = decodeFields(listed.fields)
      if (!decoded) continue
      out.push(
        toActiveSession(user.id, listed.ref, decoded.meta, listed.expiresAt, listed.ref.id === currentId),
      )
    }
    return out.sort(
      (a, b) =>
        b.signedInAt.getTime() - a.signedInAt.getTime() ||
        b.lastSeenAt.getTime() - a.lastSeenAt.getTime() ||
        (a.id < b.id ? -1 : 1),
    )
  }

  /** Revokes one session of a user. Returns false (touching nothing) when the id is not one of theirs. */
  async revokeSession(userId: UserIdInput, id: string): Promise<boolean> {
    const user = toUserRef(userId)
    const ref = parseSessionId(id)
    if (!ref || ref.tag !== user.tag) return false
    return (await this.store.revoke(user, { kind: 'ids', hashes: [ref.hash] })) > 0
  }

  /**
   * Revokes all of a user's sessions except `currentId`, sparing impersonated sessions (as GitLab's
   * `destroy_all_but_current`). Returns how many were revoked.
   */
  async revokeOtherSessions(userId: UserIdInput, currentId: string | undefined): Promise<number> {
    const user = toUserRef(userId)
    const current = currentId === undefined ? undefined : parseSessionId(currentId)
    return this.store.revoke(user, { kind: 'all', exceptHash: current?.hash, spareImpersonated: true })
  }

  /** Revokes every session of a user (after a password change, or when the account is disabled). */
  async revokeAllSessions(userId: UserIdInput, options: RevokeAllOptions = {}): Promise<number> {
    const user = toUserRef(userId)
    return this.store.revoke(user, { kind: 'all', spareImpersonated: options.includeImpersonated === false })
  }

  /** Prunes a user's index and enforces the per-user cap. */
  async cleanupSessions(userId: UserIdInput, options: { dryRun?: boolean } = {}): Promise<CleanupResult> {
    return this.store.cleanup(toUserRef(userId), this.#policy, options.dryRun === true)
  }

  #bind(state: SessionState): Session {
    return new Session(state, this.#host, this.options.maxSessionBytes)
  }

  #binding(session: Session): RequestBinding {
    const binding = session[sessionState].binding
    if (!binding) throw new Error('sessionkit: this session is not bound to a request')
    return binding
  }

  async #signIn(session: Session, userIdInput: UserIdInput, options: SignInOptions): Promise<void> {
    const binding = this.#binding(session)
    const user = toUserRef(userIdInput)
    const impersonator =
      options.impersonator === undefined ? undefined : normalizeUserId(options.impersonator)
    const parser = this.options.deviceParser
    const device = parser ? await parser(binding.userAgent ?? '') : undefined
    const state = session[sessionState]
    // Checked before the claim too: claiming first would sign the user out and leave no cookie to replace it.
    if (binding.headersSent()) throw new HeadersSentError('sign in')
    const values = state.ref ? await this.#claimOrConflict(state) : new Map(state.values)
    if (binding.headersSent()) throw new HeadersSentError('sign in')
    const extra: [string, string][] = []
    const ipAddress = clientIp(binding)
    if (ipAddress !== undefined) extra.push([META.ip, ipAddress])
    if (device) extra.push([META.device, encodeDevice(device)])
    if (impersonator !== undefined) extra.push([META.impersonator, encodeUserId(impersonator)])
    if (options.rememberMe === true) extra.push([META.rememberMe, '1'])
    const token = generateToken(user.tag)
    const ref = refFromToken(token)
    const created = await this.store.create(
      { ref, user, fields: [...values, ...extra], createdAt: state.meta?.createdAt },
      this.#policy,
    )
    binding.setCookie(
      serializeSessionCookie(
        this.#cookie,
        token,
        options.rememberMe === true ? created.absoluteExpiresAt : undefined,
        created.now,
      ),
    )
    replaceState(
      state,
      ref,
      user,
      values,
      newMeta(created.now, created.absoluteExpiresAt, created.now, [...extra, [META.user, user.encoded]]),
    )
  }

  async #signOut(session: Session): Promise<void> {
    const binding = this.#binding(session)
    const state = session[sessionState]
    if (state.ref) await this.store.destroy(state.ref)
    // Past the headers the cookie stays, but it names nothing any more and is cleared on its next request.
    if (!binding.headersSent()) binding.setCookie(serializeClearedCookie(this.#cookie))
    replaceState(state, undefined, undefined, new Map(), undefined)
  }

  async #rotate(session: Session): Promise<void> {
    const binding = this.#binding(session)
    const state = session[sessionState]
    const { ref: oldRef, meta } = state
    if (!oldRef || !meta) return
    if (binding.headersSent()) throw new HeadersSentError('rotate the session')
    const claimed = await this.store.claim(oldRef)
    if (!claimed) throw conflict()
    const values = mergeClaimed(claimed, state)
    const carried = claimed.filter(([name]) =>
      [META.ip, META.device, META.impersonator, META.rememberMe].includes(name as never),
    )
    const token = generateToken(oldRef.tag)
    const ref = refFromToken(token)
    const created = await this.store.create(
      {
        ref,
        user: state.user,
        fields: [...values, ...carried],
        createdAt: meta.createdAt,
        keepDeadline: { signedInAt: meta.signedInAt, absoluteExpiresAt: meta.absoluteExpiresAt },
      },
      this.#policy,
    )
    if (!created.created) {
      binding.setCookie(serializeClearedCookie(this.#cookie))
      replaceState(state, undefined, undefined, new Map(), undefined)
      return
    }
    binding.setCookie(
      serializeSessionCookie(
        this.#cookie,
        token,
        meta.rememberMe ? meta.absoluteExpiresAt : undefined,
        created.now,
      ),
    )
    replaceState(state, ref, state.user, values, { ...meta, lastSeenAt: created.now })
  }

  async #claimOrConflict(state: SessionState): Promise<Map<string, string>> {
    const claimed = state.ref ? await this.store.claim(state.ref) : undefined
    if (!claimed) throw conflict()
    return mergeClaimed(claimed, state)
  }

  #listOwn(session: Session): Promise<ActiveSession[]> {
    const state = session[sessionState]
    return state.user ? this.listSessions(state.user.id, state.ref?.id) : Promise.resolve([])
  }

  #revokeOwn(session: Session, id: string): Promise<boolean> {
    const user = session[sessionState].user
    return user ? this.revokeSession(user.id, id) : Promise.resolve(false)
  }

  #revokeOthers(session: Session): Promise<number> {
    const state = session[sessionState]
    return state.user ? this.revokeOtherSessions(state.user.id, state.ref?.id) : Promise.resolve(0)
  }
}

function conflict(): SessionConflictError {
  return new SessionConflictError('the session was signed out, revoked or rotated by a concurrent request')
}

function stateFromStore(ref: SessionRef, decoded: DecodedSession, binding: RequestBinding): SessionState {
  const { userId } = decoded.meta
  const encoded = decoded.encodedUserId
  // A signed-in session lives in its user's slot, so the ref's tag is the user's: no need to hash the id again.
  const user: UserRef | undefined =
    userId === undefined || encoded === undefined ? undefined : { id: userId, encoded, tag: ref.tag }
  return {
    binding,
    ref,
    user,
    meta: decoded.meta,
    values: decoded.values,
    changes: new Map(),
    size: undefined,
  }
}

/** The request's client address, if it is one: whatever a proxy header said otherwise is not stored. */
function clientIp(binding: RequestBinding): string | undefined {
  const ip = binding.ipAddress
  return ip !== undefined && isIP(ip) !== 0 ? ip : undefined
}

/** The data of a claimed session, with this request's own changes on top (so neither side's writes are lost). */
function mergeClaimed(claimed: StoredFields, state: SessionState): Map<string, string> {
  const values = new Map<string, string>()
  for (const [name, value] of claimed) if (!name.startsWith('_')) values.set(name, value)
  for (const [name, json] of state.changes) {
    if (json === undefined) values.delete(name)
    else values.set(name, json)
  }
  return values
}

function replaceState(
  state: SessionState,
  ref: SessionRef | undefined,
  user: UserRef | undefined,
  values: Map<string, string>,
  meta: SessionMeta | undefined,
): void {
  state.ref = ref
  state.user = user
  state.meta = meta
  state.values.clear()
  for (const [field, json] of values) state.values.set(field, json)
  state.size = undefined
  state.changes.clear()
}

function newMeta(
  now: number,
  absoluteExpiresAt: number,
  signedInAt: number | undefined,
  extra: ReadonlyArray<readonly [string, string]>,
): SessionMeta {
  const decoded = decodeFields([
    [META.createdAt, String(now)],
    [META.lastSeen, String(now)],
    [META.absoluteDeadline, String(absoluteExpiresAt)],
    ...(signedInAt === undefined ? [] : [[META.signedInAt, String(signedInAt)] as const]),
    ...extra,
  ])
  if (!decoded) throw new Error('sessionkit: inconsistent session metadata')
  return decoded.meta
}

function toActiveSession(
  userId: string,
  ref: SessionRef,
  meta: SessionMeta,
  expiresAt: number,
  current: boolean,
): ActiveSession {
  return {
    id: ref.id,
    userId,
    current,
    browser: meta.device?.browser ?? '',
    os: meta.device?.os ?? '',
    deviceType: meta.device?.deviceType ?? '',
    deviceName: meta.device?.deviceName ?? '',
    ipAddress: meta.ipAddress ?? '',
    signedInAt: new Date(meta.signedInAt ?? meta.createdAt),
    lastSeenAt: new Date(meta.lastSeenAt),
    expiresAt: new Date(expiresAt),
    absoluteExpiresAt: new Date(meta.absoluteExpiresAt),
    impersonated: meta.impersonator !== undefined,
    rememberMe: meta.rememberMe,
  }
}

/** Drops a save's "applied" flag: a save that lost to a sign-out or revocation is not the request's error. */
function toVoid(): void {
  return undefined
}
