/**
 * Fastify 5 plugin: `request.session`, the current session for code without `request`, and the save before
 * the response is sent.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { createSessionkit, MemoryStore } from 'sessionkit'
 * import { sessionPlugin } from 'sessionkit/fastify'
 *
 * const kit = createSessionkit({ store: new MemoryStore() })
 * const app = Fastify()
 * await app.register(sessionPlugin, { sessionkit: kit })
 * app.get('/', async (request) => {
 *   request.session.set('visits', (request.session.get<number>('visits') ?? 0) + 1)
 *   return 'hello'
 * })
 * ```
 *
 * @module
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { runWithSession } from '../core/current.js'
import { InvalidOptionsError } from '../core/errors.js'
import type { Session } from '../core/session.js'
import { Sessionkit } from '../core/sessionkit.js'
import type { HttpContext } from '../core/state.js'
import { NO_STORE, replaceSetCookie } from './set-cookie.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's session (sessionkit). */
    session: Session
  }
}

export interface SessionPluginOptions {
  /** The instance made by `createSessionkit`. */
  readonly sessionkit: Sessionkit
  /**
   * Make `request.session` reachable as `currentSession()` (AsyncLocalStorage) in code below the route.
   * Default true. On Node 20, AsyncLocalStorage turns on async hooks for the whole process, which costs a few
   * percent of CPU on every request; apps that never call `currentSession()` can turn it off.
   */
  readonly bindCurrentSession?: boolean
}

const plugin: FastifyPluginCallback<SessionPluginOptions> = (fastify, options, done) => {
  const kit = options.sessionkit
  if (!(kit instanceof Sessionkit)) {
    done(new InvalidOptionsError('sessionPlugin needs { sessionkit } made by createSessionkit()'))
    return
  }
  kit.warmUp()
  const cookieName = kit.cookieName
  const bindCurrent = options.bindCurrentSession ?? true
  fastify.decorateRequest('session', null as unknown as Session)

  // Fastify runs the rest of the request (body parsing included: it binds its parsers' callbacks) in the async
  // context hookDone is called from, so entering it here is enough.
  fastify.addHook('onRequest', (request, reply, hookDone) => {
    kit.openSession(new FastifyHttp(request, reply, cookieName)).then((session) => {
      request.session = session
      if (bindCurrent) runWithSession(session, hookDone)
      else hookDone()
    }, hookDone)
  })

  // A reply can pass through onSend twice: an async handler that calls `reply.send()` without returning it
  // resolves with `undefined`, and Fastify sends again while our first onSend is still saving. The first send is
  // the one the handler meant (as without an async hook); the second one is dropped, since letting it through
  // would write a response before the save and make the first one throw ERR_HTTP_HEADERS_SENT.
  const saving = new WeakSet<FastifyReply>()
  fastify.addHook('onSend', (request, reply, payload, hookDone) => {
    if (saving.has(reply)) return
    const session = request.session as Session | null
    if (!session?.isDirty) {
      hookDone(null, payload)
      return
    }
    saving.add(reply)
    session.commit().then(
      () => {
        saving.delete(reply)
        continueSafely(request, hookDone, null, payload)
      },
      (error: unknown) => {
        saving.delete(reply)
        continueSafely(request, hookDone, error as Error, payload)
      },
    )
  })

  done()
}

/** Hands the reply back to Fastify; whatever Fastify throws from there (the socket is gone...) must not escape as
 * an unhandled rejection and take the process down. */
function continueSafely(
  request: FastifyRequest,
  hookDone: (error: Error | null, payload?: unknown) => void,
  error: Error | null,
  payload: unknown,
): void {
  try {
    hookDone(error, payload)
  } catch (thrown) {
    request.log.warn({ err: thrown }, 'sessionkit: the reply failed after the session was saved')
  }
}

/** One per request; methods on the prototype, so a request allocates one small object. */
class FastifyHttp implements HttpContext {
  readonly cookieHeader: string | undefined
  readonly userAgent: string | undefined
  readonly #request: FastifyRequest
  readonly #reply: FastifyReply
  readonly #cookieName: string

  constructor(request: FastifyRequest, reply: FastifyReply, cookieName: string) {
    this.cookieHeader = request.headers.cookie
    this.userAgent = request.headers['user-agent']
    this.#request = request
    this.#reply = reply
    this.#cookieName = cookieName
  }

  get ipAddress(): string {
    return this.#request.ip
  }

  headersSent(): boolean {
    return this.#reply.raw.headersSent
  }

  requestScope(): { host: string | undefined; path: string | undefined } {
    const request = this.#request
    return { host: request.hostname, path: request.url }
  }

  plainHttpHost(): string | undefined {
    const request = this.#request
    return request.protocol === 'http' ? request.hostname : undefined
  }

  setCookie(value: string | undefined): void {
    const reply = this.#reply
    const list = replaceSetCookie(reply.getHeader('set-cookie'), this.#cookieName, value)
    reply.removeHeader('set-cookie')
    for (const item of list) reply.header('set-cookie', item)
    if (value !== undefined && !reply.hasHeader('cache-control')) reply.header('cache-control', NO_STORE)
  }
}

/**
 * Registers sessionkit on a Fastify instance (encapsulation-free, so every route gets `request.session`).
 *
 * - No cookie: no store call. A cookie: one store call (load, with throttled touch) in `onRequest`.
 * - Changes are saved in `onSend`; a store failure goes through Fastify's error handler as a 503.
 */
export const sessionPlugin = fp(plugin, { fastify: '5.x', name: 'sessionkit' })
