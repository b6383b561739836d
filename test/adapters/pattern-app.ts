/**
 * A child-process app for the handler-pattern suite: the same misbehaving (or merely unusual) handlers on
 * Express 4, Express 5 or Fastify 5, over a real Redis. It runs in its own process so that a crash in the session
 * layer shows up as a dead process, not as a dead test worker.
 *
 * Env: FRAMEWORK (express4 | express5 | fastify), REDIS_URL, PREFIX. Prints `listening on <url>` when ready.
 * Every handler first stores `v` (from `?v=`), so the next request can check what was saved.
 */
import { Readable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import express5 from 'express'
import express4 from 'express4'
import Fastify from 'fastify'
import { createClient } from 'redis'
import { createSessionkit, RedisStore, type Session } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { sessionPlugin } from 'sessionkit/fastify'

const framework = process.env.FRAMEWORK ?? 'fastify'
const client = createClient({ url: process.env.REDIS_URL })
client.on('error', () => undefined)
await client.connect()
const kit = createSessionkit({
  store: new RedisStore({ client, prefix: process.env.PREFIX ?? 'hp:' }),
  cookie: { secure: false },
})

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function value(query: unknown): string {
  const v = (query as Record<string, unknown>).v
  return typeof v === 'string' ? v : 'x'
}

function stream(): Readable {
  return Readable.from(['chunk-1;', 'chunk-2'])
}

/** What a later request reads back. */
function readBack(session: Session): { v: unknown; user: string | null } {
  return { v: session.get('v') ?? null, user: session.userId ?? null }
}

if (framework === 'fastify') {
  const app = Fastify()
  await app.register(sessionPlugin, { sessionkit: kit })
  app.setErrorHandler((error: { statusCode?: number; message?: string }, _request, reply) => {
    void reply.status(error.statusCode ?? 500).send({ error: error.message ?? 'error' })
  })
  app.get('/read', (request, reply) => reply.send(readBack(request.session)))
  app.get('/sync-send', (request, reply) => {
    request.session.set('v', value(request.query))
    void reply.send('sync')
  })
  app.get('/async-return', async (request) => {
    request.session.set('v', value(request.query))
    await sleep(1)
    return 'returned'
  })
  app.get('/async-send-no-return', async (request, reply) => {
    request.session.set('v', value(request.query))
    void reply.send('ok')
  })
  app.get('/async-signin-send-no-return', async (request, reply) => {
    request.session.set('v', value(request.query))
    await request.session.signIn('alice')
    void reply.send('signed in')
  })
  app.get('/async-send-no-return-after-await', async (request, reply) => {
    await sleep(1)
    request.session.set('v', value(request.query))
    void reply.send('ok')
  })
  app.get('/redirect', async (request, reply) => {
    request.session.set('v', value(request.query))
    return reply.redirect('/read', 303)
  })
  app.get('/stream', async (request, reply) => {
    request.session.set('v', value(request.query))
    return reply.type('text/plain').send(stream())
  })
  app.get('/throw-sync', (request) => {
    request.session.set('v', value(request.query))
    throw new Error('thrown after a change')
  })
  app.get('/throw-async', async (request) => {
    request.session.set('v', value(request.query))
    await sleep(1)
    throw new Error('thrown after a change')
  })
  app.get('/change-after-end', async (request, reply) => {
    await reply.send('done')
    setTimeout(() => {
      try {
        request.session.set('v', value(request.query))
      } catch {
        // whatever the session layer does here, it must not crash the process
      }
    }, 5)
    return reply
  })
  app.get('/double-send', (request, reply) => {
    request.session.set('v', value(request.query))
    void reply.send('first')
    void reply.send('second')
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  console.log(`listening on http://127.0.0.1:${(app.server.address() as AddressInfo).port}`)
} else {
  const express = framework === 'express4' ? express4 : express5
  const app = express()
  app.use(sessionMiddleware(kit))
  type Req = express5.Request
  type Res = express5.Response
  type Next = express5.NextFunction
  /** Express 4 does not catch rejected promises: forward them, as Express 5 does. */
  const route =
    (handler: (req: Req, res: Res, next: Next) => unknown) =>
    (req: Req, res: Res, next: Next): void => {
      Promise.resolve()
        .then(() => handler(req, res, next))
        .catch(next)
    }
  app.get(
    '/read',
    route((req, res) => res.json(readBack(req.session))),
  )
  app.get('/sync-send', (req, res) => {
    req.session.set('v', value(req.query))
    res.send('sync')
  })
  app.get(
    '/async-return',
    route(async (req, res) => {
      req.session.set('v', value(req.query))
      await sleep(1)
      res.send('returned')
    }),
  )
  app.get(
    '/async-send-no-return',
    route(async (req, res) => {
      req.session.set('v', value(req.query))
      res.send('ok')
      await Promise.resolve()
    }),
  )
  app.get(
    '/async-signin-send-no-return',
    route(async (req, res) => {
      req.session.set('v', value(req.query))
      await req.session.signIn('alice')
      res.send('signed in')
    }),
  )
  app.get(
    '/async-send-no-return-after-await',
    route(async (req, res) => {
      await sleep(1)
      req.session.set('v', value(req.query))
      res.send('ok')
    }),
  )
  app.get('/redirect', (req, res) => {
    req.session.set('v', value(req.query))
    res.redirect(303, '/read')
  })
  app.get('/stream', (req, res) => {
    req.session.set('v', value(req.query))
    res.type('text/plain')
    stream().pipe(res)
  })
  app.get('/throw-sync', (req) => {
    req.session.set('v', value(req.query))
    throw new Error('thrown after a change')
  })
  app.get(
    '/throw-async',
    route(async (req) => {
      req.session.set('v', value(req.query))
      await sleep(1)
      throw new Error('thrown after a change')
    }),
  )
  app.get('/change-after-end', (req, res) => {
    res.send('done')
    setTimeout(() => {
      try {
        req.session.set('v', value(req.query))
      } catch {
        // whatever the session layer does here, it must not crash the process
      }
    }, 5)
  })
  app.get('/double-send', (req, res) => {
    req.session.set('v', value(req.query))
    res.end('first')
    res.end('second')
  })
  app.get('/write-then-end', (req, res) => {
    req.session.set('v', value(req.query))
    res.write('part-1;')
    setTimeout(() => res.end('part-2'), 5)
  })
  app.use((error: { statusCode?: number; message?: string }, _req: Req, res: Res, next: Next) => {
    if (res.headersSent) {
      next(error)
      return
    }
    res.status(error.statusCode ?? 500).json({ error: error.message ?? 'error' })
  })
  const server = app.listen(0, '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  })
}
