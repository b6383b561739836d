/**
 * Fastify 5 + sessionkit (RedisStore over node-redis, active-session tracking on: the default). With
 * NEAR_CACHE=1, RedisStore's near cache is on (sessions served from memory between touches).
 */
import Fastify from 'fastify'
import { createClient } from 'redis'
import { createSessionkit, RedisStore, type Session } from 'sessionkit'
import { sessionPlugin } from 'sessionkit/fastify'
import { APP_DATA, LOGIN_USER, env, exitOnSignal, port, signInUser } from './common.js'

const client = await createClient({ url: env('REDIS_URL') }).connect()
const store = new RedisStore({
  client,
  nearCache: process.env.NEAR_CACHE === '1' ? { maxEntries: 100_000 } : undefined,
})
const kit = createSessionkit({ store, cookie: { secure: false } })
const app = Fastify({ logger: false })
await app.register(sessionPlugin, { sessionkit: kit })

async function signIn(session: Session, user: string): Promise<void> {
  for (const [key, value] of Object.entries(APP_DATA)) session.set(key, value)
  session.set('userId', user)
  await session.signIn(user)
}

app.get('/read', (request) => ({
  user: request.session.userId ?? null,
  counter: request.session.get<number>('counter') ?? null,
}))
app.get('/write', (request) => {
  const counter = (request.session.get<number>('counter') ?? 0) + 1
  request.session.set('counter', counter)
  return { counter }
})
app.post('/signin', async (request) => {
  const user = signInUser(request.query)
  await signIn(request.session, user)
  return { user }
})
app.post('/login', async (request) => {
  await signIn(request.session, LOGIN_USER)
  return { ok: true }
})
await app.listen({ port: port(), host: '127.0.0.1' })
console.log('listening')
exitOnSignal(async () => {
  await app.close()
  await store.close()
  await client.quit()
})
