/**
 * The same small app on Express 4, Express 5 and Fastify 5, each on a real HTTP server on a free port, so one
 * integration suite can run against all three (a matrix, like h3's `describeMatrix`).
 */
import type { AddressInfo } from 'node:net'
import express5 from 'express'
import express4 from 'express4'
import Fastify from 'fastify'
import { currentSession, NamespacedSessionStore, withSession, type Sessionkit } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { sessionPlugin } from 'sessionkit/fastify'

export type Framework = 'express4' | 'express5' | 'fastify'
export const FRAMEWORKS: readonly Framework[] = ['express4', 'express5', 'fastify']

export interface RunningApp {
  readonly url: string
  /** Errors the framework's error path saw (Express error middleware / Fastify error handler). */
  readonly errors: unknown[]
  close(): Promise<void>
}

/** Route logic shared by every framework: (session facts in, JSON out). */
interface Ctx {
  readonly query: Record<string, string | undefined>
  readonly body: unknown
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A function with no access to the request: it can only reach the session through `currentSession()`. */
async function deepHelper(): Promise<{ id: string | null; value: unknown }> {
  await sleep(1)
  await Promise.resolve()
  await new Promise((resolve) => setImmediate(resolve))
  await sleep(2)
  const session = currentSession()
  return { id: session?.id ?? null, value: session?.get('k') ?? null }
}

type Handler = (session: import('sessionkit').Session, ctx: Ctx) => Promise<unknown>

const routes: Record<string, { method: 'GET' | 'POST'; handler: Handler | null }> = {
  '/untouched': { method: 'GET', handler: null },
  '/read': {
    method: 'GET',
    handler: (s) => Promise.resolve({ value: s.get('k') ?? null, user: s.userId ?? null, id: s.id ?? null }),
  },
  '/write': {
    method: 'POST',
    handler: async (s, { query }) => {
      await sleep(Number(query.delay ?? 0))
      s.set(query.key ?? 'k', query.value ?? 'v')
      return { ok: true }
    },
  },
  '/ns-write': {
    method: 'POST',
    handler: async (s, { query }) => {
      await sleep(Number(query.delay ?? 0))
      new NamespacedSessionStore(query.ns ?? 'feature').set(query.key ?? 'k', query.value ?? 'v')
      return { ok: true }
    },
  },
  '/ns-read': {
    method: 'GET',
    handler: (s, { query }) => {
      const store = new NamespacedSessionStore(query.ns ?? 'feature')
      const before = [...s.namespace(query.ns ?? 'feature').keys()].length
      const value = store.get(query.key ?? 'k') ?? null
      return Promise.resolve({
        value,
        all: store.toObject(),
        createdByRead: [...store.keys()].length !== before,
      })
    },
  },
  '/signin': {
    method: 'POST',
    handler: async (s, { query }) => {
      await s.signIn(query.user ?? 'alice', { rememberMe: query.remember === '1' })
      return { id: s.id, user: s.userId }
    },
  },
  '/signout': {
    method: 'POST',
    handler: async (s) => {
      await s.signOut()
      return { ok: true }
    },
  },
  '/current': {
    method: 'GET',
    handler: async (s) => {
      const seen = await deepHelper()
      return { sameSession: seen.id === (s.id ?? null) && currentSession() === s, value: seen.value }
    },
  },
  '/current-after-body': {
    method: 'POST',
    handler: async (s, { body }) => {
      const seen = await deepHelper()
      return { sameSession: currentSession() === s && seen.id === (s.id ?? null), body }
    },
  },
  '/with-session': {
    method: 'GET',
    handler: (s) => {
      const inner = withSession({ k: 'inner' }, () => currentSession()?.get('k'))
      let threw = false
      try {
        withSession({ k: 'boom' }, () => {
          throw new Error('boom')
        })
      } catch {
        threw = true
      }
      return Promise.resolve({ inner, threw, restored: currentSession() === s })
    },
  },
  '/sessions': {
    method: 'GET',
    handler: async (s) => ({ sessions: await s.listSessions() }),
  },
}

export async function startApp(framework: Framework, kit: Sessionkit): Promise<RunningApp> {
  const errors: unknown[] = []
  if (framework === 'fastify') {
    const app = Fastify()
    await app.register(sessionPlugin, { sessionkit: kit })
    // A naive body parser that finishes from a stream event, as many third-party parsers do.
    app.addContentTypeParser('application/x-naive', (_request, payload, done) => {
      let text = ''
      payload.on('data', (chunk: Buffer) => (text += chunk.toString()))
      payload.on('end', () => {
        done(null, JSON.parse(text) as unknown)
      })
    })
    app.setErrorHandler((error: { statusCode?: number; message?: string }, _request, reply) => {
      errors.push(error)
      void reply.status(error.statusCode ?? 500).send({ error: error.message ?? 'error' })
    })
    for (const [path, { method, handler }] of Object.entries(routes)) {
      app.route({
        method,
        url: path,
        handler: async (request) =>
          handler
            ? handler(request.session, { query: request.query as Ctx['query'], body: request.body })
            : 'ok',
      })
    }
    await app.listen({ port: 0, host: '127.0.0.1' })
    return {
      url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      errors,
      close: () => app.close(),
    }
  }
  const express = framework === 'express4' ? express4 : express5
  const app = express()
  app.use(sessionMiddleware(kit))
  app.use(express.json())
  // A naive body parser that calls next() from a stream event, as many third-party parsers do.
  app.use((req, _res, next) => {
    if (req.headers['content-type'] !== 'application/x-naive') {
      next()
      return
    }
    let text = ''
    req.on('data', (chunk: Buffer) => (text += chunk.toString()))
    req.on('end', () => {
      req.body = JSON.parse(text) as unknown
      next()
    })
  })
  for (const [path, { method, handler }] of Object.entries(routes)) {
    const register = method === 'GET' ? app.get.bind(app) : app.post.bind(app)
    register(path, (req, res, next) => {
      if (!handler) {
        res.send('ok')
        return
      }
      handler(req.session, { query: req.query as Ctx['query'], body: req.body as unknown }).then(
        (body) => res.json(body),
        next,
      )
    })
  }
  app.use(
    (
      error: { statusCode?: number; message?: string },
      _req: unknown,
      res: express5.Response,
      next: express5.NextFunction,
    ) => {
      errors.push(error)
      if (res.headersSent) {
        next(error)
        return
      }
      res.status(error.statusCode ?? 500).json({ error: error.message ?? 'error' })
    },
  )
  const server = app.listen(0)
  await new Promise((resolve) => server.once('listening', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    errors,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => {
          resolve()
        })
      }),
  }
}
