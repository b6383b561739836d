/**
 * Fastify 5 + @fastify/cookie + @fastify/session + connect-redis (node-redis), as in peer-baseline.md:
 * `secure: false`, `saveUninitialized: false`, and `rolling` from ROLLING (`true`, the plugin default, or `false`).
 */
import fastifyCookie from '@fastify/cookie'
import { RedisStore } from 'connect-redis'
import Fastify, { type FastifyPluginAsync, type FastifyRequest } from 'fastify'
import { createClient } from 'redis'
import { APP_DATA, LOGIN_USER, SECRET, env, exitOnSignal, port, signInUser } from './common.js'

// Imported by a computed name on purpose: @fastify/session's typings redeclare `FastifyRequest.session`, which
// would clash with sessionkit's declaration in this one TypeScript project.
const SESSION_PLUGIN = '@fastify/session'
const fastifySession = ((await import(SESSION_PLUGIN)) as { default: FastifyPluginAsync<SessionOptions> })
  .default
interface SessionOptions {
  secret: string
  store: unknown
  cookie: { secure: boolean }
  saveUninitialized: boolean
  rolling: boolean
}

const client = await createClient({ url: env('REDIS_URL') }).connect()
const app = Fastify({ logger: false })
await app.register(fastifyCookie)
await app.register(fastifySession, {
  secret: SECRET,
  store: new RedisStore({ client }),
  cookie: { secure: false },
  saveUninitialized: false,
  rolling: env('ROLLING') === 'true',
})

interface PeerSession {
  get(key: string): unknown
  set(key: string, value: unknown): void
  regenerate(): Promise<void>
}
const sessionOf = (request: FastifyRequest): PeerSession =>
  (request as unknown as { session: PeerSession }).session

async function signIn(request: FastifyRequest, user: string): Promise<void> {
  await sessionOf(request).regenerate()
  const s = sessionOf(request)
  for (const [key, value] of Object.entries(APP_DATA)) s.set(key, value)
  s.set('userId', user)
}

app.get('/read', (request) => {
  const s = sessionOf(request)
  return { user: s.get('userId') ?? null, counter: s.get('counter') ?? null }
})
app.get('/write', (request) => {
  const s = sessionOf(request)
  const current = s.get('counter')
  const counter = (typeof current === 'number' ? current : 0) + 1
  s.set('counter', counter)
  return { counter }
})
app.post('/signin', async (request) => {
  const user = signInUser(request.query)
  await signIn(request, user)
  return { user }
})
app.post('/login', async (request) => {
  await signIn(request, LOGIN_USER)
  return { ok: true }
})
await app.listen({ port: port(), host: '127.0.0.1' })
console.log('listening')
exitOnSignal(async () => {
  await app.close()
  await client.quit()
})
