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
import { HeadersSentError } from '../core/errors.js'
import type { Session } from '../core/session.js'
import type { Sessionkit } from '../core/sessionkit.js'
import type { HttpContext } from '../core/state.js'
import { NO_STORE, replaceSetCookie } from './set-cookie.js'

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The request's session (sessionkit). Always present after `sessionMiddleware`. */
      session: Session
    }
  }
}

/** The parts of Express's request the middleware reads. */
export interface ExpressRequest extends IncomingMessage {
  session: Session
  readonly ip?: string | undefined
  readonly protocol?: string
  readonly hostname?: string | undefined
  readonly originalUrl?: string
  readonly app?: { get(setting: string): unknown }
}

export type Next = (error?: unknown) => void
export type Middleware = (req: ExpressRequest, res: ServerResponse, next: Next) => void

export interface SessionMiddlewareOptions {
  /**
   * Make `req.session` reachable as `currentSession()` (AsyncLocalStorage) in code below the route. Default
   * true. On Node 20, AsyncLocalStorage turns on async hooks for the whole process, which costs a few percent of
   * CPU on every request; apps that never call `currentSession()` or `NamespacedSessionStore` without a session
   * can turn it off.
   */
  readonly bindCurrentSession?: boolean
}

/**
 * Creates the session middleware. Mount it before the routes (and, ideally, before body parsers).
 *
 * - No cookie: no store call. A cookie: one store call (load, with throttled touch), before the routes run.
 * - The session is saved (only the changed keys) before the response ends; `Set-Cookie` is sent only when the
 *   token changed or a dead cookie must be cleared.
 * - A store failure goes to `next(err)` with `err.statusCode === 503`; the visitor's cookie is left alone.
 */
export function sessionMiddleware(kit: Sessionkit, options: SessionMiddlewareOptions = {}): Middleware {
  kit.warmUp()
  const bindCurrent = options.bindCurrentSession ?? true
  return function sessionkit(req, res, next) {
    const http = new ExpressHttp(kit, req, res, next)
    kit.openSession(http).then((session) => {
      req.session = session
      http.session = session
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
    }, next)
  }
}

/** One per request; methods on the prototype, so a request allocates one small object. */
class ExpressHttp implements HttpContext {
  readonly cookieHeader: string | undefined
  readonly userAgent: string | undefined
  /** Set once the session is open. */
  session: Session | undefined
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
    if (this.#holding || !this.session) return
    this.#holding = true
    saveBeforeEnd(this.session, this.#res, this.#next)
  }

  setCookie(value: string | undefined): void {
    const res = this.#res
    const list = replaceSetCookie(res.getHeader('Set-Cookie'), this.#kit.cookieName, value)
    if (list.length === 0) res.removeHeader('Set-Cookie')
    else res.setHeader('Set-Cookie', list)
    if (value !== undefined && !res.hasHeader('Cache-Control')) res.setHeader('Cache-Control', NO_STORE)
  }
}

/** Holds `res.end` until the session's changes are stored, so the client never sees a response before its write. */
function saveBeforeEnd(session: Session, res: ServerResponse, next: Next): void {
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
