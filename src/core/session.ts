/**
 * The session a request (or a job, or a test) works with: a hash-like API over JSON-safe values. It is a view:
 * the values live in its `SessionState`, and sign-in, rotation, sign-out and saving are the lifecycle's.
 *
 * @module
 */
import type { ActiveSession, ActiveSessions } from './active-sessions.js'
import { elevatedUntil, elevationLength, type ElevateOptions } from './elevation.js'
import { NoRequestError, NotSignedInError } from './errors.js'
import { encodeJsonValue, parseJsonSafe, type JsonValue } from './json.js'
import type { SessionLifecycle, SignInOptions } from './lifecycle.js'
import { NamespacedSessionStore } from './namespaced-store.js'
import { assertNamespaceName, assertSessionKey } from './session-key.js'
import type { SessionState } from './state.js'
import {
  DATA_PREFIX,
  ELEVATION_FIELD,
  ELEVATION_KEY,
  ELEVATION_NAMESPACE,
  dataField,
  namespaceField,
  namespacePrefix,
} from './stored-fields.js'
import type { UserIdInput } from './user-id.js'

/** What a session opened for a request can call on: absent for detached sessions (`withSession`, jobs). */
export interface SessionServices {
  readonly lifecycle: SessionLifecycle
  readonly activeSessions: ActiveSessions
}

/**
 * A session: read and write JSON-safe values by key.
 *
 * Values are snapshots: `get()` returns a fresh copy each time, so change a value with `set()`; mutating what
 * `get()` returned changes nothing.
 *
 * @example
 * ```ts
 * req.session.set('cart', { items: [42] })
 * const cart = req.session.get<{ items: number[] }>('cart')
 * req.session.delete('flash')
 * for (const [key, value] of req.session) console.log(key, value)
 * ```
 */
export class Session implements Iterable<[string, JsonValue]> {
  readonly #state: SessionState
  readonly #services: SessionServices | undefined

  /**
   * Sessions are opened by `Sessionkit.openSession()` (the adapters do it) or made by `detachedSession()`.
   * @internal
   */
  constructor(state: SessionState, services: SessionServices | undefined) {
    this.#state = state
    this.#services = services
  }

  /** The private id (`<tag>.<27 base64url chars of sha256(token)>`), or `undefined` while the session is not stored yet. */
  get id(): string | undefined {
    return this.#state.ref?.id
  }

  /** The signed-in user's id, or `undefined` for an anonymous session. */
  get userId(): string | undefined {
    return this.#state.user?.id
  }

  /** True when the session has not been stored yet. */
  get isNew(): boolean {
    return this.#state.ref === undefined
  }

  /**
   * Whether the session has changes the store has not seen yet. Adapters save the session before the response
   * when it is true (with {@link Session.commit}); a custom integration does the same.
   */
  get isDirty(): boolean {
    return this.#state.isDirty
  }

  /** Sign-in time, for a signed-in session. */
  get signedInAt(): Date | undefined {
    const at = this.#state.meta?.signedInAt
    return at === undefined ? undefined : new Date(at)
  }

  /** The absolute deadline: activity never extends it. */
  get absoluteExpiresAt(): Date | undefined {
    const at = this.#state.meta?.absoluteExpiresAt
    return at === undefined ? undefined : new Date(at)
  }

  /** Whether the cookie outlives the browser session (signed in with `rememberMe`). */
  get rememberMe(): boolean {
    return this.#state.meta?.rememberMe === true
  }

  /** The id of the admin impersonating the user, if any. */
  get impersonator(): string | undefined {
    return this.#state.meta?.impersonator
  }

  /** Returns the value of `key`, or `undefined`. */
  // T only names the shape the caller stored; nothing checks it at run time.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  get<T extends JsonValue = JsonValue>(key: string): T | undefined {
    return this.#read(dataField(key)) as T | undefined
  }

  /**
   * Sets `key` to a JSON-safe value.
   *
   * @throws {InvalidSessionKeyError} the key is empty, too long or contains NUL; nothing changed
   * @throws {InvalidSessionValueError} the value does not survive JSON unchanged; nothing changed
   * @throws {SessionTooLargeError} the session would exceed `maxSessionBytes`; nothing changed
   */
  set(key: string, value: JsonValue): this {
    assertSessionKey(key)
    this.#write(dataField(key), key, encodeJsonValue(key, value))
    return this
  }

  /** Removes `key`. Returns whether it was present. */
  delete(key: string): boolean {
    assertSessionKey(key)
    return this.#remove(dataField(key))
  }

  /** Whether `key` is set. */
  has(key: string): boolean {
    return this.#state.has(dataField(key))
  }

  /** Removes every top-level key (namespaces are kept; clear them through their store). */
  clear(): void {
    for (const field of this.#state.fieldNames(DATA_PREFIX)) this.#remove(field)
  }

  /** Number of top-level keys. */
  get size(): number {
    return this.#state.fieldNames(DATA_PREFIX).length
  }

  /** The top-level keys. */
  *keys(): IterableIterator<string> {
    for (const field of this.#state.fieldNames(DATA_PREFIX)) yield field.slice(DATA_PREFIX.length)
  }

  /** The top-level keys with their values (fresh copies). */
  *entries(): IterableIterator<[string, JsonValue]> {
    for (const key of this.keys()) {
      const value = this.get(key)
      if (value !== undefined) yield [key, value]
    }
  }

  /** Same as {@link Session.entries}: `for (const [key, value] of session)`. */
  [Symbol.iterator](): IterableIterator<[string, JsonValue]> {
    return this.entries()
  }

  /** The top-level keys as a plain (null-prototype) object. */
  toObject(): Record<string, JsonValue> {
    const out = Object.create(null) as Record<string, JsonValue>
    for (const [key, value] of this.entries()) out[key] = value
    return out
  }

  /** Key-value storage under `name`, kept apart from the top-level keys (GitLab's `NamespacedSessionStore`). */
  namespace(name: string): NamespacedSessionStore {
    return new NamespacedSessionStore(name, this)
  }

  /**
   * Saves the changes now (only the changed keys; the session is created on its first save). The adapters call it
   * before the response; call it yourself only outside them. A no-op when nothing changed or for a detached session.
   *
   * @throws {StoreUnavailableError}
   * @throws {HeadersSentError} a new session could not get its cookie because the headers were sent first
   * @throws {TooManyAnonymousSessionsError} a new anonymous session over `maxAnonymousSessionsPerIp`: not stored
   * @throws {SessionConflictError} the session kept being rotated under the save (more than a few times in a row)
   */
  commit(): Promise<void> {
    return this.#services ? this.#services.lifecycle.commit(this.#state) : Promise.resolve()
  }

  /**
   * Signs `userId` in: rotates the token (the old one is dead at once), binds the user, and records this device
   * in the user's active sessions. An anonymous visitor's data is carried over (a cart survives sign-in); when
   * another user signs in on this session, nothing is.
   *
   * @throws {InvalidUserIdError} `userId` (or `impersonator`) is not a valid user id
   * @throws {SessionConflictError} the session was rotated, signed out or revoked by a concurrent request
   * @throws {TooManyIpsError} the address is one more than `uniqueIpsPerUser` allows the user
   * @throws {HeadersSentError} the new cookie could not be set: the headers were already sent
   * @throws {StoreUnavailableError}
   * @throws {NoRequestError} a detached session
   */
  async signIn(userId: UserIdInput, options: SignInOptions = {}): Promise<void> {
    return this.#require('signIn').lifecycle.signIn(this.#state, userId, options)
  }

  /**
   * Signs out: destroys the session in the store and clears the cookie. The session is empty afterwards.
   *
   * @throws {StoreUnavailableError} the store failed: the session may still exist (try again)
   * @throws {NoRequestError} a detached session
   */
  async signOut(): Promise<void> {
    return this.#require('signOut').lifecycle.signOut(this.#state)
  }

  /**
   * Issues a new token for the same session (after a privilege change), keeping data, user and deadlines. A no-op
   * for a session that is not stored yet.
   *
   * @throws {SessionConflictError} the session was rotated, signed out or revoked by a concurrent request
   * @throws {HeadersSentError} the new cookie could not be set: the headers were already sent
   * @throws {StoreUnavailableError}
   * @throws {NoRequestError} a detached session
   */
  async rotate(): Promise<void> {
    return this.#require('rotate').lifecycle.rotate(this.#state)
  }

  /**
   * The signed-in user's active sessions, newest first, this one marked `current`. `[]` when anonymous.
   *
   * @throws {StoreUnavailableError}
   * @throws {NoRequestError} a detached session
   */
  async listSessions(): Promise<ActiveSession[]> {
    const { activeSessions } = this.#require('listSessions')
    const user = this.#state.user
    return user ? activeSessions.list(user.id, this.#state.ref?.id) : []
  }

  /**
   * Revokes one of the signed-in user's sessions by id (this one included). Returns false when the id is not one of
   * theirs (or the session is anonymous): nothing is touched.
   *
   * @throws {StoreUnavailableError}
   * @throws {NoRequestError} a detached session
   */
  async revokeSession(id: string): Promise<boolean> {
    const { activeSessions } = this.#require('revokeSession')
    const user = this.#state.user
    return user ? activeSessions.revoke(user.id, id) : false
  }

  /**
   * Revokes all of the signed-in user's sessions but this one (impersonated sessions are spared). Returns how many
   * were revoked (0 when anonymous).
   *
   * @throws {StoreUnavailableError}
   * @throws {NoRequestError} a detached session
   */
  async revokeOtherSessions(): Promise<number> {
    const { activeSessions } = this.#require('revokeOtherSessions')
    const user = this.#state.user
    return user ? activeSessions.revokeOthers(user.id, this.#state.ref?.id) : 0
  }

  /**
   * Enters elevated mode (GitLab's admin mode, a "sudo" window) for `maxAgeMs` (default 6 h). Call it only right
   * after the user re-authenticated (password, WebAuthn...): sessionkit cannot check that. The window's end is
   * stored in the `current_user_mode` namespace, and the token is rotated (a privilege change), in one reissue.
   * Every sign-in drops it, so a new authentication never inherits it.
   *
   * @example
   * ```ts
   * if (await passwords.verify(user, req.body.password)) await req.session.elevate()
   * ```
   * @throws {NotSignedInError} the session is anonymous
   * @throws {InvalidArgumentError} `maxAgeMs` is not whole ms between 1 s and 30 days
   * @throws {SessionConflictError} the session was rotated, signed out or revoked by a concurrent request
   * @throws {StoreUnavailableError}
   */
  async elevate(options: ElevateOptions = {}): Promise<void> {
    const { lifecycle } = this.#require('elevate')
    if (this.#state.user === undefined) throw new NotSignedInError('elevate')
    const until = Date.now() + elevationLength(options)
    // Written by the rotation itself: if it fails (a concurrent sign-out, the store), nothing is elevated.
    await lifecycle.rotate(this.#state, [[ELEVATION_FIELD, JSON.stringify(until)]])
  }

  /** Whether the session is in elevated mode now (signed in, elevated, and the window not over). */
  isElevated(): boolean {
    return this.elevatedUntil !== undefined
  }

  /** When elevated mode ends, while the session is in it. */
  get elevatedUntil(): Date | undefined {
    if (this.#state.user === undefined) return undefined
    const until = elevatedUntil(this.#state.read(ELEVATION_FIELD), Date.now())
    return until === undefined ? undefined : new Date(until)
  }

  /** Leaves elevated mode (saved with the request's other changes). Returns whether the session had it. */
  dropElevation(): boolean {
    return this.removeNamespaced(ELEVATION_NAMESPACE, ELEVATION_KEY)
  }

  /** Namespaced read, for {@link NamespacedSessionStore}. */
  readNamespaced(namespace: string, key: string): JsonValue | undefined {
    return this.#read(namespaceField(namespace, key))
  }

  /** Namespaced write, for {@link NamespacedSessionStore}. Throws like {@link Session.set}. */
  writeNamespaced(namespace: string, key: string, value: JsonValue): void {
    assertNamespaceName(namespace)
    assertSessionKey(key)
    const label = `${namespace}.${key}`
    this.#write(namespaceField(namespace, key), label, encodeJsonValue(label, value))
  }

  /** Namespaced delete, for {@link NamespacedSessionStore}. */
  removeNamespaced(namespace: string, key: string): boolean {
    return this.#remove(namespaceField(namespace, key))
  }

  /** The keys of one namespace, for {@link NamespacedSessionStore}. */
  namespacedKeys(namespace: string): string[] {
    const prefix = namespacePrefix(namespace)
    return this.#state.fieldNames(prefix).map((field) => field.slice(prefix.length))
  }

  #read(field: string): JsonValue | undefined {
    const text = this.#state.read(field)
    return text === undefined ? undefined : parseJsonSafe(text)
  }

  #write(field: string, label: string, json: string): void {
    const wasDirty = this.#state.isDirty
    this.#state.write(field, label, json)
    if (!wasDirty && this.#state.isDirty) this.#services?.lifecycle.changed(this.#state)
  }

  #remove(field: string): boolean {
    const wasDirty = this.#state.isDirty
    const removed = this.#state.remove(field)
    if (!wasDirty && this.#state.isDirty) this.#services?.lifecycle.changed(this.#state)
    return removed
  }

  #require(operation: string): SessionServices {
    if (!this.#services) throw new NoRequestError(operation)
    return this.#services
  }
}
