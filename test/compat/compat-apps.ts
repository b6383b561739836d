/**
 * One small app in the express-session API mode (Express 4 and 5) and the @fastify/session API mode (Fastify 5),
 * each written against its library's own session API, each on a real HTTP server on a free port. The routes
 * answer the same JSON in all three, so one suite checks all of them.
 */
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import express5 from 'express'
import express4 from 'express4'
import Fastify, { type FastifyRequest } from 'fastify'
import { currentSession, type Session, type Sessionkit } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { sessionPlugin } from 'sessionkit/fastify'
import { activeSessionsRouter } from 'sessionkit/ui/express'
import { activeSessionsPlugin } from 'sessionkit/ui/fastify'

export type CompatFramework = 'express4' | 'express5' | 'fastify'
export const COMPAT_FRAMEWORKS: readonly CompatFramework[] = ['express4', 'express5', 'fastify']

export interface CompatApp {
  readonly url: string
  /** Errors the framework's error path saw. */
  readonly errors: { code?: string; message?: string }[]
  close(): Promise<void>
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const DAY = 86_400_000

/** The data and methods the routes use, as each library offers them (express-session and @fastify/session). */
type Data = Record<string, unknown>
interface ExpressSession extends Data {
  id: string | undefined
  cookie: { maxAge: number | null }
  regenerate(cb: (error?: unknown) => void): void
  save(cb: (error?: unknown) => void): void
  destroy(cb: (error?: unknown) => void): void
  reload(cb: (error?: unknown) => void): void
  touch(): void
  resetMaxAge(): void
}
interface FastifySession extends Data {
  sessionId: string | undefined
  cookie: { maxAge: number | null }
  get(key: string): unknown
  set(key: string, value: unknown): void
  data(): Data
  regenerate(keep?: string[]): Promise<void>
  save(): Promise<void>
  destroy(): Promise<void>
  reload(): Promise<void>
  touch(): void
}

/** What a route gets: the session as the library's API, and a few facts. */
interface Ctx {
  readonly query: Record<string, string | undefined>
  readonly cookie: string
  readonly base: string
}

/** Route logic per API: express-session's callbacks, @fastify/session's promises. */
interface Api {
  value(key: string): unknown
  assign(key: string, value: unknown): void
  remove(key: string): void
  id(): string | undefined
  /** `req.sessionID` (Express) or `request.session.sessionId` (Fastify). */
  requestSessionId(): string | undefined
  cart(): { items: unknown[] }
  regenerate(): Promise<void>
  /** Regenerate keeping these keys (@fastify/session's keepFields; express-session: copied back by hand). */
  regenerateKeeping(keys: string[]): Promise<void>
  /** util.inspect of the session object, as console.log shows it. */
  inspected(): string
  save(): Promise<void>
  destroy(): Promise<void>
  reload(): Promise<void>
  touch(): void
  cookie(): { maxAge: number | null }
  /** Keys by enumeration (Object.keys), without `cookie`. */
  keys(): string[]
  /** The session through JSON.stringify, without `cookie`. */
  json(): Data
  sessionExists(): boolean
  login(user: string, remember: boolean): Promise<void>
  logout(): Promise<void>
  native(): Session
}

function promise(fn: (cb: (error?: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    fn((error) => {
      if (error === undefined || error === null) resolve()
      else reject(error instanceof Error ? error : new Error('session callback failed', { cause: error }))
    })
  })
}

function withoutCookie(data: Data): Data {
  const out: Data = { ...data }
  delete out.cookie
  return out
}

function expressApi(req: { session?: ExpressSession; sessionkit?: Session; sessionID?: string }): Api {
  const s = (): ExpressSession => req.session as ExpressSession
  return {
    requestSessionId: () => req.sessionID,
    value: (key) => s()[key],
    assign: (key, value) => {
      s()[key] = value
    },
    remove: (key) => {
      Reflect.deleteProperty(s(), key)
    },
    id: () => s().id,
    cart: () => {
      s().cart ??= { items: [] }
      return s().cart as { items: unknown[] }
    },
    regenerate: () => promise((cb) => s().regenerate(cb)),
    regenerateKeeping: async (keys) => {
      const kept = keys.map((key) => [key, s()[key]] as const)
      await promise((cb) => s().regenerate(cb))
      for (const [key, value] of kept) s()[key] = value
    },
    inspected: () => inspect(req.session),
    save: () => promise((cb) => s().save(cb)),
    destroy: () => promise((cb) => s().destroy(cb)),
    reload: () => promise((cb) => s().reload(cb)),
    touch: () => {
      s().touch()
      s().resetMaxAge()
    },
    cookie: () => s().cookie,
    keys: () => Object.keys(s()).filter((k) => k !== 'cookie'),
    json: () => withoutCookie(JSON.parse(JSON.stringify(s())) as Data),
    sessionExists: () => req.session !== undefined,
    // As passport 0.7's SessionManager.logIn: regenerate, set passport.user, save.
    login: async (user, remember) => {
      await promise((cb) => s().regenerate(cb))
      s().passport ??= {}
      ;(s().passport as Data).user = user
      if (remember) s().cookie.maxAge = 30 * DAY
      await promise((cb) => s().save(cb))
    },
    // As passport 0.7's SessionManager.logOut: delete passport.user, save, regenerate.
    logout: async () => {
      if (s().passport) delete (s().passport as Data).user
      await promise((cb) => s().save(cb))
      await promise((cb) => s().regenerate(cb))
    },
    native: () => req.sessionkit!,
  }
}

function fastifyApi(request: FastifyRequest): Api {
  const s = (): FastifySession => (request as unknown as { session: FastifySession }).session
  return {
    requestSessionId: () => s().sessionId,
    value: (key) => s().get(key),
    assign: (key, value) => {
      s().set(key, value)
    },
    remove: (key) => {
      s().set(key, undefined)
    },
    id: () => s().sessionId,
    cart: () => {
      if (s().get('cart') === undefined) s().set('cart', { items: [] })
      return s().get('cart') as { items: unknown[] }
    },
    regenerate: () => s().regenerate(),
    regenerateKeeping: (keys) => s().regenerate(keys),
    inspected: () => inspect(s()),
    save: () => s().save(),
    destroy: () => s().destroy(),
    reload: () => s().reload(),
    touch: () => {
      s().touch()
    },
    cookie: () => s().cookie,
    keys: () => Object.keys(s().data()),
    json: () => withoutCookie(JSON.parse(JSON.stringify(s())) as Data),
    sessionExists: () => (request as unknown as { session: unknown }).session !== null,
    // As @fastify/passport's SecureSessionManager.logIn: regenerate keeping 'session', then set passport.
    login: async (user, remember) => {
      await s().regenerate(['session'])
      if (remember) s().cookie.maxAge = 30 * DAY
      s().set('passport', user)
      await s().save()
    },
    // As @fastify/passport's logOut: clear passport, regenerate.
    logout: async () => {
      s().set('passport', undefined)
      await s().regenerate()
    },
    native: () => request.sessionkit!,
  }
}

const routes: Record<string, { method: 'GET' | 'POST'; handler: (api: Api, ctx: Ctx) => Promise<unknown> }> =
  {
    '/read': {
      method: 'GET',
      handler: (api, { query }) =>
        Promise.resolve({
          value: api.value(query.key ?? 'k') ?? null,
          id: api.id() ?? null,
          requestSessionId: api.requestSessionId() ?? null,
          user: api.native().userId ?? null,
          nativeId: api.native().id ?? null,
        }),
    },
    '/native-signin': {
      method: 'POST',
      handler: async (api, { query }) => {
        await api.native().signIn(query.user ?? 'alice')
        return { user: api.native().userId ?? null }
      },
    },
    '/set': {
      method: 'POST',
      handler: async (api, { query }) => {
        await sleep(Number(query.delay ?? 0))
        api.assign(query.key ?? 'k', query.value ?? 'v')
        return { id: api.id() ?? null }
      },
    },
    '/delete': {
      method: 'POST',
      handler: (api, { query }) => {
        api.remove(query.key ?? 'k')
        return Promise.resolve({ ok: true })
      },
    },
    '/push': {
      method: 'POST',
      handler: async (api, { query }) => {
        const cart = api.cart()
        await sleep(Number(query.delay ?? 0))
        cart.items.push(query.item ?? 'x')
        return { items: cart.items }
      },
    },
    '/login': {
      method: 'POST',
      handler: async (api, { query }) => {
        await api.login(query.user ?? 'alice', query.remember === '1')
        return { id: api.id() ?? null, user: api.native().userId ?? null }
      },
    },
    '/logout': {
      method: 'POST',
      handler: async (api) => {
        await api.logout()
        return { ok: true }
      },
    },
    '/regenerate': {
      method: 'POST',
      handler: async (api) => {
        await api.regenerate()
        return { keys: api.keys() }
      },
    },
    '/regenerate-keep': {
      method: 'POST',
      handler: async (api, { query }) => {
        await api.regenerateKeeping((query.keep ?? '').split(','))
        return { keys: api.keys().sort() }
      },
    },
    '/destroy': {
      method: 'POST',
      handler: async (api) => {
        await api.destroy()
        return { exists: api.sessionExists() }
      },
    },
    '/save-then-read': {
      method: 'POST',
      handler: async (api, { query, base, cookie }) => {
        api.assign(query.key ?? 'saved', 'yes')
        await api.save()
        const seen = await fetch(`${base}/read?key=${query.key ?? 'saved'}`, { headers: { cookie } })
        return { seen: ((await seen.json()) as { value: unknown }).value }
      },
    },
    '/reload': {
      method: 'POST',
      handler: async (api, { base, cookie }) => {
        api.assign('tmp', 'unsaved')
        const other = await fetch(`${base}/set?key=other&value=fresh`, {
          method: 'POST',
          headers: { cookie },
        })
        await other.arrayBuffer()
        await api.reload()
        return { tmp: api.value('tmp') ?? null, other: api.value('other') ?? null }
      },
    },
    '/touch': {
      method: 'GET',
      handler: (api) => {
        api.touch()
        return Promise.resolve({ ok: true })
      },
    },
    '/remember': {
      method: 'POST',
      handler: (api) => {
        api.cookie().maxAge = 7 * DAY
        return Promise.resolve({ ok: true })
      },
    },
    '/cookie': {
      method: 'GET',
      handler: (api) => Promise.resolve({ maxAge: api.cookie().maxAge }),
    },
    '/date': {
      method: 'POST',
      handler: (api) => {
        api.assign('when', new Date(0))
        return Promise.resolve({ ok: true })
      },
    },
    '/bigint': {
      method: 'POST',
      handler: (api) => {
        api.assign('big', 1n)
        return Promise.resolve({ ok: true })
      },
    },
    '/enumerate': {
      method: 'GET',
      handler: (api) =>
        Promise.resolve({ inspected: api.inspected(), keys: api.keys().sort(), json: api.json() }),
    },
    '/current': {
      method: 'GET',
      handler: async (api) => {
        await sleep(1)
        return { same: currentSession() === api.native(), id: currentSession()?.id ?? null }
      },
    },
    '/native-set': {
      method: 'POST',
      handler: (api, { query }) => {
        api.native().set(query.key ?? 'k', query.value ?? 'v')
        return Promise.resolve({ ok: true })
      },
    },
    '/sessions': {
      method: 'GET',
      handler: async (api) => ({ sessions: await api.native().listSessions() }),
    },
  }

/** Options of the app's session layer in the compat mode. */
export interface CompatAppOptions {
  /** Pass `null` for no `userId` option. */
  readonly userId?: ((data: Readonly<Record<string, unknown>>) => unknown) | null
}

const expressUserId = (data: Readonly<Record<string, unknown>>): unknown =>
  (data.passport as { user?: unknown } | undefined)?.user
const fastifyUserId = (data: Readonly<Record<string, unknown>>): unknown => data.passport

export async function startCompatApp(
  framework: CompatFramework,
  kit: Sessionkit,
  options: CompatAppOptions = {},
): Promise<CompatApp> {
  const errors: { code?: string; message?: string }[] = []
  let base = ''
  if (framework === 'fastify') {
    const app = Fastify()
    const userId = options.userId === null ? undefined : (options.userId ?? fastifyUserId)
    await app.register(sessionPlugin, { sessionkit: kit, api: '@fastify/session', userId })
    await app.register(activeSessionsPlugin, { sessionkit: kit })
    app.setErrorHandler(
      (error: { statusCode?: number; message?: string; code?: string }, _request, reply) => {
        errors.push(error)
        void reply.status(error.statusCode ?? 500).send({ error: error.message, code: error.code })
      },
    )
    for (const [path, { method, handler }] of Object.entries(routes)) {
      app.route({
        method,
        url: path,
        handler: (request) =>
          handler(fastifyApi(request), {
            query: request.query as Ctx['query'],
            cookie: request.headers.cookie ?? '',
            base,
          }),
      })
    }
    await app.listen({ port: 0, host: '127.0.0.1' })
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    return { url: base, errors, close: () => app.close() }
  }
  const express = framework === 'express4' ? express4 : express5
  const app = express()
  const userId = options.userId === null ? undefined : (options.userId ?? expressUserId)
  app.use(sessionMiddleware(kit, { api: 'express-session', userId }))
  app.use(activeSessionsRouter(kit))
  for (const [path, { method, handler }] of Object.entries(routes)) {
    const register = method === 'GET' ? app.get.bind(app) : app.post.bind(app)
    register(path, (req, res, next) => {
      const ctx = { query: req.query as Ctx['query'], cookie: req.headers.cookie ?? '', base }
      handler(expressApi(req as never), ctx).then((body) => res.json(body), next)
    })
  }
  app.use(
    (
      error: { statusCode?: number; message?: string; code?: string },
      _req: unknown,
      res: express5.Response,
      next: express5.NextFunction,
    ) => {
      errors.push(error)
      if (res.headersSent) {
        next(error)
        return
      }
      res.status(error.statusCode ?? 500).json({ error: error.message, code: error.code })
    },
  )
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: base,
    errors,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
