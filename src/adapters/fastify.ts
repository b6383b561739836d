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
import type {
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  onSendHookHandler,
} from 'fastify'
import fp from 'fastify-plugin'
import { runWithSession } from '../core/current.js'
import { InvalidOptionsError } from '../core/errors.js'
import { rejectUnknownOptions } from '../core/option-checks.js'
import type { Session } from '../core/session.js'
import { Sessionkit } from '../core/sessionkit.js'
import type { HttpContext } from '../core/state.js'
import {
  CompatBridge,
  type CompatConfig,
  type CompatHost,
  type CompatTarget,
  type CompatUserId,
} from './compat-session.js'
import { FASTIFY_RESERVED, FastifySessionCompat } from './fastify-session-compat.js'
import { NO_STORE, replaceSetCookie } from './set-cookie.js'

export { FastifySessionCompat } from './fastify-session-compat.js'
export { CompatCookie } from './compat-session.js'
export type { CompatCallback, CompatSessionData, CompatUserId } from './compat-session.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's session (sessionkit). */
    session: Session
    /**
     * The native sessionkit session in the @fastify/session API mode (`request.session` is then @fastify/session's
     * API); `undefined` in the default mode, where `request.session` is the native session.
     */
    sessionkit?: Session
  }
}

/** Options of {@link sessionPlugin}: `sessionkit` is required. */
export interface SessionPluginOptions {
  /** The instance made by `createSessionkit`. */
  readonly sessionkit: Sessionkit
  /**
   * Make `request.session` reachable as `currentSession()` (AsyncLocalStorage) in code below the route.
   * Default true. On Node 20, AsyncLocalStorage turns on async hooks for the whole process, which costs a few
   * percent of CPU on every request; apps that never call `currentSession()` can turn it off.
   */
  readonly bindCurrentSession?: boolean
  /**
   * Which API `request.session` offers: `'sessionkit'` (default, the native `Session`) or `'@fastify/session'`
   * (@fastify/session's: `get`/`set`, `regenerate`, `destroy`...; the native session is then
   * `request.sessionkit`). See docs/migrating.md.
   */
  readonly api?: 'sessionkit' | '@fastify/session'
  /**
   * In the @fastify/session API mode: who is signed in, from the session data (`(data) => data.passport` for
   * @fastify/passport). When it becomes set the session is signed in (new token, device, Active Sessions
   * index); when it is cleared the session leaves the index. Without it, sign-in is left to
   * `request.sessionkit.signIn()`.
   */
  readonly userId?: CompatUserId
}

/** This plugin's options, and the ones Fastify's `register()` itself takes (they arrive in the same object). */
const OPTION_NAMES = [
  'sessionkit',
  'bindCurrentSession',
  'api',
  'userId',
  'prefix',
  'logLevel',
  'logSerializers',
]

/** What the save in onSend needs: a native `Session`, or a compat mode's bridge. */
interface Committer {
  readonly isDirty: boolean
  commit(): Promise<void>
}

const plugin: FastifyPluginCallback<SessionPluginOptions> = (fastify, options, done) => {
  const kit = options.sessionkit
  if (!(kit instanceof Sessionkit)) {
    done(new InvalidOptionsError('sessionPlugin needs { sessionkit } made by createSessionkit()'))
    return
  }
  const problem = checkOptions(options)
  if (problem) {
    done(problem)
    return
  }
  kit.warmUp()
  const bindCurrent = options.bindCurrentSession ?? true
  fastify.decorateRequest('session', null as unknown as Session)
  if (options.api === '@fastify/session') registerCompat(fastify, kit, bindCurrent, options.userId)
  else registerNative(fastify, kit, bindCurrent)
  done()
}

function registerNative(fastify: FastifyInstance, kit: Sessionkit, bindCurrent: boolean): void {
  const cookieName = kit.cookieName

  // Fastify runs the rest of the request (body parsing included: it binds its parsers' callbacks) in the async
  // context hookDone is called from, so entering it here is enough.
  fastify.addHook('onRequest', (request, reply, hookDone) => {
    kit.openSession(new FastifyHttp(request, reply, cookieName)).then((session) => {
      request.session = session
      if (bindCurrent) runWithSession(session, hookDone)
      else hookDone()
    }, hookDone)
  })
  fastify.addHook(
    'onSend',
    saveOnSend((request) => request.session as Session | null),
  )
}

/**
 * The @fastify/session API mode: `request.session` is a `FastifySessionCompat` over the native session, which is
 * `request.sessionkit`. The bridge stays reachable after `regenerate()` replaced `request.session` and after
 * `destroy()` nulled it.
 */
function registerCompat(
  fastify: FastifyInstance,
  kit: Sessionkit,
  bindCurrent: boolean,
  userId: CompatUserId | undefined,
): void {
  const cookieName = kit.cookieName
  const config: CompatConfig = { cookie: kit.options.cookie, userId, reserved: FASTIFY_RESERVED }
  fastify.decorateRequest('sessionkit', null as unknown as Session)
  fastify.decorateRequest(BRIDGE, null)
  fastify.addHook('onRequest', (request, reply, hookDone) => {
    const http = new FastifyCompatHttp(request, reply, cookieName, kit)
    kit.openSession(http).then((native) => {
      const bridge = new CompatBridge(native, config, http)
      ;(request as unknown as WithBridge)[BRIDGE] = bridge
      ;(request as unknown as CompatRequest).session = bridge.open(new FastifySessionCompat())
      request.sessionkit = native
      if (bindCurrent) runWithSession(native, hookDone)
      else hookDone()
    }, hookDone)
  })
  fastify.addHook(
    'onSend',
    saveOnSend((request) => (request as unknown as WithBridge)[BRIDGE]),
  )
}

/**
 * Where a request keeps its compat bridge: a decorated symbol property (a WeakMap entry per request made the
 * garbage collector's ephemeron work a large share of the mode's cost).
 */
const BRIDGE = Symbol('sessionkit.compatBridge')

interface WithBridge {
  [BRIDGE]: CompatBridge | null
}

/** The request property the @fastify/session API mode sets (`null` after `destroy()`, as @fastify/session). */
interface CompatRequest {
  session: object | null
}

function checkOptions(options: SessionPluginOptions): InvalidOptionsError | undefined {
  try {
    rejectUnknownOptions('sessionPlugin', options, OPTION_NAMES)
  } catch (error) {
    return error as InvalidOptionsError
  }
  const { api, userId } = options
  if (api !== undefined && api !== 'sessionkit' && api !== '@fastify/session') {
    return new InvalidOptionsError(
      `api must be 'sessionkit' or '@fastify/session', got ${JSON.stringify(api)}`,
    )
  }
  if (userId !== undefined && typeof userId !== 'function') {
    return new InvalidOptionsError('userId must be a function: (data) => the signed-in user id, or undefined')
  }
  if (userId !== undefined && api !== '@fastify/session') {
    return new InvalidOptionsError("userId applies to api: '@fastify/session' only")
  }
  return undefined
}

/**
 * The onSend hook that saves the session before the reply goes out.
 *
 * A reply can pass through onSend twice: an async handler that calls `reply.send()` without returning it resolves
 * with `undefined`, and Fastify sends again while our first onSend is still saving. The first send is the one the
 * handler meant (as without an async hook); the second one is dropped, since letting it through would write a
 * response before the save and make the first one throw ERR_HTTP_HEADERS_SENT.
 */
function saveOnSend(
  committerOf: (request: FastifyRequest) => Committer | null | undefined,
): onSendHookHandler {
  const saving = new WeakSet<FastifyReply>()
  return (request, reply, payload, hookDone) => {
    if (saving.has(reply)) return
    const session = committerOf(request)
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
  }
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

  appendSetCookie(value: string): void {
    // Fastify appends set-cookie values rather than replacing them.
    this.#reply.header('set-cookie', value)
  }
}

/** The @fastify/session API mode's per-request object: what the bridge asks of the request, on the prototype. */
class FastifyCompatHttp extends FastifyHttp implements CompatHost {
  readonly #request: CompatRequest
  readonly #kit: Sessionkit

  constructor(request: FastifyRequest, reply: FastifyReply, cookieName: string, kit: Sessionkit) {
    super(request, reply, cookieName)
    this.#request = request
    this.#kit = kit
  }

  reopen(): Promise<Session> {
    return this.#kit.openSession(this)
  }

  replaceSession(session: CompatTarget | undefined): void {
    this.#request.session = session ?? null
  }
}

/**
 * Registers sessionkit on a Fastify instance (encapsulation-free, so every route gets `request.session`).
 *
 * - No cookie: no store call. A cookie: one store call (load, with throttled touch) in `onRequest`.
 * - Changes are saved in `onSend`; a store failure goes through Fastify's error handler as a 503.
 * - Bad options make `register()` reject with `InvalidOptionsError`.
 *
 * @example
 * ```ts
 * await app.register(sessionPlugin, { sessionkit: kit })
 * app.post('/login', async (request, reply) => {
 *   await request.session.signIn(user.id)
 *   return reply.redirect('/', 303)
 * })
 * ```
 */
export const sessionPlugin = fp(plugin, { fastify: '5.x', name: 'sessionkit' })
