/**
 * `req.session` in the express-session API mode (`sessionMiddleware(kit, { api: 'express-session', userId })`):
 * an object that behaves like express-session's `Session`, so express-session apps (and passport on top) run
 * unchanged. Its own properties are the session data; the rest is `regenerate`, `destroy`, `save`, `reload`,
 * `touch`, `resetMaxAge`, `id` and `cookie`. The mapping onto the native session is `CompatBridge`'s.
 *
 * @module
 */
import { inspect } from 'node:util'
import { bridgeOf, type CompatCallback, type CompatCookie } from './compat-session.js'

/** Own property names that are never session data in this mode. */
export const EXPRESS_RESERVED: ReadonlySet<string> = new Set([
  'cookie',
  'id',
  'regenerate',
  'destroy',
  'save',
  'reload',
  'touch',
  'resetMaxAge',
])

/**
 * express-session's `Session`, on sessionkit. Read and assign properties (`req.session.views = 1`,
 * `req.session.cart.items.push(x)`, `delete req.session.flash`): the changed top-level keys are saved before the
 * response.
 *
 * - `id` (and `req.sessionID`) is the session's public id (the one `listSessions()` shows), never the token; it
 *   is `undefined` until the session is stored (a new visitor's first save, or the save after `regenerate()`).
 * - `regenerate(cb)` gives the request a new, empty session object at once; the old session is dropped and the
 *   new token issued at the next save (`save()` or the end of the response), as one rotation.
 * - `touch()` and `resetMaxAge()` do nothing: sessionkit slides the idle deadline itself, at most once per
 *   `touchIntervalMs`.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(kit, { api: 'express-session', userId: (data) => data.passport?.user }))
 * app.get('/', (req, res) => {
 *   req.session.views = (req.session.views ?? 0) + 1
 *   res.send(`views: ${req.session.views}`)
 * })
 * ```
 */
export class ExpressSessionCompat {
  [key: string]: unknown
  /** The session cookie (`maxAge`: see `CompatCookie`); made on first use. */
  declare cookie: CompatCookie

  /** The public id (`<tag>.<27 chars>`), or `undefined` while the session is not stored. */
  get id(): string | undefined {
    return bridgeOf(this).id
  }

  /** Replaces `req.session` with a new, empty session; the old one is gone once saved. */
  regenerate(callback?: CompatCallback): this {
    const bridge = bridgeOf(this)
    bridge.regenerate(new ExpressSessionCompat())
    if (callback) process.nextTick(callback)
    return this
  }

  /** Signs out: destroys the session in the store, clears the cookie, and removes `req.session`. */
  destroy(callback?: CompatCallback): this {
    settle(bridgeOf(this).destroy(), callback)
    return this
  }

  /** Saves now (the changed keys, and any sign-in or sign-out `userId(data)` calls for). */
  save(callback?: CompatCallback): this {
    settle(bridgeOf(this).commit(), callback)
    return this
  }

  /** Discards unsaved changes and reads the session again. */
  reload(callback?: CompatCallback): this {
    settle(bridgeOf(this).reload(), callback)
    return this
  }

  /** Does nothing: sessionkit slides the idle deadline on its own (at most once per `touchIntervalMs`). */
  touch(): this {
    return this
  }

  /** Does nothing, as `touch()`. */
  resetMaxAge(): this {
    return this
  }

  /** `console.log(req.session)` shows the data (util.inspect looks past the Proxy, at unread keys too). */
  [inspect.custom](): Record<string, unknown> {
    return plainCopy(this)
  }
}

/** The data and cookie of a compat session as a plain object. */
export function plainCopy(session: object): Record<string, unknown> {
  bridgeOf(session).readAll(session as ExpressSessionCompat)
  return { ...(session as Record<string, unknown>) }
}

/** Calls back after the work, with its error; without a callback an error is dropped, as express-session does. */
function settle(work: Promise<void>, callback: CompatCallback | undefined): void {
  work.then(
    () => callback?.(),
    (error: unknown) => callback?.(error),
  )
}
