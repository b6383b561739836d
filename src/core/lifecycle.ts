/**
 * The one owner of a session's lifecycle: open (from the cookie), commit (the changed fields), sign in, rotate
 * and sign out. Sign-in and rotation are one "reissue": claim the old session, create the new one under a fresh
 * token, set its cookie. Nothing else changes a session's stored side or its cookie.
 *
 * @module
 */
import { isIP } from 'node:net'
import {
  readSessionCookie,
  serializeClearedCookie,
  serializeSessionCookie,
  tossedCookieScopes,
  type ResolvedCookieOptions,
} from './cookie.js'
import { encodeDevice, type DeviceInfo, type DeviceParser } from './device.js'
import { HeadersSentError, SessionConflictError, TooManyIpsError } from './errors.js'
import type { SessionGuards } from './guards.js'
import {
  AUTHENTICATION_NAMESPACES,
  CARRIED_FIELDS,
  META,
  decodeLoadedSession,
  decodeStoredPairs,
  namespacePrefix,
  type SessionMeta,
} from './stored-fields.js'
import { SessionState, type HttpContext } from './state.js'
import type {
  CreateResult,
  Successor,
  CreateSpec,
  LoadResult,
  SaveResult,
  SessionDelta,
  SessionStore,
  StoredFields,
  StorePolicy,
} from './store.js'
import type { Telemetry } from './telemetry.js'
import { generateToken, randomTag, refFromToken, tagForUser, type SessionRef } from './token.js'
import {
  decodeStoredUserId,
  encodeUserId,
  normalizeUserId,
  toUserRef,
  type UserIdInput,
  type UserRef,
} from './user-id.js'

/** Options of `session.signIn()`. */
export interface SignInOptions {
  /** Make the cookie outlive the browser session (until the absolute deadline). Default false. */
  readonly rememberMe?: boolean
  /**
   * The id of an admin signing in as this user. The session is flagged as impersonated: it is hidden from the
   * user's Active Sessions page and spared by "revoke all other sessions", as in GitLab.
   */
  readonly impersonator?: UserIdInput
}

/** What the lifecycle needs, resolved once by `createSessionkit`. */
export interface LifecycleConfig {
  readonly store: SessionStore
  readonly policy: StorePolicy
  readonly cookie: ResolvedCookieOptions
  readonly deviceParser: DeviceParser | undefined
  readonly maxSessionBytes: number
  readonly telemetry: Telemetry
  readonly guards: SessionGuards
}

/** What a reissue writes: the new session's data, metadata and kept times. */
interface Reissue {
  readonly values: ReadonlyMap<string, string>
  readonly meta: StoredFields
  readonly createdAt?: number | undefined
  readonly signedInAt?: number | undefined
  readonly absoluteExpiresAt?: number | undefined
  readonly rememberMe: boolean
  /** What the store checks at a sign-in (known IP, distinct-address limit). */
  readonly checks?: Pick<CreateSpec, 'ipAddress' | 'checkKnownIp' | 'limitIps'>
}

/** A reissue that created its session: the store's answer, and what the claim returned. */
interface Reissued {
  readonly created: CreateResult
  readonly claimed: StoredFields
  readonly ref: SessionRef
}

const NO_VALUES: ReadonlyMap<string, string> = new Map()
/** Rotations a save follows before it gives up with a conflict. */
const MAX_FORWARDS = 3

export class SessionLifecycle {
  readonly #store: SessionStore
  readonly #policy: StorePolicy
  readonly #cookie: ResolvedCookieOptions
  readonly #deviceParser: DeviceParser | undefined
  readonly #maxBytes: number
  readonly #telemetry: Telemetry
  readonly #guards: SessionGuards
  #warnedPlainHttp = false

  constructor(config: LifecycleConfig) {
    this.#store = config.store
    this.#policy = config.policy
    this.#cookie = config.cookie
    this.#deviceParser = config.deviceParser
    this.#maxBytes = config.maxSessionBytes
    this.#telemetry = config.telemetry
    this.#guards = config.guards
  }

  /**
   * Opens the session of a request: no store call without a cookie, one (load + throttled touch) with one. A
   * cookie that names no live session never becomes one (strict mode): the next write mints a new token.
   *
   * @throws {StoreUnavailableError} the store failed: the cookie is left alone
   */
  open(http: HttpContext): Promise<SessionState> {
    const reading = readSessionCookie(http.cookieHeader, this.#cookie.name)
    if (reading.kind !== 'token') {
      // Only a malformed cookie is cleared. A well-formed one whose session is gone may be racing a sign-in in
      // another tab: clearing it could delete the fresh cookie that response just set.
      if (reading.kind === 'malformed') this.#setCookie(http, serializeClearedCookie(this.#cookie))
      else if (reading.kind === 'ambiguous') this.#clearTossedCookies(http)
      return Promise.resolve(new SessionState(http, this.#maxBytes))
    }
    const ref = refFromToken(reading.token)
    return this.#store.load(ref, this.#policy, clientIp(http)).then((result) => {
      if (result.status !== 'found') this.#notFound(ref, result)
      const decoded = result.status === 'found' ? decodeLoadedSession(result.fields) : undefined
      if (!decoded) return new SessionState(http, this.#maxBytes)
      const { userId } = decoded.meta
      const encoded = decoded.encodedUserId
      let user: UserRef | undefined
      if (userId !== undefined && encoded !== undefined) {
        // A signed-in session lives in its user's slot. One under another slot was planted there: revoke-all
        // (which works in the user's slot) could never reach it, so it is no session.
        if (tagForUser(userId) !== ref.tag) return new SessionState(http, this.#maxBytes)
        user = { id: userId, encoded, tag: ref.tag }
      }
      return new SessionState(http, this.#maxBytes, { ref, user, meta: decoded.meta }, decoded.values)
    })
  }

  /**
   * Called when a session gets its first unsaved change. A session that is not stored yet gets its token now,
   * and its cookie while the headers can still carry it (a streamed response flushes them at its first write);
   * the store learns about it at the commit.
   */
  changed(state: SessionState): void {
    const http = state.http
    if (!http) return
    if (state.ref === undefined && state.pendingToken === undefined && !http.headersSent()) {
      const token = generateToken(randomTag())
      state.pendingToken = token
      this.#setCookie(http, serializeSessionCookie(this.#cookie, token))
    }
    http.sessionChanged?.()
  }

  /**
   * Writes what the request changed: only the changed keys, and only if the session still exists (a save racing a
   * sign-out or revocation writes nothing). Creates the session on the first write.
   *
   * @throws {StoreUnavailableError}
   * @throws {HeadersSentError} a new session could not get its cookie because the headers were sent first
   */
  commit(state: SessionState): Promise<void> {
    if (!state.isDirty) return Promise.resolve()
    const ref = state.ref
    if (!ref) return this.#create(state)
    const delta = state.takeDelta()
    // Not async: this runs on every request that changed its session, and an async frame costs a promise.
    try {
      const target = { ref, owner: state.user?.encoded ?? '', forwarded: false }
      return this.#store.save(target, delta).then((result) => this.#follow(result, delta, 1))
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
  }

  /**
   * A save that lost to a sign-out, revocation or expiry is not the request's error: the session is gone, as if
   * the save had come just before. One that lost to a rotation follows the data to the new session, so it is
   * not lost (a few hops at most: each rotation of an in-flight request's session adds one).
   */
  #follow(result: SaveResult, delta: SessionDelta, hops: number): Promise<void> | undefined {
    if (result.status !== 'moved') return undefined
    if (hops > MAX_FORWARDS) return Promise.reject(conflict())
    const target = { ref: result.to, owner: result.owner, forwarded: true }
    return this.#store.save(target, delta).then((next) => this.#follow(next, delta, hops + 1))
  }

  /**
   * The first write of a session that is not stored yet. When nothing ends up stored (set, then deleted; or the
   * store failed), the cookie `changed()` put on the response is withdrawn, so no cookie names nothing.
   */
  async #create(state: SessionState): Promise<void> {
    state.takeDelta()
    const token = state.pendingToken
    const values = state.valueFields()
    if (token === undefined) {
      if (values.length > 0) throw new HeadersSentError('create a session')
      return
    }
    const http = requireHttp(state)
    if (values.length === 0) {
      this.#withdrawCookie(state, http)
      return
    }
    const ref = refFromToken(token)
    let created: CreateResult
    try {
      const admitting = this.#guards.admitAnonymous(clientIp(http))
      if (admitting) await admitting
      created = await this.#store.create({ ref, user: undefined, fields: values }, this.#policy)
    } catch (error) {
      this.#withdrawCookie(state, http)
      throw error
    }
    state.markCreated({
      ref,
      user: undefined,
      meta: newMeta(created.now, created.absoluteExpiresAt, undefined, []),
    })
  }

  #withdrawCookie(state: SessionState, http: HttpContext): void {
    state.pendingToken = undefined
    if (!http.headersSent()) http.setCookie(undefined)
  }

  /**
   * Signs `userId` in: a new token (the old one is dead at once), the user bound, this device recorded. The data
   * is carried over when an anonymous visitor signs in or the same user signs in again, except sessionkit's own
   * namespace (the CSRF token); when another user signs in on this session, nothing is carried.
   */
  async signIn(state: SessionState, userIdInput: UserIdInput, options: SignInOptions): Promise<void> {
    const http = requireHttp(state)
    const user = toUserRef(userIdInput)
    const impersonator =
      options.impersonator === undefined ? undefined : encodeUserId(normalizeUserId(options.impersonator))
    const device = this.#deviceParser ? await this.#deviceParser(http.userAgent ?? '') : undefined
    const meta: [string, string][] = []
    const ipAddress = clientIp(http)
    if (ipAddress !== undefined) meta.push([META.ipAddress, ipAddress])
    if (device) meta.push([META.device, encodeDevice(device)])
    if (impersonator !== undefined) meta.push([META.impersonator, impersonator])
    if (options.rememberMe === true) meta.push([META.rememberMe, '1'])
    const sameOwner = state.user === undefined || state.user.id === user.id
    const createdAt = sameOwner ? state.meta?.createdAt : undefined
    const previousId = state.ref?.id
    // An impersonation is the admin's doing: it neither clears the address's count nor counts as the user's device.
    const own = impersonator === undefined
    const clearing = own ? this.#guards.clearAnonymous(ipAddress) : undefined
    const checks = { ipAddress, checkKnownIp: own && this.#guards.detectsUnknownSignIns, limitIps: own }
    const reissued = await this.#reissue(
      state,
      'sign in',
      { user, tag: user.tag, carry: sameOwner },
      (values) => ({
        values: withoutAuthenticationNamespaces(values),
        meta,
        createdAt,
        rememberMe: options.rememberMe === true,
        checks,
      }),
    )
    await clearing
    if (reissued)
      this.#signedIn(http, { user, device, ipAddress, impersonator, previousId, reissued, options })
  }

  /** After a sign-in: known-device check and cookie, then the events. */
  #signedIn(http: HttpContext, signIn: SignedIn): void {
    const { user, reissued, ipAddress, device } = signIn
    const knownDevice =
      signIn.impersonator === undefined
        ? this.#guards.signedIn({ http, user, publicId: reissued.ref.id, ipAddress, device, ...reissued })
        : undefined
    const telemetry = this.#telemetry
    const at = new Date(reissued.created.now)
    if (telemetry.wants('signIn')) {
      telemetry.emit('signIn', {
        userId: user.id,
        publicId: reissued.ref.id,
        previousId: signIn.previousId,
        ipAddress,
        device,
        rememberMe: signIn.options.rememberMe === true,
        impersonator: signIn.impersonator === undefined ? undefined : decodeStoredUserId(signIn.impersonator),
        knownDevice,
        at,
      })
    }
    const evicted = reissued.created.evicted ?? 0
    if (evicted > 0 && telemetry.wants('evict')) {
      telemetry.emit('evict', { userId: user.id, count: evicted, reason: 'sign-in', at })
    }
  }

  /** A cookie whose session was not found: report the ones found past their deadline. */
  #notFound(ref: SessionRef, result: LoadResult): void {
    if (result.status === 'refused') {
      throw new TooManyIpsError(
        decodeStoredUserId(result.owner) ?? '',
        this.#policy.uniqueIpsPerUser?.max ?? 0,
      )
    }
    if (result.status === 'expired' && this.#telemetry.wants('expire')) {
      const userId = result.owner === '' ? undefined : decodeStoredUserId(result.owner)
      this.#telemetry.emit('expire', { publicId: ref.id, userId, detectedBy: 'sessionkit', at: new Date() })
    }
  }

  /** Issues a new token for the same session (after a privilege change): data, user, device and deadlines kept. */
  async rotate(state: SessionState, set: StoredFields = []): Promise<void> {
    const stored = state.stored
    if (!stored) return
    const { ref, user, meta } = stored
    const reissued = await this.#reissue(
      state,
      'rotate the session',
      { user, tag: ref.tag, carry: true },
      (values, claimed) => ({
        // `set`: fields that exist only if the rotation succeeds (elevate()), so a failed one leaves nothing behind.
        values: set.length === 0 ? values : new Map([...values, ...set]),
        meta: claimed.filter(([name]) => CARRIED_FIELDS.includes(name)),
        createdAt: meta.createdAt,
        signedInAt: meta.signedInAt,
        absoluteExpiresAt: meta.absoluteExpiresAt,
        rememberMe: meta.rememberMe,
      }),
    )
    if (reissued && this.#telemetry.wants('rotate')) {
      this.#telemetry.emit('rotate', {
        userId: user?.id,
        previousId: ref.id,
        publicId: reissued.ref.id,
        at: new Date(reissued.created.now),
      })
    }
  }

  /** Signs out: destroys the session in the store and clears the cookie. The session is empty afterwards. */
  async signOut(state: SessionState): Promise<void> {
    const http = requireHttp(state)
    const { ref, user } = state
    const existed = ref ? await this.#store.destroy(ref) : false
    // Past the headers the cookie stays, but it names nothing any more.
    if (!http.headersSent()) this.#setCookie(http, serializeClearedCookie(this.#cookie))
    state.replace(undefined, NO_VALUES)
    if (ref && existed && this.#telemetry.wants('signOut')) {
      this.#telemetry.emit('signOut', { userId: user?.id, publicId: ref.id, at: new Date() })
    }
  }

  /**
   * Claims the old session (if stored), creates the new one that `plan` describes under a fresh token, and sets
   * its cookie. Of two concurrent reissues of one session, only one claim succeeds: the other throws
   * SessionConflictError, so exactly one new token is valid. When the data is carried, saves still in flight for
   * the old session follow it to the new one (see `commit`).
   */
  async #reissue(
    state: SessionState,
    operation: string,
    next: { readonly user: UserRef | undefined; readonly tag: string; readonly carry: boolean },
    plan: (values: Map<string, string>, claimed: StoredFields) => Reissue,
  ): Promise<Reissued | undefined> {
    const http = requireHttp(state)
    const token = generateToken(next.tag)
    const ref = refFromToken(token)
    const claimed = await this.#claim(
      state,
      http,
      operation,
      next.carry ? { ref, owner: next.user?.encoded ?? '' } : undefined,
    )
    const reissue = plan(next.carry ? state.mergeOnto(claimed) : new Map<string, string>(), claimed)
    const created = await this.#store.create(
      {
        ref,
        user: next.user,
        fields: [...reissue.values, ...reissue.meta],
        createdAt: reissue.createdAt,
        signedInAt: reissue.signedInAt,
        absoluteExpiresAt: reissue.absoluteExpiresAt,
        completesRotation: claimed.length > 0,
        ...reissue.checks,
      },
      this.#policy,
    )
    if (!created.created) {
      this.#notCreated(state, http, created, next.user)
      return undefined
    }
    const expiresAt = reissue.rememberMe ? created.absoluteExpiresAt : undefined
    this.#setCookie(http, serializeSessionCookie(this.#cookie, token, expiresAt, created.now))
    const fields: (readonly [string, string])[] = [...reissue.meta]
    if (next.user) fields.push([META.userId, next.user.encoded])
    const signedInAt = next.user ? (reissue.signedInAt ?? created.now) : undefined
    const meta = newMeta(created.now, created.absoluteExpiresAt, signedInAt, fields, reissue.createdAt)
    state.replace({ ref, user: next.user, meta }, reissue.values)
    return { created, claimed, ref }
  }

  /** The reissue's first step: the old session's fields (none when it was not stored yet). */
  async #claim(
    state: SessionState,
    http: HttpContext,
    operation: string,
    successor: Successor | undefined,
  ): Promise<StoredFields> {
    // Checked before the claim too: claiming first would sign the user out and leave no cookie to replace it.
    if (http.headersSent()) throw new HeadersSentError(operation)
    let claimed: StoredFields = []
    if (state.ref) {
      const fields = await this.#store.claim(state.ref, successor)
      if (!fields) throw conflict()
      claimed = fields
    }
    if (http.headersSent()) throw new HeadersSentError(operation)
    return claimed
  }

  /** Refused (one address too many), or the kept absolute deadline passed meanwhile: the session is over. */
  #notCreated(
    state: SessionState,
    http: HttpContext,
    created: CreateResult,
    user: UserRef | undefined,
  ): void {
    const over = state.ref
    const overUser = state.user?.id
    this.#setCookie(http, serializeClearedCookie(this.#cookie))
    state.replace(undefined, NO_VALUES)
    if (created.refused === 'too_many_ips') {
      throw new TooManyIpsError(user?.id ?? '', this.#policy.uniqueIpsPerUser?.max ?? 0)
    }
    if (over && this.#telemetry.wants('expire')) {
      this.#telemetry.emit('expire', {
        publicId: over.id,
        userId: overUser,
        detectedBy: 'sessionkit',
        at: new Date(created.now),
      })
    }
  }

  /**
   * Several values for our cookie: one was planted by a sibling subdomain or another path ("cookie tossing").
   * Neither is trusted (no session); every scope it may live in is cleared, so that the sign-in this visitor
   * does next (whose cookie replaces the host's own clear) is the only value left.
   */
  #clearTossedCookies(http: HttpContext): void {
    const { host, path } = http.requestScope?.() ?? { host: undefined, path: undefined }
    for (const scope of tossedCookieScopes(host, path)) {
      this.#setCookie(http, serializeClearedCookie(this.#cookie, scope))
    }
  }

  #setCookie(http: HttpContext, value: string): void {
    if (this.#cookie.secure && !this.#warnedPlainHttp) this.#warnIfPlainHttp(http)
    http.setCookie(value)
  }

  /** A `Secure` cookie sent in answer to plain HTTP is dropped by the browser: sign-in then silently fails. */
  #warnIfPlainHttp(http: HttpContext): void {
    const host = http.plainHttpHost?.()
    if (host === undefined || isLoopback(host)) return
    this.#warnedPlainHttp = true
    process.emitWarning(
      `sessionkit sets a Secure cookie in answer to a plain-HTTP request for ${JSON.stringify(host)}; browsers drop it, ` +
        'so nobody stays signed in. Serve HTTPS (and set trust proxy behind a TLS proxy), or set cookie.secure: false in development.',
      { code: 'SESSIONKIT_SECURE_COOKIE_OVER_HTTP' },
    )
  }
}

function requireHttp(state: SessionState): HttpContext {
  if (!state.http) throw new Error('sessionkit: this session is not bound to a request')
  return state.http
}

function conflict(): SessionConflictError {
  return new SessionConflictError('the session was signed out, revoked or rotated by a concurrent request')
}

/**
 * sessionkit's own namespace (the UI's CSRF token) and elevated mode belong to one authentication: a sign-in
 * starts them afresh.
 */
function withoutAuthenticationNamespaces(values: Map<string, string>): Map<string, string> {
  const prefixes = AUTHENTICATION_NAMESPACES.map(namespacePrefix)
  for (const name of [...values.keys()]) if (prefixes.some((p) => name.startsWith(p))) values.delete(name)
  return values
}

/** A sign-in that created its session, for the checks and events that follow. */
interface SignedIn {
  readonly user: UserRef
  readonly device: DeviceInfo | undefined
  readonly ipAddress: string | undefined
  readonly impersonator: string | undefined
  readonly previousId: string | undefined
  readonly reissued: Reissued
  readonly options: SignInOptions
}

/** The request's client address, if it is one: whatever a proxy header said otherwise is not stored. */
function clientIp(http: HttpContext): string | undefined {
  const ip = http.ipAddress
  return ip !== undefined && isIP(ip) !== 0 ? ip : undefined
}

function isLoopback(host: string): boolean {
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '::1' ||
    host === '[::1]' ||
    host.startsWith('127.')
  )
}

/** The metadata of a session this process just created (the same decoder as a load, so the two cannot differ). */
function newMeta(
  now: number,
  absoluteExpiresAt: number,
  signedInAt: number | undefined,
  extra: StoredFields,
  createdAt: number = now,
): SessionMeta {
  const fields: (readonly [string, string])[] = [
    [META.createdAt, String(createdAt)],
    [META.lastSeenAt, String(now)],
    [META.absoluteExpiresAt, String(absoluteExpiresAt)],
    ...extra,
  ]
  if (signedInAt !== undefined) fields.push([META.signedInAt, String(signedInAt)])
  const decoded = decodeStoredPairs(fields)
  if (!decoded) throw new Error('sessionkit: inconsistent session metadata')
  return decoded.meta
}
