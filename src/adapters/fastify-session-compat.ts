/**
 * `request.session` in the @fastify/session API mode (`app.register(sessionPlugin, { sessionkit, api:
 * '@fastify/session', userId })`): an object that behaves like @fastify/session's `Session`, so its apps (and
 * @fastify/passport on top) run unchanged. The mapping onto the native session is `CompatBridge`'s.
 *
 * @module
 */
import { inspect } from 'node:util'
import { bridgeOf, type CompatCallback, type CompatCookie } from './compat-session.js'
import { plainCopy } from './express-session-compat.js'

/** Own property names that are never session data in this mode. */
export const FASTIFY_RESERVED: ReadonlySet<string> = new Set([
  'cookie',
  'sessionId',
  'get',
  'set',
  'data',
  'regenerate',
  'destroy',
  'reload',
  'save',
  'touch',
])

/**
 * @fastify/session's `Session`, on sessionkit. `get(key)` / `set(key, value)` (`set(key, undefined)` deletes),
 * or plain property access; the changed top-level keys are saved before the response.
 *
 * - `sessionId` is the session's public id (the one `listSessions()` shows), never the token; `undefined` until
 *   the session is stored.
 * - `regenerate(keepFields?)` gives the request a new session object at once (keeping the named fields); the old
 *   session is dropped and the new token issued at the next save, as one rotation.
 * - `touch()` does nothing: sessionkit slides the idle deadline itself (at most once per `touchIntervalMs`).
 *
 * @example
 * ```ts
 * await app.register(sessionPlugin, { sessionkit: kit, api: '@fastify/session', userId: (data) => data.passport })
 * app.get('/', async (request) => {
 *   request.session.set('views', ((request.session.get('views') as number | undefined) ?? 0) + 1)
 *   return { views: request.session.get('views') }
 * })
 * ```
 */
export class FastifySessionCompat {
  [key: string]: unknown
  /** The session cookie (`maxAge`: see `CompatCookie`); made on first use. */
  declare cookie: CompatCookie

  /** The public id (`<tag>.<27 chars>`), or `undefined` while the session is not stored. */
  get sessionId(): string | undefined {
    return bridgeOf(this).id
  }

  /** The value of a session key. */
  get(key: string): unknown {
    return FASTIFY_RESERVED.has(key) || !Object.hasOwn(this, key) ? undefined : this[key]
  }

  /** Sets a session key; `undefined` deletes it. */
  set(key: string, value: unknown): void {
    if (FASTIFY_RESERVED.has(key)) return
    if (value === undefined) Reflect.deleteProperty(this, key)
    else this[key] = value
  }

  /** The session data as a plain object (a shallow copy). */
  data(): Record<string, unknown> {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(this)) if (!FASTIFY_RESERVED.has(key)) out[key] = this[key]
    return out
  }

  /**
   * Replaces `request.session` with a new session holding only `keepFields`; the old one is gone once saved.
   * Returns a promise, or calls `callback`.
   */
  regenerate(
    keepFields?: readonly string[] | CompatCallback,
    callback?: CompatCallback,
  ): Promise<void> | undefined {
    const done = typeof keepFields === 'function' ? keepFields : callback
    const bridge = bridgeOf(this)
    const kept: [string, unknown][] = []
    if (Array.isArray(keepFields)) {
      for (const key of keepFields as readonly string[]) kept.push([key, this.get(key)])
    }
    const next = bridge.regenerate(new FastifySessionCompat())
    for (const [key, value] of kept) next.set(key, value)
    return settle(Promise.resolve(), done)
  }

  /** Signs out: destroys the session in the store, clears the cookie, and sets `request.session` to `null`. */
  destroy(callback?: CompatCallback): Promise<void> | undefined {
    return settle(bridgeOf(this).destroy(), callback)
  }

  /** Discards unsaved changes and reads the session again. */
  reload(callback?: CompatCallback): Promise<void> | undefined {
    return settle(bridgeOf(this).reload(), callback)
  }

  /** Saves now (the changed keys, and any sign-in or sign-out `userId(data)` calls for). */
  save(callback?: CompatCallback): Promise<void> | undefined {
    return settle(bridgeOf(this).commit(), callback)
  }

  /** Does nothing: sessionkit slides the idle deadline on its own (at most once per `touchIntervalMs`). */
  touch(): void {
    return undefined
  }

  /** `console.log(request.session)` shows the data (util.inspect looks past the Proxy, at unread keys too). */
  [inspect.custom](): Record<string, unknown> {
    return plainCopy(this)
  }
}

/** @fastify/session's convention: a promise without a callback, the callback (and no promise) with one. */
function settle(work: Promise<void>, callback: CompatCallback | undefined): Promise<void> | undefined {
  if (!callback) return work
  work.then(
    () => {
      callback()
    },
    (error: unknown) => {
      callback(error)
    },
  )
  return undefined
}
