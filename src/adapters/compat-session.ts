/**
 * What the express-session and @fastify/session API modes share, free of any framework. The application works on
 * a plain object (property access, nested mutation, as with those libraries); at each save its changes are mapped
 * onto the native {@link Session}:
 *
 * - **Per-key deltas.** Each top-level key's JSON is compared with what was loaded (or last saved), and only the
 *   keys that differ are set or deleted on the native session, so the conditional save scripts keep their
 *   no-lost-update and no-resurrection guarantees in these modes too.
 * - **`userId(data)` drives sign-in and sign-out.** When it becomes set, the session is signed in through the
 *   native `signIn()` (new token, device, index); when it is cleared, the signed-in session is destroyed (it
 *   leaves the index) and whatever data is left lives on in a new anonymous session.
 * - **`regenerate()` is lazy.** The new token comes with the next save, which then signs in, rotates or drops an
 *   empty session: one reissue, however the app combined regenerate, assignments and save (passport does all
 *   three in one login).
 *
 * Values are stored as the peers' Redis stores wrote them, through `JSON.stringify` (a `Date` becomes its ISO
 * string, `undefined` properties vanish); what even that cannot express for sessionkit (`__proto__` keys,
 * nesting deeper than 64, a `BigInt`) fails the save with `InvalidSessionValueError`.
 *
 * @module
 */
import type { ResolvedCookieOptions } from '../core/cookie.js'
import { InvalidSessionValueError } from '../core/errors.js'
import type { JsonValue } from '../core/json.js'
import type { Session } from '../core/session.js'
import { normalizeUserId } from '../core/user-id.js'

/** The session data as the app's `userId` function sees it (the session object itself). */
export type CompatSessionData = Readonly<Record<string, unknown>>

/**
 * Tells sessionkit who is signed in, from the session data: a user id (string or safe integer), or
 * `undefined`/`null` when nobody is. For passport: `(data) => data.passport?.user` (express-session) or
 * `(data) => data.passport` (@fastify/passport).
 */
export type CompatUserId = (data: CompatSessionData) => unknown

/** The object an app sees as its session in a compat mode: own properties are the data, plus `cookie`. */
export interface CompatHolder {
  readonly cookie: CompatCookie
}

/** What a lifecycle step a save must run before writing the changed keys. */
type Step = 'signIn' | 'signOut' | 'rotate' | 'drop'

let requestedRememberMe: (cookie: CompatCookie) => boolean | undefined

/**
 * `session.cookie` in the compat modes. Setting `maxAge` (or a future `expires`) makes the cookie persistent: at
 * sign-in, or right away for a signed-in session, the session is signed in with `rememberMe`, and the cookie then
 * lasts until the session's absolute deadline (sessionkit's lifetimes, `idleTimeoutMs` and `absoluteTimeoutMs`,
 * still apply: a cookie cannot extend them). Setting `maxAge = null` (or `expires = false`) makes it a browser
 * session cookie again. Anonymous sessions always have browser-session cookies.
 */
export class CompatCookie {
  readonly path: string
  readonly domain: string | undefined
  readonly secure: boolean
  readonly httpOnly = true
  readonly sameSite: 'lax' | 'strict' | 'none'
  /** The `maxAge` last set, in ms (`null` for a browser-session cookie). */
  originalMaxAge: number | null = null
  #expires: Date | null = null
  /** What the app asked for in this request: persistent (true), browser-session (false), or nothing. */
  #requested: boolean | undefined

  static {
    requestedRememberMe = (cookie) => cookie.#requested
  }

  /** @param rememberedUntil the absolute deadline of a remembered session (epoch ms), else `undefined` */
  constructor(options: ResolvedCookieOptions, rememberedUntil: number | undefined) {
    this.path = options.path
    this.domain = options.domain
    this.secure = options.secure
    this.sameSite = options.sameSite
    if (rememberedUntil !== undefined) {
      this.#expires = new Date(rememberedUntil)
      this.originalMaxAge = Math.max(0, rememberedUntil - Date.now())
    }
  }

  get expires(): Date | null {
    return this.#expires
  }

  set expires(value: Date | null | false | undefined) {
    this.#expires = value instanceof Date ? value : null
    this.originalMaxAge = this.#expires ? this.#expires.getTime() - Date.now() : null
    this.#requested = this.#expires !== null && this.originalMaxAge !== null && this.originalMaxAge > 0
  }

  /** Milliseconds until the cookie expires, or `null` for a browser-session cookie. */
  get maxAge(): number | null {
    return this.#expires ? this.#expires.getTime() - Date.now() : null
  }

  set maxAge(value: number | Date | null | undefined) {
    const ms = value instanceof Date ? value.getTime() - Date.now() : value
    if (typeof ms === 'number' && Number.isFinite(ms) && ms > 0) {
      this.#expires = new Date(Date.now() + ms)
      this.originalMaxAge = ms
      this.#requested = true
    } else {
      this.#expires = null
      this.originalMaxAge = null
      this.#requested = false
    }
  }

  toJSON(): Record<string, unknown> {
    return {
      originalMaxAge: this.originalMaxAge,
      expires: this.#expires?.toISOString() ?? null,
      secure: this.secure,
      httpOnly: this.httpOnly,
      domain: this.domain ?? null,
      path: this.path,
      sameSite: this.sameSite,
    }
  }
}

export interface CompatBridgeOptions {
  readonly native: Session
  readonly cookie: ResolvedCookieOptions
  /** Without it, sign-in state is left to the native API (`req.sessionkit.signIn()`); regenerate still rotates. */
  readonly userId: CompatUserId | undefined
  /** Own property names that are never session data (`cookie`, and the API's method names). */
  readonly reserved: ReadonlySet<string>
  /** Opens the request's session again from its cookie (for `reload()`). */
  readonly reopen: () => Promise<Session>
  /** Called when the public id the app sees may have changed (after a save, regenerate or destroy). */
  readonly idChanged?: (id: string | undefined) => void
}

/**
 * Binds one request's compat session object (the "holder", replaced by `regenerate()`) to its native session.
 * The adapters read `isDirty` and call `commit()` before the response, like they do with a native session.
 */
export class CompatBridge {
  readonly native: Session
  readonly #cookieOptions: ResolvedCookieOptions
  readonly #userIdOf: CompatUserId | undefined
  readonly #reserved: ReadonlySet<string>
  readonly #reopen: () => Promise<Session>
  readonly #idChanged: ((id: string | undefined) => void) | undefined
  /** The object that is the request's session now; `undefined` once destroyed. */
  #holder: CompatHolder | undefined
  /** JSON of each key as the native session holds it (as loaded or last saved). */
  #baseline = new Map<string, string>()
  #regenerate = false
  /** The id the request came with: `reload()` reads the store again only while the session still has it. */
  readonly #openedId: string | undefined
  /** The save (or reload, destroy) in flight: they run one after another, never overlapping. */
  #queue: Promise<void> | undefined
  /** The id last reported through `idChanged`. */
  #reportedId: string | undefined

  constructor(options: CompatBridgeOptions) {
    this.native = options.native
    this.#cookieOptions = options.cookie
    this.#userIdOf = options.userId
    this.#reserved = options.reserved
    this.#reopen = options.reopen
    this.#idChanged = options.idChanged
    this.#openedId = options.native.id
    this.#reportedId = options.native.id
  }

  /**
   * A cookie object for the session (a remembered session's cookie has an expiry); after `regenerate()`, a fresh
   * browser-session one, as the peers give a regenerated session the default cookie.
   */
  newCookie(regenerated = false): CompatCookie {
    const native = this.native
    const until = !regenerated && native.rememberMe ? native.absoluteExpiresAt?.getTime() : undefined
    return new CompatCookie(this.#cookieOptions, until)
  }

  /** Makes `holder` the request's session, filled with the native session's data. */
  attach(holder: CompatHolder): void {
    this.#holder = holder
    this.#fill(holder, this.native)
  }

  /** The public id the app sees: `undefined` while the session is not stored (new, or regenerated and unsaved). */
  get id(): string | undefined {
    return this.#regenerate ? undefined : this.native.id
  }

  /**
   * For the adapters' save step: applies the data's key changes to the native session now (synchronously), and
   * tells whether a store call is due. The common case (nothing changed) costs no promise.
   */
  get isDirty(): boolean {
    if (this.#queue !== undefined) return true
    const holder = this.#holder
    try {
      if (holder !== undefined) {
        if (this.#plan(holder) !== undefined) return true
        this.#applyChanges(holder, false)
      }
    } catch {
      // commit() meets the same error (a bad value, a bad user id) and reports it through the adapter's error path.
      return true
    }
    return this.native.isDirty
  }

  /**
   * Saves: runs the sign-in, sign-out or rotation the data calls for, then writes the changed keys. Saves run one
   * after another.
   *
   * @throws {InvalidSessionValueError} a value JSON cannot carry
   * @throws {StoreUnavailableError}
   */
  commit(): Promise<void> {
    return this.#serial(() => this.#commitNow())
  }

  /** Replaces the request's session object; the old session is dropped at the next save (lazy regenerate). */
  regenerate(next: CompatHolder): void {
    this.#holder = next
    this.#regenerate = true
    this.#report()
  }

  /** Destroys the session in the store and clears the cookie. The request has no session object afterwards. */
  destroy(): Promise<void> {
    this.#holder = undefined
    this.#regenerate = false
    this.#baseline.clear()
    return this.#serial(async () => {
      await this.native.signOut()
      this.#report()
    })
  }

  /**
   * Discards unsaved changes and reads the session again: from the store while the session is the one the request
   * came with (other requests' writes show up), else from what this request stored.
   */
  reload(): Promise<void> {
    return this.#serial(async () => {
      const holder = this.#holder
      if (holder === undefined) return
      const id = this.native.id
      const source = id !== undefined && id === this.#openedId ? await this.#reopen() : this.native
      for (const key of Object.keys(holder)) {
        if (!this.#reserved.has(key)) Reflect.deleteProperty(holder, key)
      }
      this.#regenerate = false
      this.#fill(holder, source)
      this.#report()
    })
  }

  async #commitNow(): Promise<void> {
    const holder = this.#holder
    if (holder === undefined) return this.native.commit()
    const regenerate = this.#regenerate
    const step = this.#plan(holder)
    const native = this.native
    switch (step) {
      case undefined:
        this.#applyChanges(holder, false)
        break
      case 'signIn': {
        // Same owner (or anonymous before): the data rides along in the sign-in's create. Another user's
        // sign-in carries nothing, so the data is written again after it.
        this.#applyChanges(holder, regenerate)
        const user = this.#userOf(holder) as string
        await native.signIn(user, { rememberMe: requestedRememberMe(holder.cookie) ?? false })
        this.#writeAll(holder)
        break
      }
      case 'signOut':
        await native.signOut()
        this.#writeAll(holder)
        break
      case 'rotate':
        this.#applyChanges(holder, true)
        await native.rotate()
        break
      case 'drop':
        if (native.isNew) this.#applyChanges(holder, true)
        else await native.signOut()
        break
    }
    this.#regenerate = false
    await native.commit()
    this.#report()
  }

  #report(): void {
    const id = this.id
    if (id === this.#reportedId) return
    this.#reportedId = id
    this.#idChanged?.(id)
  }

  /** The lifecycle step the data calls for, if any. */
  #plan(holder: CompatHolder): Step | undefined {
    const native = this.native
    if (this.#userIdOf !== undefined) {
      const user = this.#userOf(holder)
      const current = native.userId
      if (user !== undefined) {
        if (user !== current || this.#regenerate) return 'signIn'
        const remember = requestedRememberMe(holder.cookie)
        return remember !== undefined && remember !== native.rememberMe ? 'signIn' : undefined
      }
      if (current !== undefined) return 'signOut'
    }
    if (this.#regenerate) return hasData(holder, this.#reserved) ? 'rotate' : 'drop'
    return undefined
  }

  /** @throws {InvalidUserIdError} `userId(data)` returned something that is not a user id */
  #userOf(holder: CompatHolder): string | undefined {
    const raw = this.#userIdOf?.(holder as unknown as CompatSessionData)
    return raw === undefined || raw === null ? undefined : normalizeUserId(raw)
  }

  /**
   * Writes the keys whose JSON differs from the baseline and deletes the keys that are gone. `exact` (after a
   * regenerate) also deletes every stored key the data does not have.
   */
  #applyChanges(holder: CompatHolder, exact: boolean): void {
    const baseline = this.#baseline
    const data = holder as unknown as Record<string, unknown>
    const before = baseline.size
    let kept = 0
    for (const key of Object.keys(data)) {
      if (this.#reserved.has(key)) continue
      const json = toJson(key, data[key])
      if (json === undefined) continue
      const previous = baseline.get(key)
      if (previous !== undefined) kept++
      if (previous !== json) {
        this.native.set(key, JSON.parse(json) as JsonValue)
        baseline.set(key, json)
      }
    }
    if (kept < before) {
      for (const key of [...baseline.keys()]) {
        if (!Object.hasOwn(data, key) || toJson(key, data[key]) === undefined) {
          this.native.delete(key)
          baseline.delete(key)
        }
      }
    }
    if (exact) for (const key of [...this.native.keys()]) if (!baseline.has(key)) this.native.delete(key)
  }

  /** After a sign-in or sign-out replaced the native data: writes every key (unchanged ones are no-ops). */
  #writeAll(holder: CompatHolder): void {
    const data = holder as unknown as Record<string, unknown>
    this.#baseline.clear()
    for (const key of Object.keys(data)) {
      if (this.#reserved.has(key)) continue
      const json = toJson(key, data[key])
      if (json === undefined) continue
      this.native.set(key, JSON.parse(json) as JsonValue)
      this.#baseline.set(key, json)
    }
  }

  /** Copies a session's data onto `holder` and takes it as the baseline. */
  #fill(holder: CompatHolder, source: Session): void {
    const data = holder as unknown as Record<string, unknown>
    this.#baseline.clear()
    for (const [key, value] of source.entries()) {
      // As express-session does: a stored key never shadows the session's own API (`cookie`, `save`...).
      if (this.#reserved.has(key) || key in data) continue
      data[key] = value
      this.#baseline.set(key, JSON.stringify(value))
    }
  }

  #serial(work: () => Promise<void>): Promise<void> {
    const previous = this.#queue ?? Promise.resolve()
    const run = previous.then(work, work)
    const tail = run.then(noop, noop)
    this.#queue = tail
    void tail.then(() => {
      if (this.#queue === tail) this.#queue = undefined
    })
    return run
  }
}

function noop(): void {
  return undefined
}

function hasData(holder: CompatHolder, reserved: ReadonlySet<string>): boolean {
  for (const key of Object.keys(holder)) if (!reserved.has(key)) return true
  return false
}

/** The key's JSON as express-session's stores would write it; `undefined` when JSON drops the value. */
function toJson(key: string, value: unknown): string | undefined {
  try {
    // JSON.stringify answers undefined for undefined, functions and symbols, whatever its type says.
    const json: string | undefined = JSON.stringify(value)
    return json
  } catch (error) {
    throw new InvalidSessionValueError(key, '$', error instanceof Error ? error.message : String(error))
  }
}
