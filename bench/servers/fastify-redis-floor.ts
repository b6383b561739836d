/**
 * The floor of any Redis-backed session layer on Fastify 5: bare Fastify plus the Redis round trips a session
 * needs and nothing else (see express-redis-floor.ts): one GET on a read, GET + SET on a write, one SET on a
 * sign-in, over the same node-redis client.
 */
import Fastify from 'fastify'
import { createClient } from 'redis'
import { APP_DATA_JSON, env, exitOnSignal, port, signInUser } from './common.js'

const KEY = 'floor:session'
const client = await createClient({ url: env('REDIS_URL') }).connect()
await client.set(KEY, APP_DATA_JSON, { EX: 86_400 })

const app = Fastify({ logger: false })
app.decorateRequest('floorSession', null)
app.addHook('onRequest', async (request) => {
  // A sign-in arrives without a session: nothing to load.
  if (request.method === 'POST') return
  ;(request as unknown as { floorSession: string | null }).floorSession = await client.get(KEY)
})
app.get('/read', () => ({ user: null, counter: null }))
app.get('/write', async () => {
  await client.set(KEY, APP_DATA_JSON, { EX: 86_400 })
  return { counter: 1 }
})
app.post('/signin', async (request) => {
  const user = signInUser(request.query)
  await client.set(`floor:${user}`, APP_DATA_JSON, { EX: 86_400 })
  return { user }
})
app.post('/login', () => ({ ok: true }))
await app.listen({ port: port(), host: '127.0.0.1' })
console.log('listening')
exitOnSignal(async () => {
  await app.close()
  await client.quit()
})
