/**
 * The session a request (or a job, or a test) works with: a hash-like API over JSON-safe values, that records
 * exactly which keys changed so the store writes only those.
 *
 * @module
 */
import { NoRequestError, SessionTooLargeError } from './errors.js'
import {
  DATA_PREFIX,
  assertNamespaceName,
  assertSessionKey,
  dataField,
  namespaceField,
  namespacePrefix,
  type SessionMeta,
} from './fields.js'
import { encodeJsonValue, parseJsonSafe, type JsonValue } from './json.js'
import { NamespacedSessionStore } from './namespaced-store.js'
import type { SessionRef } from './token.js'
import type { UserIdInput, UserRef } from './user-id.js'

/** Options of {@link Session.signIn}. */
export interface SignInOptions {
  /** Make the cookie outlive the browser session (until the absolute deadline). Default false. */
  readonly rememberMe?: boolean
  /**
   * The id of an admin signing in as this user. The session is flagged as impersonated: it is hidden from the
   * user's Active Sessions page and spared by "revoke all other sessions", as in GitLab.
   */
  readonly impersonator?: UserIdInput
}

/** A session as listed on the Active Sessions page and by the admin CLI. */
export interface ActiveSession {
  /** The private id: safe to show, can revoke, can never authenticate. */
  readonly id: string
  readonly userId: string
  /** Whether this is the session of the request that asked. */
  readonly current: boolean
  readonly browser: string
  readonly os: string
  readonly deviceType: string
  readonly deviceName: string
  readonly ipAddress: string
  readonly signedInAt: Date
  readonly lastSeenAt: Date
  /** When the session expires unless used (the idle deadline, capped by the absolute one). */
  readonly expiresAt: Date
  /** The absolute deadline, fixed at sign-in. */
  readonly absoluteExpiresAt: Date
  readonly impersonated: boolean
  readonly rememberMe: boolean
}

/**
 * What a session needs from the request it belongs to. Implemented by `Sessionkit` for sessions that adapters
 * open; absent for detached sessions (`withSession`, jobs, tests).
 * @internal
 */
export interface SessionHost {
  signIn(session: Session, userId: UserIdInput, options: SignInOptions): Promise<void>
  signOut(session: Session): Promise<void>
  rotate(session: Session): Promise<void>
  listSessions(session: Session): Promise<ActiveSession[]>
  revokeSession(session: Session, id: string): Promise<boolean>
  revokeOtherSessions(session: Session): Promise<number>
}

/** What a session needs from the HTTP request it belongs to. Adapters implement it. */
export interface RequestBinding {
  /** The raw `Cookie` header. */
  readonly cookieHeader: string | undefined
  /** The raw `User-Agent` header. */
  readonly userAgent: string | undefined
  /** The client address as the framework resolved it (trusting only configured proxies). */
  readonly ipAddress: string | undefined
  /** Whether the response headers are already on the wire. */
  headersSent(): boolean
  /** Appends a `Set-Cookie` header (replacing one sessionkit set earlier in this response). */
  setCookie(value: string): void
  /** Called when the session gets its first unsaved change, so the adapter can hold the response for the save. */
  sessionChanged?(): void
}

/** Where a session stands with respect to the store. @internal */
export interface SessionState {
  /** The request the session belongs to; `undefined` for detached sessions. */
  readonly binding: RequestBinding | undefined
  /** The stored session; `undefined` until the first save (or after sign-out). */
  ref: SessionRef | undefined
  user: UserRef | undefined
  meta: SessionMeta | undefined
  /** Raw JSON of every data/namespace field, changes applied. */
  readonly values: Map<string, string>
  /** Fields changed since load or last save: new JSON, or `undefined` for a deletion. */
  readonly changes: Map<string, string | undefined>
  /** Byte size of `values` (names + JSON); `undefined` until a write needs it (most requests never write). */
  size: number | undefined
}

/** Gives the store layer access to a session's state. @internal */
export const sessionState = Symbol('sessionkit.state')

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
  /** @internal */
  readonly [sessionState]: SessionState
  readonly #host: SessionHost | undefined
  readonly #maxBytes: number

  /** @internal Sessions are opened by `Sessionkit` or made by `withSession()`. */
  constructor(state: SessionState, host: SessionHost | undefined, maxBytes: number) {
    this[sessionState] = state
    this.#host = host
    this.#maxBytes = maxBytes
  }

  /** The private id (`<tag>.<27 base64url chars of sha256(token)>`), or `undefined` while the session is not stored yet. */
  get id(): string | undefined {
    return this[sessionState].ref?.id
  }

  /** The signed-in user's id, or `undefined` for an anonymous session. */
  get userId(): string | undefined {
    return this[sessionState].user?.id
  }

  /** True when the session has not been stored yet. */
  get isNew(): boolean {
    return this[sessionState].ref === undefined
  }

  /** Sign-in time, for a signed-in session. */
  get signedInAt(): Date | undefined {
    const at = this[sessionState].meta?.signedInAt
    return at === undefined ? undefined : new Date(at)
  }

  /** The absolute deadline: activity never extends it. */
  get absoluteExpiresAt(): Date | undefined {
    const at = this[sessionState].meta?.absoluteExpiresAt
    return at === undefined ? undefined : new Date(at)
  }

  /** The id of the admin impersonating the user, if any. */
  get impersonator(): string | undefined {
    return this[sessionState].meta?.impersonator
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

  has(key: string): boolean {
    return this[sessionState].values.has(dataField(key))
  }

  /** Removes every top-level key (namespaces are kept; clear them through their store). */
  clear(): void {
    for (const field of [...this[sessionState].values.keys()]) {
      if (field.startsWith(DATA_PREFIX)) this.#remove(field)
    }
  }

  /** Number of top-level keys. */
  get size(): number {
    let n = 0
    for (const field of this[sessionState].values.keys()) if (field.startsWith(DATA_PREFIX)) n++
    return n
  }

  *keys(): IterableIterator<string> {
    for (const field of this[sessionState].values.keys()) {
      if (field.startsWith(DATA_PREFIX)) yield field.slice(DATA_PREFIX.length)
    }
  }

  *entries(): IterableIterator<[string, JsonValue]> {
    for (const key of [...this.keys()]) {
      const value = this.get(key)
      if (value !== undefined) yield [key, value]
    }
  }

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
   * Signs `userId` in: rotates the token (the old one is dead at once), binds the user, carries the data over,
   * and records this device in the user's active sessions.
   *
   * @throws {SessionConflictError} the session was rotated, signed out or revoked by a concurrent request
   * @throws {StoreUnavailableError}
   */
  async signIn(userId: UserIdInput, options: SignInOptions = {}): Promise<void> {
    return this.#requireHost('signIn').signIn(this, userId, options)
  }

  /** Signs out: destroys the session in the store and clears the cookie. The session is empty afterwards. */
  async signOut(): Promise<void> {
    return this.#requireHost('signOut').signOut(this)
  }

  /** Issues a new token for the same session (after a privilege change), keeping data, user and deadlines. */
  async rotate(): Promise<void> {
    return this.#requireHost('rotate').rotate(this)
  }

  /** The signed-in user's active sessions, newest first, this one marked `current`. `[]` when anonymous. */
  async listSessions(): Promise<ActiveSession[]> {
    return this.#requireHost('listSessions').listSessions(this)
  }

  /** Revokes one of the signed-in user's sessions by id. Returns false when the id is not one of theirs. */
  async revokeSession(id: string): Promise<boolean> {
    return this.#requireHost('revokeSession').revokeSession(this, id)
  }

  /** Revokes all of the signed-in user's sessions but this one (impersonated sessions are spared). */
  async revokeOtherSessions(): Promise<number> {
    return this.#requireHost('revokeOtherSessions').revokeOtherSessions(this)
  }

  /** @internal Namespaced access, used by {@link NamespacedSessionStore}. */
  readNamespaced(namespace: string, key: string): JsonValue | undefined {
    return this.#read(namespaceField(namespace, key))
  }

  /** @internal */
  writeNamespaced(namespace: string, key: string, value: JsonValue): void {
    assertNamespaceName(namespace)
    assertSessionKey(key)
    const label = `${namespace}.${key}`
    this.#write(namespaceField(namespace, key), label, encodeJsonValue(label, value))
  }

  /** @internal */
  removeNamespaced(namespace: string, key: string): boolean {
    return this.#remove(namespaceField(namespace, key))
  }

  /** @internal */
  *namespacedKeys(namespace: string): IterableIterator<string> {
    const prefix = namespacePrefix(namespace)
    for (const field of this[sessionState].values.keys()) {
      if (field.startsWith(prefix)) yield field.slice(prefix.length)
    }
  }

  #read(field: string): JsonValue | undefined {
    const text = this[sessionState].values.get(field)
    return text === undefined ? undefined : parseJsonSafe(text)
  }

  #write(field: string, label: string, json: string): void {
    const state = this[sessionState]
    const previous = state.values.get(field)
    if (previous === json) return
    const size =
      sizeOf(state) - (previous === undefined ? 0 : byteSize(field, previous)) + byteSize(field, json)
    if (size > this.#maxBytes) throw new SessionTooLargeError(label, size, this.#maxBytes)
    state.values.set(field, json)
    if (state.changes.size === 0) state.binding?.sessionChanged?.()
    state.changes.set(field, json)
    state.size = size
  }

  #remove(field: string): boolean {
    const state = this[sessionState]
    const previous = state.values.get(field)
    if (previous === undefined) return false
    state.values.delete(field)
    if (state.changes.size === 0) state.binding?.sessionChanged?.()
    state.changes.set(field, undefined)
    if (state.size !== undefined) state.size -= byteSize(field, previous)
    return true
  }

  #requireHost(operation: string): SessionHost {
    if (!this.#host) throw new NoRequestError(operation)
    return this.#host
  }
}

export function byteSize(field: string, json: string): number {
  return Buffer.byteLength(field) + Buffer.byteLength(json)
}

function sizeOf(state: SessionState): number {
  if (state.size === undefined) {
    let size = 0
    for (const [field, json] of state.values) size += byteSize(field, json)
    state.size = size
  }
  return state.size
}

/** An empty state, for a session that is not stored yet. @internal */
export function emptyState(binding?: RequestBinding): SessionState {
  return {
    binding,
    ref: undefined,
    user: undefined,
    meta: undefined,
    values: new Map(),
    changes: new Map(),
    size: 0,
  }
}
