/**
 * The Active Sessions page, its JSON API and the admin view as an Express (4 or 5) router. Mount it after
 * `sessionMiddleware`.
 *
 * @example
 * ```ts
 * import { sessionMiddleware } from 'sessionkit/express'
 * import { activeSessionsRouter } from 'sessionkit/ui/express'
 *
 * app.use(sessionMiddleware(kit))
 * app.use(activeSessionsRouter(kit, { isAdmin: (req) => req.session.userId === 'admin', loginPath: '/login' }))
 * ```
 *
 * @module
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express'
import type { Session } from '../core/session.js'
import type { Sessionkit } from '../core/sessionkit.js'
import {
  activeSessionsRoutes,
  resolveActiveSessionsOptions,
  type ActiveSessionsOptions,
  type UiRequest,
  type UiResponse,
} from './handlers.js'

export { csrfToken, verifyCsrfToken, resetCsrfToken } from './csrf.js'
export type { ActiveSessionsOptions, ApiSession } from './handlers.js'

/** Options of {@link activeSessionsRouter}: the shared ones, and who is an admin. */
export interface ExpressActiveSessionsOptions extends ActiveSessionsOptions {
  /** Whether the signed-in user of `req` may see the admin view. Default: nobody. */
  readonly isAdmin?: (req: Request) => boolean | Promise<boolean>
}

/**
 * Creates the router: the user's page at `pagePath`, the JSON API at `apiPath`, the admin view at `adminPath`.
 * Mount it after `sessionMiddleware`. Store failures go to `next(err)` (with `statusCode` 503, from sessionkit).
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(kit))
 * app.use(activeSessionsRouter(kit, { isAdmin: (req) => admins.has(req.session.userId), loginPath: '/login' }))
 * ```
 * @throws {InvalidOptionsError} naming the first invalid (or unknown) option
 */
export function activeSessionsRouter(kit: Sessionkit, options: ExpressActiveSessionsOptions = {}): Router {
  const resolved = resolveActiveSessionsOptions(options, ['isAdmin'])
  const isAdmin = options.isAdmin ?? (() => false)
  // Parses only this router's forms (a no-op when the app already parsed the body).
  const formParser = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 20 })
  const router = express.Router()
  for (const route of activeSessionsRoutes(resolved)) {
    const handler = (req: Request, res: Response, next: NextFunction): void => {
      const session = sessionOf(req)
      if (!session) {
        next(new Error('sessionkit ui: mount sessionMiddleware(kit) before activeSessionsRouter'))
        return
      }
      route
        .handle({
          kit,
          session,
          options: resolved,
          request: facts(req),
          isAdmin: async () => session.userId !== undefined && (await isAdmin(req)),
        })
        .then((reply) => send(res, reply), next)
    }
    if (route.method === 'GET') router.get(route.path, handler)
    else if (route.method === 'POST') router.post(route.path, formParser, handler)
    else router.delete(route.path, handler)
  }
  return router
}

/** The native session: `req.sessionkit` in the express-session API mode, else `req.session`. */
function sessionOf(req: Request): Session | undefined {
  const r = req as { session?: Session; sessionkit?: Session }
  return r.sessionkit ?? r.session
}

function first(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0]
  return undefined
}

function header(req: Request, name: string): string | undefined {
  return first(req.headers[name])
}

function facts(req: Request): UiRequest {
  const host = req.get('host')
  const body: unknown = req.body
  const query: unknown = req.query
  return {
    origin: header(req, 'origin'),
    secFetchSite: header(req, 'sec-fetch-site'),
    ownOrigin: host === undefined ? undefined : `${req.protocol}://${host}`,
    query: (name) =>
      typeof query === 'object' && query !== null
        ? first((query as Record<string, unknown>)[name])
        : undefined,
    form: (name) =>
      typeof body === 'object' && body !== null ? first((body as Record<string, unknown>)[name]) : undefined,
    params: { id: first(req.params.id) },
  }
}

function send(res: Response, reply: UiResponse): void {
  res.status(reply.status)
  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value)
  if (reply.status === 204 || reply.body === '') res.end()
  else res.end(reply.body)
}
