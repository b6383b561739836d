/**
 * Express (4 and 5) middleware: `req.session`, the current session for code without `req`, and the save
 * before the response ends.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { createSessionkit, MemoryStore } from 'sessionkit'
 * import { sessionMiddleware } from 'sessionkit/express'
 *
 * const kit = createSessionkit({ store: new MemoryStore() })
 * const app = express()
 * app.use(sessionMiddleware(kit))
 * app.get('/', (req, res) => {
 *   req.session.set('visits', (req.session.get<number>('visits') ?? 0) + 1)
 *   res.send('hello')
 * })
 * ```
 *
 * @module
 */
import { AsyncResource } from 'node:async_hooks'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { runWithSession } from '../core/current.js'
import { HeadersSentError, InvalidOptionsError } from '../core/errors.js'
import { rejectUnknownOptions } from '../core/option-checks.js'
import type { Session } from '../core/session.js'
import type { Sessionkit } from '../core/sessionkit.js'
import type { HttpContext } from '../core/state.js'
import {
  CompatBridge,
  type CompatConfig,
  type CompatHost,
  type CompatTarget,
  type CompatUserId,
} from './compat-session.js'
import { EXPRESS_RESERVED, ExpressSessionCompat } from './express-session-compat.js'
import { NO_STORE, replaceSetCookie } from './set-cookie.js'

export { ExpressSessionCompat } from './express-session-compat.js'
export { CompatCookie } from './compat-session.js'
export type { CompatCallback, CompatSessionData, CompatUserId } from './compat-session.js'

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The request's session (sessionkit). Always present after `sessionMiddleware`. */
      session: Session
      /**
       * The native sessionkit session in the express-session API mode (`req.session` is then express-session's
       * API); `undefined` in the default mode, where `req.session` is the native session.
       */
      sessionkit?: Session
    }
  }
}

/** The parts of Express's request the middleware reads and sets (Express 4 and 5 requests have them all). */
export interface ExpressRequest extends IncomingMessage {
  /** Set by the middleware: the native session (or, in the express-session API mode, that API's object). */
  session: Session
  /** Set by the middleware in the express-session API mode: the native session. */
  sessionkit?: Session
  /** The client address; read only when the app sets `trust proxy` (otherwise the socket's address is used). */
  readonly ip?: string | undefined
  /** `http` or `https`: a `Secure` cookie set over `http` for a remote host logs a warning. */
  readonly protocol?: string
  /** The host name, for that warning and for clearing tossed cookies. */
  readonly hostname?: string | undefined
  /** The path the request was sent to, for clearing tossed cookies. */
  readonly originalUrl?: string
  /** The Express app, for its `trust proxy` setting. */
  readonly app?: {
    /** Reads an app setting (`app.get('trust proxy')`). */
    get(setting: string): unknown
  }
}

/** Express's `next`: called with nothing to continue, or with an error for the error handlers. */
export type Next = (error?: unknown) => void

/** The middleware {@link sessionMiddleware} returns: mount it with `app.use()`. */
export type Middleware = (req: ExpressRequest, res: ServerResponse, next: Next) => void

/** Options of {@link sessionMiddleware}. */
export interface SessionMiddlewareOptions {
  /**
   * Make `req.session` reachable as `currentSession()` (AsyncLocalStorage) in code below the route. Default
   * true. On Node 20, AsyncLocalStorage turns on async hooks for the whole process, which costs a few percent of
   * CPU on every request; apps that never call `currentSession()` or `NamespacedSessionStore` without a session
   * can turn it off.
   */
  readonly bindCurrentSession?: boolean
  /**
   * Which API `req.session` offers: `'sessionkit'` (default, the native `Session`) or `'express-session'`
   * (express-session's: property access, `regenerate`, `save`, `destroy`...; the native session is then
   * `req.sessionkit`). See docs/migrating.md.
   */
  readonly api?: 'sessionkit' | 'express-session'
  /**
   * In the express-session API mode: who is signed in, from the session data (`(data) => data.passport?.user`
   * for passport). When it becomes set the session is signed in (new token, device, Active Sessions index);
   * when it is cleared the session leaves the index. Without it, sign-in is left to `req.sessionkit.signIn()`.
   */
  readonly userId?: CompatUserId
}

const OPTION_NAMES = ['bindCurrentSession', 'api', 'userId']

/**
 * Creates the session middleware. Mount it before the routes (and, ideally, before body parsers).
 *
 * - No cookie: no store call. A cookie: one store call (load, with throttled touch), before the routes run.
 * - The session is saved (only the changed keys) before the response ends; `Set-Cookie` is sent only when the
 *   token changed or a dead cookie must be cleared.
 * - A store failure goes to `next(err)` with `err.statusCode === 503`; the visitor's cookie is left alone.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(kit))
 * app.post('/login', async (req, res) => {
 *   await req.session.signIn(user.id, { rememberMe: req.body.remember_me === 'on' })
 *   res.redirect(303, '/')
 * })
 * ```
 * @throws {InvalidOptionsError} naming the first invalid (or unknown) option
 */
export function sessionMiddleware(kit: Sessionkit, options: SessionMiddlewareOptions = {}): Middleware {
  checkOptions(options)
  kit.warmUp()
  const bindCurrent = options.bindCurrentSession ?? true
  if (options.api === 'express-session') return compatMiddleware(kit, bindCurrent, options.userId)
  return function sessionkit(req, res, next) {
    const http = new ExpressHttp(kit, req, res, next)
    kit.openSession(http).then((session) => {
      req.session = session
      http.committer = session
      enter(req, session, bindCurrent, next)
    }, next)
  }
}

/**
 * The express-session API mode: `req.session` is an `ExpressSessionCompat` over the native session (which is
 * `req.sessionkit`). `res.end` is held as soon as the request may change the session: an assignment, a
 * regenerate, or an object value read out of it (it can be changed in place).
 */
function compatMiddleware(
  kit: Sessionkit,
  bindCurrent: boolean,
  userId: CompatUserId | undefined,
): Middleware {
  const config: CompatConfig = { cookie: kit.options.cookie, userId, reserved: EXPRESS_RESERVED }
  return function sessionkit(req, res, next) {
    const http = new ExpressCompatHttp(kit, req, res, next)
    kit.openSession(http).then((native) => {
      const bridge = new CompatBridge(native, config, http)
      http.committer = bridge
      const compatReq = req as unknown as CompatRequest
      compatReq.session = bridge.open(new ExpressSessionCompat())
      compatReq.sessionID = native.id
      req.sessionkit = native
      enter(req, native, bindCurrent, next)
    }, next)
  }
}

/** The request properties the express-session API mode sets, as express-session does. */
interface CompatRequest {
  session?: object
  sessionID?: string | undefined
}

/** Runs the rest of the request with `session` as the current session (unless turned off). */
function enter(req: ExpressRequest, session: Session, bindCurrent: boolean, next: Next): void {
  if (!bindCurrent) {
    next()
  } else if (!hasBody(req)) {
    runWithSession(session, next)
  } else {
    runWithSession(session, () => {
      // Body parsers call next() from the request stream's events, which run outside this async context;
      // wrapping emit in this context keeps the current session reachable after them.
      req.emit = AsyncResource.bind(req.emit.bind(req), 'sessionkit.request')
      next()
    })
  }
}

function checkOptions(options: SessionMiddlewareOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError('sessionMiddleware options must be an object')
  }
  rejectUnknownOptions('sessionMiddleware', options, OPTION_NAMES)
  const { api, userId } = options
  if (api !== undefined && api !== 'sessionkit' && api !== 'express-session') {
    throw new InvalidOptionsError(`api must be 'sessionkit' or 'express-session', got ${JSON.stringify(api)}`)
  }
  if (userId !== undefined && typeof userId !== 'function') {
    throw new InvalidOptionsError('userId must be a function: (data) => the signed-in user id, or undefined')
  }
  if (userId !== undefined && api !== 'express-session') {
    throw new InvalidOptionsError("userId applies to api: 'express-session' only")
  }
}

/** One per request; methods on the prototype, so a request allocates one small object. */
class ExpressHttp implements HttpContext {
  readonly cookieHeader: string | undefined
  readonly userAgent: string | undefined
  /** What saves the session (the native session, or the compat mode's bridge); set once it is open. */
  committer: Committer | undefined
  readonly #kit: Sessionkit
  readonly #req: ExpressRequest
  readonly #res: ServerResponse
  readonly #next: Next
  #holding = false

  constructor(kit: Sessionkit, req: ExpressRequest, res: ServerResponse, next: Next) {
    this.cookieHeader = req.headers.cookie
    this.userAgent = req.headers['user-agent']
    this.#kit = kit
    this.#req = req
    this.#res = res
    this.#next = next
  }

  get ipAddress(): string | undefined {
    const req = this.#req
    // req.ip parses X-Forwarded-For on every call; it only matters when the app trusts a proxy.
    return req.app?.get('trust proxy') ? req.ip : req.socket.remoteAddress
  }

  headersSent(): boolean {
    return this.#res.headersSent
  }

  requestScope(): { host: string | undefined; path: string | undefined } {
    const req = this.#req
    return { host: req.hostname, path: req.originalUrl ?? req.url }
  }

  plainHttpHost(): string | undefined {
    const req = this.#req
    return req.protocol === 'http' ? req.hostname : undefined
  }

  sessionChanged(): void {
    // res.end is wrapped only once the session has something to save: patching a response object changes its
    // shape, which slows Node's whole HTTP path for that response (measured: ~25 µs per request).
    if (this.#holding || !this.committer) return
    this.#holding = true
    saveBeforeEnd(this.committer, this.#res, this.#next)
  }

  setCookie(value: string | undefined): void {
    const res = this.#res
    const list = replaceSetCookie(res.getHeader('Set-Cookie'), this.#kit.cookieName, value)
    if (list.length === 0) res.removeHeader('Set-Cookie')
    else res.setHeader('Set-Cookie', list)
    if (value !== undefined && !res.hasHeader('Cache-Control')) res.setHeader('Cache-Control', NO_STORE)
  }

  appendSetCookie(value: string): void {
    const res = this.#res
    const current = res.getHeader('Set-Cookie')
    const list = current === undefined ? [] : Array.isArray(current) ? [...current] : [String(current)]
    res.setHeader('Set-Cookie', [...list, value])
  }
}

/** The express-session API mode's per-request object: what the bridge asks of the request, on the prototype. */
class ExpressCompatHttp extends ExpressHttp implements CompatHost {
  readonly #kit: Sessionkit
  readonly #request: CompatRequest

  constructor(kit: Sessionkit, req: ExpressRequest, res: ServerResponse, next: Next) {
    super(kit, req, res, next)
    this.#kit = kit
    this.#request = req
  }

  reopen(): Promise<Session> {
    return this.#kit.openSession(this)
  }

  replaceSession(session: CompatTarget | undefined): void {
    if (session) this.#request.session = session
    else delete this.#request.session
  }

  sessionChanging(): void {
    this.sessionChanged()
  }

  sessionIdChanged(id: string | undefined): void {
    this.#request.sessionID = id
  }
}

/** What the save before the response needs: a native `Session`, or a compat mode's bridge. */
interface Committer {
  readonly isDirty: boolean
  commit(): Promise<void>
}

/** Holds `res.end` until the session's changes are stored, so the client never sees a response before its write. */
function saveBeforeEnd(session: Committer, res: ServerResponse, next: Next): void {
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse
  // Ends that arrive while a save is in flight (a double end) wait behind it, so the response the handler ended
  // first is the one the client gets, as it would be without a session. They are dropped if the save fails: the
  // error handler answers then.
  let waiting: unknown[][] | undefined
  const finish = (args: unknown[]): void => {
    try {
      end(...args)
    } catch (error) {
      // end() throws synchronously only for bad arguments; a deferred end must not turn that into a crash.
      if (!res.headersSent) next(error)
      else res.destroy(error instanceof Error ? error : new Error(String(error)))
    }
  }
  res.end = function endAfterSave(...args: unknown[]): ServerResponse {
    if (waiting) {
      waiting.push(args)
      return res
    }
    if (!session.isDirty) return end(...args)
    waiting = []
    session.commit().then(
      () => {
        const later = waiting ?? []
        waiting = undefined
        finish(args)
        // A second end with data would make Node emit ERR_STREAM_WRITE_AFTER_END with no listener: a crash.
        for (const queued of later) if (!res.writableEnded) finish(queued)
      },
      (error: unknown) => {
        waiting = undefined
        res.end = end as ServerResponse['end']
        if (!res.headersSent) {
          // Undo what the route prepared, so the error handler starts from a clean response.
          res.removeHeader('Set-Cookie')
          next(error)
        } else if (error instanceof HeadersSentError) {
          process.emitWarning(error)
          finish(args)
        } else {
          res.destroy(error instanceof Error ? error : new Error(String(error)))
        }
      },
    )
    return res
  } as ServerResponse['end']
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined
}
