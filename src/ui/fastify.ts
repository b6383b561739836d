/**
 * The Active Sessions page, its JSON API and the admin view as a Fastify 5 plugin. Register it after
 * `sessionPlugin`.
 *
 * @example
 * ```ts
 * import { sessionPlugin } from 'sessionkit/fastify'
 * import { activeSessionsPlugin } from 'sessionkit/ui/fastify'
 *
 * await app.register(sessionPlugin, { sessionkit: kit })
 * await app.register(activeSessionsPlugin, { sessionkit: kit, isAdmin: (request) => request.session.userId === 'admin' })
 * ```
 *
 * @module
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
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

/** Options of {@link activeSessionsPlugin}: the shared ones, the Sessionkit, and who is an admin. */
export interface FastifyActiveSessionsOptions extends ActiveSessionsOptions {
  /** The instance made by `createSessionkit` (the one given to `sessionPlugin`). */
  readonly sessionkit: Sessionkit
  /** Whether the signed-in user of `request` may see the admin view. Default: nobody. */
  readonly isAdmin?: (request: FastifyRequest) => boolean | Promise<boolean>
}

const FORM = 'application/x-www-form-urlencoded'

/**
 * Registers the routes: the user's page at `pagePath`, the JSON API at `apiPath`, the admin view at `adminPath`
 * (encapsulated: the form parser it adds, when the app has none, stays inside the plugin). Register it after
 * `sessionPlugin`. Store failures reach Fastify's error handler with `statusCode` 503; bad options make
 * `register()` reject with `InvalidOptionsError`.
 *
 * @example
 * ```ts
 * await app.register(sessionPlugin, { sessionkit: kit })
 * await app.register(activeSessionsPlugin, {
 *   sessionkit: kit,
 *   isAdmin: (request) => admins.has(request.session.userId),
 *   loginPath: '/login',
 * })
 * ```
 */
export const activeSessionsPlugin: FastifyPluginAsync<FastifyActiveSessionsOptions> = (fastify, options) => {
  const kit = options.sessionkit
  // Fastify hands its own registration options (prefix...) to the plugin too.
  const resolved = resolveActiveSessionsOptions(options, [
    'sessionkit',
    'isAdmin',
    'prefix',
    'logLevel',
    'logSerializers',
  ])
  const isAdmin = options.isAdmin ?? (() => false)
  if (!fastify.hasContentTypeParser(FORM)) {
    fastify.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 8192 }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))))
    })
  }
  for (const route of activeSessionsRoutes(resolved)) {
    fastify.route({
      method: route.method,
      url: route.path,
      handler: async (request, reply) => {
        // The native session: `request.sessionkit` in the @fastify/session API mode, else `request.session`.
        const r = request as { session?: Session | null; sessionkit?: Session | null }
        const session = r.sessionkit ?? r.session
        if (!session) throw new Error('sessionkit ui: register sessionPlugin before activeSessionsPlugin')
        const result = await route.handle({
          kit,
          session,
          options: resolved,
          request: facts(request),
          isAdmin: async () => session.userId !== undefined && (await isAdmin(request)),
        })
        return send(reply, result)
      },
    })
  }
  return Promise.resolve()
}

function first(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0]
  return undefined
}

function facts(request: FastifyRequest): UiRequest {
  const body: unknown = request.body
  const query: unknown = request.query
  const params = request.params as Record<string, unknown> | undefined
  return {
    origin: first(request.headers.origin),
    secFetchSite: first(request.headers['sec-fetch-site']),
    ownOrigin: request.host === '' ? undefined : `${request.protocol}://${request.host}`,
    query: (name) =>
      typeof query === 'object' && query !== null
        ? first((query as Record<string, unknown>)[name])
        : undefined,
    form: (name) =>
      typeof body === 'object' && body !== null ? first((body as Record<string, unknown>)[name]) : undefined,
    params: { id: first(params?.id) },
  }
}

function send(reply: FastifyReply, result: UiResponse): FastifyReply {
  reply.code(result.status).headers(result.headers)
  return result.status === 204 || result.body === '' ? reply.send() : reply.send(result.body)
}
