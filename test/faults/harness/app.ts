/**
 * The app under fault: a real Express 5 or Fastify 5 server with sessionkit over a real Redis deployment, run in
 * its own process (so a crash in the session layer shows as a dead process, and its heap is its own to measure).
 *
 * Env:
 * - FRAMEWORK: `express5` | `fastify`
 * - CLIENT: `node-redis` | `ioredis` | `node-redis-sentinel` | `ioredis-sentinel` | `node-redis-cluster` |
 *   `ioredis-cluster`
 * - TARGET: JSON `{ url }` (single node), `{ sentinels: [{host, port}], name }` or `{ nodes: [{host, port}] }`
 * - STORE_OPTIONS: JSON merged into `new RedisStore({ client, prefix, ... })` (timeoutMs, maxInFlight, ...)
 * - PREFIX: key prefix
 *
 * The client is connected in the background, never awaited: the app must start (and serve 503s) while Redis is
 * down. Prints `listening on <url>` when ready.
 *
 * Routes (the load generator's vocabulary):
 * - `GET /read`: `{ id, user, keys }` of the request's session
 * - `POST /write?m=<marker>&d=<ms>`: stores key `<marker>` (each write a unique marker, so a write that took effect can
 *   be told from one that did not)
 * - `POST /signin?user=<id>&d=<ms>`: `{ id, user, keys }` after the sign-in (keys: what it carried over)
 * - `POST /signout?d=<ms>` (for `d`, see `think` below)
 * - `POST /admin/revoke?user=<id>&id=<session id>`: `{ revoked }`
 * - `GET /admin/list?user=<id>`: `{ ids }`
 * - `GET /admin/scan`: `{ sessions: [{ id, user }], keysWithoutTtl }` over the whole store (every master)
 * - `GET /__heap`: heap and external memory after a full GC
 * - `GET /__ping`: 200 without touching the session or the store
 *
 * Errors are answered `{ code, message }` with the error's `statusCode` (500 without one).
 */
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { Cluster, Redis } from 'ioredis'
import { createClient, createCluster, createSentinel } from 'redis'
import { createSessionkit, RedisStore, type Session } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { sessionPlugin } from 'sessionkit/fastify'
import type { RedisStoreOptions } from '../../../src/stores/redis/redis-store.js'
import { keysWithTtl } from '../../helpers/keys-with-ttl.js'

interface Target {
  readonly url?: string
  readonly sentinels?: { host: string; port: number }[]
  readonly name?: string
  readonly nodes?: { host: string; port: number }[]
}

const framework = process.env.FRAMEWORK ?? 'express5'
const clientKind = process.env.CLIENT ?? 'node-redis'
const target = JSON.parse(process.env.TARGET ?? '{}') as Target
const storeOptions = JSON.parse(process.env.STORE_OPTIONS ?? '{}') as Record<string, unknown>

/** Connects in the background: a failed first connection is retried by the client, never fatal. */
function connectClient(): RedisStoreOptions['client'] {
  const ignore = (): void => undefined
  switch (clientKind) {
    case 'node-redis': {
      const client = createClient({ url: target.url })
      client.on('error', ignore)
      client.connect().catch(ignore)
      return client
    }
    case 'ioredis': {
      const client = new Redis(target.url ?? '')
      client.on('error', ignore)
      return client
    }
    case 'node-redis-sentinel': {
      const client = createSentinel({ name: target.name ?? '', sentinelRootNodes: target.sentinels ?? [] })
      client.on('error', ignore)
      client.connect().catch(ignore)
      return client
    }
    case 'ioredis-sentinel': {
      const client = new Redis({ sentinels: target.sentinels ?? [], name: target.name ?? '' })
      client.on('error', ignore)
      return client
    }
    case 'node-redis-cluster': {
      const client = createCluster({
        rootNodes: (target.nodes ?? []).map((n) => ({ url: `redis://${n.host}:${n.port}` })),
      })
      client.on('error', ignore)
      client.connect().catch(ignore)
      return client
    }
    case 'ioredis-cluster': {
      const client = new Cluster(target.nodes ?? [])
      client.on('error', ignore)
      return client
    }
    default:
      throw new Error(`unknown CLIENT ${clientKind}`)
  }
}

// STORE_OPTIONS may name options this RedisStore does not know yet (maxInFlight, circuitBreaker, waitForReplicas).
const options: RedisStoreOptions = {
  client: connectClient(),
  prefix: process.env.PREFIX ?? 'fault:',
  ...storeOptions,
}
const store = new RedisStore(options)
const kit = createSessionkit({ store, cookie: { secure: false }, deviceParser: false })

type Query = Record<string, string | undefined>
type Handler = (session: Session, query: Query) => Promise<unknown>

/**
 * `?d=<ms>`: think this long after the session was loaded and before the store call the route makes, as a real
 * handler would. It tells the load generator when that call can have been sent at the earliest.
 */
function think(query: Query): Promise<void> {
  const ms = Number(query.d ?? 0)
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve()
}

const routes: Record<string, { method: 'GET' | 'POST'; handler: Handler }> = {
  '/read': {
    method: 'GET',
    handler: (s) => Promise.resolve({ id: s.id ?? null, user: s.userId ?? null, keys: [...s.keys()] }),
  },
  '/write': {
    method: 'POST',
    handler: async (s, q) => {
      await think(q)
      s.set(q.m ?? 'unnamed', 1)
      return { ok: true }
    },
  },
  '/signin': {
    method: 'POST',
    handler: async (s, q) => {
      await think(q)
      await s.signIn(q.user ?? 'nobody')
      return { id: s.id ?? null, user: s.userId ?? null, keys: [...s.keys()] }
    },
  },
  '/signout': {
    method: 'POST',
    handler: async (s, q) => {
      await think(q)
      await s.signOut()
      return { ok: true }
    },
  },
  '/admin/revoke': {
    method: 'POST',
    handler: async (_s, q) => ({ revoked: await kit.revokeSession(q.user ?? '', q.id ?? '') }),
  },
  '/admin/list': {
    method: 'GET',
    handler: async (_s, q) => ({ ids: (await kit.listSessions(q.user ?? '')).map((s) => s.id) }),
  },
  '/admin/scan': { method: 'GET', handler: () => scan(store) },
}

/** Every session in the store (by walking it, not the indexes) and every key under the prefix without a TTL. */
async function scan(redis: RedisStore): Promise<unknown> {
  const sessions: { id: string; user: string | null }[] = []
  await redis.scanSessions((batch) => {
    for (const s of batch.sessions) {
      const fields = new Map(s.fields)
      // Only what could load as a session (whatever else a store keeps under a session key is not one).
      if (!fields.has('_c') || !fields.has('_ls') || !fields.has('_ab')) continue
      sessions.push({ id: s.ref.id, user: fields.get('_u') ?? null })
    }
  })
  const keysWithoutTtl = (await keysWithTtl(redis, redis.keys.prefix))
    .filter((k) => k.pttl === -1)
    .map((k) => k.key)
  return { sessions, keysWithoutTtl }
}

function heap(): { heapUsed: number; external: number; rss: number } {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  gc?.()
  const m = process.memoryUsage()
  return { heapUsed: m.heapUsed, external: m.external, rss: m.rss }
}

function errorReply(error: unknown): { status: number; body: { code: string; message: string } } {
  const e = error as { statusCode?: unknown; code?: unknown; message?: unknown }
  return {
    status: typeof e.statusCode === 'number' ? e.statusCode : 500,
    body: { code: typeof e.code === 'string' ? e.code : 'UNKNOWN', message: String(e.message) },
  }
}

async function listen(): Promise<string> {
  if (framework === 'fastify') {
    const app = Fastify()
    await app.register(sessionPlugin, { sessionkit: kit })
    app.setErrorHandler((error, _request, reply) => {
      const { status, body } = errorReply(error)
      void reply.status(status).send(body)
    })
    app.get('/__heap', () => heap())
    app.get('/__ping', () => 'ok')
    for (const [path, { method, handler }] of Object.entries(routes)) {
      app.route({ method, url: path, handler: (request) => handler(request.session, request.query as Query) })
    }
    await app.listen({ port: 0, host: '127.0.0.1' })
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  }
  const app = express()
  app.get('/__heap', (_req, res) => {
    res.json(heap())
  })
  app.get('/__ping', (_req, res) => {
    res.send('ok')
  })
  app.use(sessionMiddleware(kit))
  for (const [path, { method, handler }] of Object.entries(routes)) {
    const register = method === 'GET' ? app.get.bind(app) : app.post.bind(app)
    register(path, (req, res, next) => {
      handler(req.session, req.query as Query).then((body) => res.json(body), next)
    })
  }
  app.use((error: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) {
      next(error)
      return
    }
    const { status, body } = errorReply(error)
    res.status(status).json(body)
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

console.log(`listening on ${await listen()}`)
