// A TypeScript app as a new user writes it from the README, type-checked against the installed package by
// test/package/install.test.ts (with moduleResolution nodenext and bundler). Never run.
import express from 'express'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import {
  createSessionkit,
  MemoryStore,
  RedisStore,
  StoreUnavailableError,
  type ActiveSession,
  type Session,
  type SessionkitOptions,
} from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { sessionPlugin } from 'sessionkit/fastify'
import { createTestSessionkit, signInCookie } from 'sessionkit/testing'
import { activeSessionsRouter } from 'sessionkit/ui/express'
import { activeSessionsPlugin } from 'sessionkit/ui/fastify'

const client = createClient({ url: process.env.REDIS_URL })
const options: SessionkitOptions = {
  store: new RedisStore({ client, timeoutMs: 500, circuitBreaker: false }),
}
const sessions = createSessionkit(options)
const viaIoredis = createSessionkit({ store: new RedisStore({ client: new Redis({ lazyConnect: true }) }) })

const app = express()
app.use(sessionMiddleware(sessions, { bindCurrentSession: false }))
app.use('/profile', activeSessionsRouter(sessions, { isAdmin: (req) => req.session.userId === 'admin' }))
app.get('/', (req, res) => {
  const session: Session = req.session
  const visits = (session.get<number>('visits') ?? 0) + 1
  session.set('visits', visits)
  res.send(`visit ${String(visits)}, unsaved changes: ${String(session.isDirty)}`)
})
app.post('/login', async (req, res) => {
  await req.session.signIn('alice', { rememberMe: true })
  const devices: ActiveSession[] = await req.session.listSessions()
  res.json({ devices: devices.map((device) => device.browser) })
})

const fastify = Fastify()
await fastify.register(sessionPlugin, { sessionkit: viaIoredis })
await fastify.register(activeSessionsPlugin, { sessionkit: viaIoredis, prefix: '/profile' })
fastify.get('/', (request) => ({ user: request.session.userId ?? null }))
fastify.setErrorHandler((error, _request, reply) => {
  void reply.status(error instanceof StoreUnavailableError ? 503 : 500).send()
})

const kit = createTestSessionkit({ store: new MemoryStore({ sweepIntervalMs: 0 }) })
export const cookie: Promise<string> = signInCookie(kit, 'alice', { data: { role: 'admin' } })

// @ts-expect-error a misspelt option is a type error too (and InvalidOptionsError at run time)
createSessionkit({ store: new MemoryStore(), idleTimoutMs: 1000 })
// @ts-expect-error sessions save themselves: session.commit(), not kit.commit(session)
void sessions.commit() // eslint-disable-line @typescript-eslint/no-unsafe-call
