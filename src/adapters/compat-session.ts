/**
 * What the express-session and @fastify/session API modes share, free of any framework. The application works on
 * a plain-looking object (property access, nested mutation, as with those libraries); at each save its changes
 * are mapped onto the native {@link Session}:
 *
 * - **Per-key deltas.** Each top-level key the request touched is compared (as JSON) with what was loaded or
 *   last saved, and only the keys that differ are set or deleted on the native session, so the conditional save
 *   scripts keep their no-lost-update and no-resurrection guarantees in these modes too.
 * - **Lazy values.** The object is a Proxy: a value is parsed from the stored JSON when the app first reads it,
 *   and keys the request never read cannot have changed, so they are neither parsed nor compared. A request that
 *   reads one key of a large session pays for one key.
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

/**
 * The callback of the compat sessions' `save`, `destroy`, `reload` and `regenerate`, as express-session and
 * @fastify/session take it: called once the work is done, with its error if it failed.
 */
export type CompatCallback = (error?: unknown) => void

/** A compat session object (the Proxy's target): its own properties are the data, plus `cookie`. */
export interface CompatTarget {
  readonly cookie: CompatCookie
}

/** What lifecycle step a save must run before writing the changed keys. */
type Step = 'signIn' | 'signOut' | 'rotate' | 'drop'

/** Baseline of a key whose stored JSON was never read: it matches no JSON, so the key is always written. */
const UNREAD = ''

let requestedRememberMe: (cookie: CompatCookie) => boolean | undefined

/**
 * `session.cookie` in the compat modes. Setting `maxAge` (or a future `expires`) makes the cookie persistent: at
 * sign-in, or right away for a signed-in session, the session is signed in with `rememberMe`, and the cookie then
 * lasts until the session's absolute deadline (sessionkit's lifetimes, `idleTimeoutMs` and `absoluteTimeoutMs`,
 * still apply: a cookie cannot extend them). Setting `maxAge = null` (or `expires = false`) makes it a browser
 * session cookie again. Anonymous sessions always have browser-session cookies.
 */
export class CompatCookie {
  /** The cookie's `Path` (sessionkit's `cookie.path`). */
  readonly path: string
  /** The cookie's `Domain`; `undefined` for a host-only cookie. */
  readonly domain: string | undefined
  /** Whether the cookie is `Secure` (sessionkit's `cookie.secure`). */
  readonly secure: boolean
  /** Always true: the session cookie is never readable by scripts. */
  readonly httpOnly = true
  /** The cookie's `SameSite` (sessionkit's `cookie.sameSite`). */
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

  /**
   * When the cookie expires: a future `Date` makes it persistent (`rememberMe`); `null`, `false` or a past date
   * makes it a browser-session cookie.
   */
  get expires(): Date | null {
    return this.#expires
  }

  /** Sets the expiry: a future `Date` asks for a persistent cookie, anything else for a browser-session one. */
  set expires(value: Date | null | false | undefined) {
    const ms = value instanceof Date ? value.getTime() - Date.now() : 0
    this.#expires = ms > 0 ? (value as Date) : null
    this.originalMaxAge = ms > 0 ? ms : null
    this.#requested = ms > 0
  }

  /** Milliseconds until the cookie expires, or `null` for a browser-session cookie. */
  get maxAge(): number | null {
    return this.#expires ? this.#expires.getTime() - Date.now() : null
  }

  /** Sets the lifetime in ms (a `Date` is read as "until then"): positive asks for a persistent cookie, else not. */
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

  /** express-session's JSON shape of a cookie (`originalMaxAge`, `expires` as ISO 8601, the attributes). */
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

/** What a compat mode needs, resolved once per app. */
export interface CompatConfig {
  readonly cookie: ResolvedCookieOptions
  /** Without it, sign-in state is left to the native API (`req.sessionkit.signIn()`); regenerate still rotates. */
  readonly userId: CompatUserId | undefined
  /** Own property names that are never session data (`cookie`, and the API's method names). */
  readonly reserved: ReadonlySet<string>
}

/**
 * What the bridge asks of the request it belongs to. The adapters' per-request HTTP objects implement it (methods
 * on a prototype: a request allocates no closures for it).
 */
export interface CompatHost {
  /** Opens the request's session again from its cookie (for `reload()`). */
  reopen(): Promise<Session>
  /** Puts a new session object on the request (`regenerate()`), or removes it (`destroy()`: `undefined`). */
  replaceSession(session: CompatTarget | undefined): void
  /** Called once, at the first sign that the request may change the session (so Express holds `res.end`). */
  sessionChanging?(): void
  /** Called when the public id the app sees may have changed (after a save, regenerate or destroy). */
  sessionIdChanged?(id: string | undefined): void
}

/**
 * Where a compat session object keeps its bridge: a non-enumerable symbol property, invisible to `Object.keys`,
 * spread and JSON. (A WeakMap would do too, but its entries, two per request, made the garbage collector's
 * ephemeron work the largest cost of the mode.)
 */
const BRIDGE = Symbol('sessionkit.bridge')

interface Bridged {
  readonly [BRIDGE]?: CompatBridge
}

/** The bridge of a compat session object; for the compat classes' methods. */
export function bridgeOf(session: object): CompatBridge {
  const bridge = (session as Bridged)[BRIDGE]
  if (!bridge) throw new TypeError('sessionkit: not a session object made by the session middleware')
  return bridge
}

/**
 * Binds one request's compat session object (replaced by `regenerate()`) to its native session. The adapters
 * read `isDirty` and call `commit()` before the response, as they do with a native session.
 */
export class CompatBridge {
  readonly native: Session
  readonly #config: CompatConfig
  readonly #host: CompatHost
  /**
   * Where the keys the app has not read yet come from: the native session, the session `reload()` read, or
   * nothing (after `regenerate()` or `destroy()`: the new session object starts empty).
   */
  #source: Session | undefined
  /** The object behind the request's session Proxy; `undefined` once destroyed. */
  #target: CompatTarget | undefined
  /** The Proxy the app holds as its session (over `#target`). */
  #holder: CompatTarget | undefined
  /**
   * JSON of each read or written key as the native session holds it (`UNREAD` when it was never read). Made at
   * the first read or write: many requests never touch the session.
   */
  #baseline: Map<string, string> | undefined
  #regenerate = false
  #changed = false
  /** The id the request came with: `reload()` reads the store again only while the session still has it. */
  readonly #openedId: string | undefined
  /** The save (or reload, destroy) in flight: they run one after another, never overlapping. */
  #queue: Promise<void> | undefined
  /** The id last reported through `sessionIdChanged`. */
  #reportedId: string | undefined

  constructor(native: Session, config: CompatConfig, host: CompatHost) {
    this.native = native
    this.#source = native
    this.#config = config
    this.#host = host
    this.#openedId = native.id
    this.#reportedId = native.id
  }

  /** Makes `target` the request's session, holding the native session's data: returns the Proxy the app sees. */
  open<T extends CompatTarget>(target: T): T {
    return this.#wrap(target)
  }

  /** The public id the app sees: `undefined` while the session is not stored (new, or regenerated and unsaved). */
  get id(): string | undefined {
    return this.#regenerate ? undefined : this.native.id
  }

  /**
   * For the adapters' save step: applies the changed keys to the native session now (synchronously), and tells
   * whether a store call is due. The common case (nothing changed) costs no promise.
   */
  get isDirty(): boolean {
    if (this.#queue !== undefined) return true
    const target = this.#target
    try {
      if (target !== undefined) {
        if (this.#plan(target) !== undefined) return true
        this.#applyChanges(target, false)
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
    this.#noteChange()
    return this.#serial(() => this.#commitNow())
  }

  /**
   * Gives the request `next` (a new, empty compat session object) as its session; the old session is dropped at
   * the next save (lazy regenerate). Returns the Proxy the app sees.
   */
  regenerate<T extends CompatTarget>(next: T): T {
    this.#noteChange()
    if (this.#target !== undefined) this.readAll(this.#target)
    this.#source = undefined
    this.#regenerate = true
    const wrapped = this.#wrap(next)
    this.#host.replaceSession(wrapped)
    this.#report()
    return wrapped
  }

  /** Destroys the session in the store and clears the cookie. The request has no session object afterwards. */
  destroy(): Promise<void> {
    this.#noteChange()
    this.#source = undefined
    this.#target = undefined
    this.#holder = undefined
    this.#regenerate = false
    this.#baseline = undefined
    this.#host.replaceSession(undefined)
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
    this.#noteChange()
    return this.#serial(async () => {
      const target = this.#target
      if (target === undefined) return
      const id = this.native.id
      const source = id !== undefined && id === this.#openedId ? await this.#host.reopen() : this.native
      const reserved = this.#config.reserved
      for (const key of Object.keys(target)) if (!reserved.has(key)) Reflect.deleteProperty(target, key)
      this.#source = source
      this.#regenerate = false
      this.#baseline = undefined
      this.#report()
    })
  }

  /** Whether `key` of `target` is stored data the app has not read yet (or the cookie, not made yet). */
  isUnread(target: CompatTarget, key: string): boolean {
    if (Object.hasOwn(target, key)) return false
    if (key === 'cookie') return true
    const source = this.#source
    return (
      source !== undefined &&
      target === this.#target &&
      !this.#config.reserved.has(key) &&
      this.#baseline?.has(key) !== true &&
      source.has(key) &&
      !(key in target)
    )
  }

  /** A key of the target is about to be read: makes it an own property if it is still unread. (For the Proxy.) */
  read(target: CompatTarget, key: string): void {
    if (!this.isUnread(target, key)) return
    const data = target as unknown as Record<string, unknown>
    if (key === 'cookie') {
      // Made on first use: most requests never look at it. It can be changed in place (`maxAge`).
      data.cookie = this.#newCookie(target)
      this.#noteChange()
      return
    }
    const value = (this.#source as Session).get(key)
    data[key] = value
    this.#baselineMap().set(key, JSON.stringify(value))
    // An object handed out can be changed in place, out of sight: the end of the request must compare it.
    if (typeof value === 'object' && value !== null) this.#noteChange()
  }

  /** A key is about to be assigned, deleted or defined. (For the Proxy.) */
  write(target: CompatTarget, key: string): void {
    if (this.isUnread(target, key) && key !== 'cookie') this.#baselineMap().set(key, UNREAD)
    this.#noteChange()
  }

  /** Reads every unread key (for iteration, `Object.keys`, `JSON.stringify`...). */
  readAll(target: CompatTarget): void {
    this.read(target, 'cookie')
    const source = this.#source
    if (source === undefined || target !== this.#target) return
    for (const key of source.keys()) this.read(target, key)
  }

  /** A cookie object for the session: a remembered session's has its expiry; a regenerated one is fresh. */
  #newCookie(target: CompatTarget): CompatCookie {
    const native = this.native
    const fresh = this.#regenerate && target === this.#target
    const until = !fresh && native.rememberMe ? native.absoluteExpiresAt?.getTime() : undefined
    return new CompatCookie(this.#config.cookie, until)
  }

  async #commitNow(): Promise<void> {
    const target = this.#target
    if (target === undefined) return this.native.commit()
    const regenerate = this.#regenerate
    const step = this.#plan(target)
    const native = this.native
    switch (step) {
      case undefined:
        this.#applyChanges(target, false)
        break
      case 'signIn': {
        // Same owner (or anonymous before): the data rides along in the sign-in's create. Another user's
        // sign-in carries nothing, so the data is written again after it (read first: the store's copy goes).
        this.readAll(target)
        this.#applyChanges(target, regenerate)
        const user = this.#userOf(target) as string
        await native.signIn(user, { rememberMe: requestedOf(target) ?? false })
        this.#writeAll(target)
        break
      }
      case 'signOut':
        this.readAll(target)
        await native.signOut()
        this.#writeAll(target)
        break
      case 'rotate':
        this.#applyChanges(target, true)
        await native.rotate()
        break
      case 'drop':
        if (native.isNew) this.#applyChanges(target, true)
        else await native.signOut()
        break
    }
    this.#regenerate = false
    await native.commit()
    this.#report()
  }

  /** The lifecycle step the data calls for, if any. */
  #plan(target: CompatTarget): Step | undefined {
    const native = this.native
    if (this.#config.userId !== undefined) {
      const user = this.#userOf(target)
      const current = native.userId
      if (user !== undefined) {
        if (user !== current || this.#regenerate) return 'signIn'
        const remember = requestedOf(target)
        return remember !== undefined && remember !== native.rememberMe ? 'signIn' : undefined
      }
      if (current !== undefined) return 'signOut'
    }
    if (this.#regenerate) return this.#hasData(target) ? 'rotate' : 'drop'
    return undefined
  }

  /** @throws {InvalidUserIdError} `userId(data)` returned something that is not a user id */
  #userOf(target: CompatTarget): string | undefined {
    const fn = this.#config.userId
    if (fn === undefined) return undefined
    // The app's function reads through the Proxy, so the keys it needs are parsed on demand.
    const raw = fn((this.#target === target ? this.#holder : target) as unknown as CompatSessionData)
    return raw === undefined || raw === null ? undefined : normalizeUserId(raw)
  }

  /**
   * Writes the read or assigned keys whose JSON differs from the baseline, and deletes the keys that are gone.
   * Unread keys cannot have changed and are skipped. `exact` (after a regenerate) also deletes every stored key
   * the new session object does not have.
   */
  #applyChanges(target: CompatTarget, exact: boolean): void {
    const reserved = this.#config.reserved
    const data = target as unknown as Record<string, unknown>
    let baseline = this.#baseline
    const before = baseline?.size ?? 0
    let kept = 0
    for (const key of Object.keys(data)) {
      if (reserved.has(key)) continue
      const json = toJson(key, data[key])
      if (json === undefined) continue
      const previous = baseline?.get(key)
      if (previous !== undefined) kept++
      if (previous !== json) {
        this.native.set(key, JSON.parse(json) as JsonValue)
        baseline ??= this.#baselineMap()
        baseline.set(key, json)
      }
    }
    if (baseline !== undefined && kept < before) {
      for (const key of [...baseline.keys()]) {
        if (!Object.hasOwn(data, key) || toJson(key, data[key]) === undefined) {
          this.native.delete(key)
          baseline.delete(key)
        }
      }
    }
    if (exact)
      for (const key of [...this.native.keys()]) if (baseline?.has(key) !== true) this.native.delete(key)
  }

  /**
   * After a sign-in or sign-out replaced the native data: writes every key (unchanged ones are no-ops). Every key
   * was read before the sign-in or sign-out.
   */
  #writeAll(target: CompatTarget): void {
    const reserved = this.#config.reserved
    const data = target as unknown as Record<string, unknown>
    const baseline = new Map<string, string>()
    this.#baseline = baseline
    for (const key of Object.keys(data)) {
      if (reserved.has(key)) continue
      const json = toJson(key, data[key])
      if (json === undefined) continue
      this.native.set(key, JSON.parse(json) as JsonValue)
      baseline.set(key, json)
    }
  }

  #baselineMap(): Map<string, string> {
    this.#baseline ??= new Map()
    return this.#baseline
  }

  #hasData(target: CompatTarget): boolean {
    for (const key of Object.keys(target)) if (!this.#config.reserved.has(key)) return true
    const source = this.#source
    if (source === undefined) return false
    for (const key of source.keys()) if (this.isUnread(target, key)) return true
    return false
  }

  #wrap<T extends CompatTarget>(target: T): T {
    Object.defineProperty(target, BRIDGE, { value: this })
    const wrapped = new Proxy<T>(target, LAZY_DATA)
    this.#target = target
    this.#holder = wrapped
    return wrapped
  }

  #noteChange(): void {
    if (this.#changed) return
    this.#changed = true
    this.#host.sessionChanging?.()
  }

  #report(): void {
    const id = this.id
    if (id === this.#reportedId) return
    this.#reportedId = id
    this.#host.sessionIdChanged?.(id)
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

/** What the app asked of the cookie in this request, if it made the cookie at all (without a trap). */
function requestedOf(target: CompatTarget): boolean | undefined {
  const cookie = Object.hasOwn(target, 'cookie') ? target.cookie : undefined
  return cookie instanceof CompatCookie ? requestedRememberMe(cookie) : undefined
}

function bridgeOfTarget(target: CompatTarget): CompatBridge {
  return (target as Bridged)[BRIDGE] as CompatBridge
}

/**
 * The Proxy handler (one for all requests): reads make unread keys own properties on demand; assignments,
 * deletions and definitions mark a key as changed; enumeration reads every key first, so `Object.keys`, spread and
 * `JSON.stringify` see all the data.
 */
const LAZY_DATA: ProxyHandler<CompatTarget> = {
  get(target, key, receiver): unknown {
    if (typeof key === 'string') bridgeOfTarget(target).read(target, key)
    return Reflect.get(target, key, receiver)
  },
  set(target, key, value) {
    if (typeof key === 'string') bridgeOfTarget(target).write(target, key)
    return Reflect.set(target, key, value)
  },
  deleteProperty(target, key) {
    if (typeof key === 'string') bridgeOfTarget(target).write(target, key)
    return Reflect.deleteProperty(target, key)
  },
  defineProperty(target, key, descriptor) {
    if (typeof key === 'string') bridgeOfTarget(target).write(target, key)
    return Reflect.defineProperty(target, key, descriptor)
  },
  has(target, key) {
    return (
      (typeof key === 'string' && bridgeOfTarget(target).isUnread(target, key)) || Reflect.has(target, key)
    )
  },
  ownKeys(target) {
    bridgeOfTarget(target).readAll(target)
    return Reflect.ownKeys(target)
  },
  getOwnPropertyDescriptor(target, key) {
    if (typeof key === 'string') bridgeOfTarget(target).read(target, key)
    return Reflect.getOwnPropertyDescriptor(target, key)
  },
}

function noop(): void {
  return undefined
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
