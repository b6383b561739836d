/**
 * Where one session stands: what the store holds (ref, user, metadata), the raw JSON of every value with this
 * request's changes applied, and exactly which fields changed since the last save. The lifecycle moves it from
 * state to state; the `Session` view reads and writes values through it.
 *
 * @module
 */
import { SessionTooLargeError } from './errors.js'
import { isDataField, type SessionMeta } from './stored-fields.js'
import type { SessionDelta, StoredFields } from './store.js'
import type { SessionRef } from './token.js'
import type { UserRef } from './user-id.js'

/**
 * What a session needs from the HTTP exchange it belongs to. The framework adapters implement it; sessions made
 * by `withSession()` (jobs, tests) have none.
 */
export interface HttpContext {
  /** The raw `Cookie` header. */
  readonly cookieHeader: string | undefined
  /** The raw `User-Agent` header. */
  readonly userAgent: string | undefined
  /** The client address as the framework resolved it (trusting only configured proxies). */
  readonly ipAddress: string | undefined
  /** Whether the response headers are already on the wire. */
  headersSent(): boolean
  /**
   * Adds a `Set-Cookie` header, replacing one set earlier in this response for the same cookie (name and scope):
   * the session cookie, or sessionkit's known-device cookie. `undefined` withdraws the session cookie from the
   * response (a new session that ended up not being stored).
   */
  setCookie(value: string | undefined): void
  /**
   * Adds a `Set-Cookie` header for a cookie that is not sessionkit's (a migration clears the legacy cookie),
   * leaving sessionkit's own `Set-Cookie` alone.
   */
  appendSetCookie?(value: string): void
  /** Called when the session gets its first unsaved change, so the adapter can hold the response for the save. */
  sessionChanged?(): void
  /** The request's host name when it came over plain HTTP (for the `Secure` cookie warning); else `undefined`. */
  plainHttpHost?(): string | undefined
  /** The request's host name and path: where a cookie tossed in front of ours may live (see `tossedCookieScopes`). */
  requestScope?(): {
    /** The host name the request was sent to (its `Host`); `undefined` when unknown. */
    readonly host: string | undefined
    /** The request's path (its query may follow); `undefined` when unknown. */
    readonly path: string | undefined
  }
}

/** The stored side of a session, as a load or a sign-in leaves it. */
export interface StoredSession {
  readonly ref: SessionRef
  readonly user: UserRef | undefined
  readonly meta: SessionMeta
}

export class SessionState {
  /** The HTTP exchange the session belongs to; `undefined` for detached sessions. */
  readonly http: HttpContext | undefined
  readonly maxBytes: number
  // The stored side, as three fields rather than one object: a state is made on every request.
  #ref: SessionRef | undefined
  #user: UserRef | undefined
  #meta: SessionMeta | undefined
  /** The token of a session that the next commit creates; its cookie is already on the response. */
  pendingToken: string | undefined
  /** Raw JSON of every data and namespace field, changes applied. */
  readonly #values: Map<string, string>
  /** Fields changed since load or the last save: new JSON, or `undefined` for a deletion. */
  readonly #changes = new Map<string, string | undefined>()
  /** Byte size of the values (names + JSON); computed when a write first needs it (most requests never write). */
  #size: number | undefined

  constructor(
    http: HttpContext | undefined,
    maxBytes: number,
    stored?: StoredSession,
    values: Map<string, string> = new Map(),
  ) {
    this.http = http
    this.maxBytes = maxBytes
    this.#ref = stored?.ref
    this.#user = stored?.user
    this.#meta = stored?.meta
    this.#values = values
    this.#size = values.size === 0 ? 0 : undefined
  }

  /** The stored side, or `undefined` while the session is not stored. */
  get stored(): StoredSession | undefined {
    const ref = this.#ref
    const meta = this.#meta
    return ref && meta ? { ref, user: this.#user, meta } : undefined
  }

  get ref(): SessionRef | undefined {
    return this.#ref
  }

  get user(): UserRef | undefined {
    return this.#user
  }

  get meta(): SessionMeta | undefined {
    return this.#meta
  }

  /** Whether there are changes the store has not seen yet. */
  get isDirty(): boolean {
    return this.#changes.size > 0
  }

  read(field: string): string | undefined {
    return this.#values.get(field)
  }

  has(field: string): boolean {
    return this.#values.has(field)
  }

  /** Names of the fields that start with `prefix`, in insertion order (a snapshot: safe to change while iterating). */
  fieldNames(prefix: string): string[] {
    const names: string[] = []
    for (const field of this.#values.keys()) if (field.startsWith(prefix)) names.push(field)
    return names
  }

  /**
   * Sets a field's JSON.
   *
   * @param label how the caller named the field, for the size error
   * @throws {SessionTooLargeError} the session would exceed its size limit; nothing changed
   */
  write(field: string, label: string, json: string): void {
    const previous = this.#values.get(field)
    if (previous === json) return
    const size =
      this.#sizeNow() - (previous === undefined ? 0 : byteSize(field, previous)) + byteSize(field, json)
    if (size > this.maxBytes) throw new SessionTooLargeError(label, size, this.maxBytes)
    this.#values.set(field, json)
    this.#changes.set(field, json)
    this.#size = size
  }

  /** Removes a field. Returns whether it was there. */
  remove(field: string): boolean {
    const previous = this.#values.get(field)
    if (previous === undefined) return false
    this.#values.delete(field)
    this.#changes.set(field, undefined)
    if (this.#size !== undefined) this.#size -= byteSize(field, previous)
    return true
  }

  /** The changes since the last save, as a delta; the state counts them as saved from now on. */
  takeDelta(): SessionDelta {
    const set: [string, string][] = []
    const del: string[] = []
    for (const [field, json] of this.#changes) {
      if (json === undefined) del.push(field)
      else set.push([field, json])
    }
    this.#changes.clear()
    return { set, del }
  }

  /** Every data and namespace field with its JSON: what a new session is created with. */
  valueFields(): [string, string][] {
    return [...this.#values]
  }

  /** A claimed session's data with this request's own changes on top, so neither side's writes are lost. */
  mergeOnto(claimed: StoredFields): Map<string, string> {
    const merged = new Map<string, string>()
    for (const [name, value] of claimed) if (isDataField(name)) merged.set(name, value)
    for (const [name, json] of this.#changes) {
      if (json === undefined) merged.delete(name)
      else merged.set(name, json)
    }
    return merged
  }

  /** Moves the state to another stored session (or none), with these values and no pending changes. */
  replace(stored: StoredSession | undefined, values: ReadonlyMap<string, string>): void {
    this.#setStored(stored)
    this.pendingToken = undefined
    this.#values.clear()
    for (const [field, json] of values) this.#values.set(field, json)
    this.#changes.clear()
    this.#size = undefined
  }

  /** Records the stored side of a session that the first commit created. */
  markCreated(stored: StoredSession): void {
    this.#setStored(stored)
    this.pendingToken = undefined
  }

  #setStored(stored: StoredSession | undefined): void {
    this.#ref = stored?.ref
    this.#user = stored?.user
    this.#meta = stored?.meta
  }

  #sizeNow(): number {
    if (this.#size === undefined) {
      let size = 0
      for (const [field, json] of this.#values) size += byteSize(field, json)
      this.#size = size
    }
    return this.#size
  }
}

function byteSize(field: string, json: string): number {
  return Buffer.byteLength(field) + Buffer.byteLength(json)
}
