/**
 * Fastify 5 + sessionkit in the @fastify/session API mode, with @fastify/passport on top: a @fastify/session +
 * @fastify/passport app switched by its session lines. `/read` and `/write` go through the passport session
 * strategy (the user deserialised from `request.session.get('passport')`); sign-in is `request.logIn()`
 * (regenerate keeping the fields, then set).
 */
import fastifyPassport from '@fastify/passport'
import Fastify, { type FastifyRequest } from 'fastify'
import { createClient } from 'redis'
import { createSessionkit, RedisStore } from 'sessionkit'
import { sessionPlugin } from 'sessionkit/fastify'
import { APP_DATA, LOGIN_USER, env, exitOnSignal, port, signInUser } from './common.js'

interface BenchUser {
  id: string
}
interface CompatSession {
  get(key: string): unknown
  set(key: string, value: unknown): void
}
const sessionOf = (request: FastifyRequest): CompatSession =>
  (request as unknown as { session: CompatSession }).session
const userOf = (request: FastifyRequest): BenchUser | undefined =>
  (request as unknown as { user?: BenchUser }).user

fastifyPassport.registerUserSerializer((user: BenchUser) => Promise.resolve(user.id))
fastifyPassport.registerUserDeserializer((id: string) => Promise.resolve({ id }))

const client = await createClient({ url: env('REDIS_URL') }).connect()
const kit = createSessionkit({ store: new RedisStore({ client }), cookie: { secure: false } })
const app = Fastify({ logger: false })
await app.register(sessionPlugin, {
  sessionkit: kit,
  api: '@fastify/session',
  userId: (data) => data.passport,
})
await app.register(fastifyPassport.initialize())
await app.register(fastifyPassport.secureSession())

app.get('/read', (request) => ({
  user: userOf(request)?.id ?? null,
  counter: sessionOf(request).get('counter') ?? null,
}))
app.get('/write', (request) => {
  const s = sessionOf(request)
  const current = s.get('counter')
  const counter = (typeof current === 'number' ? current : 0) + 1
  s.set('counter', counter)
  return { counter }
})
/** Sign-in as a passport app does it after checking the password: the app data, then `request.logIn()`. */
async function signIn(request: FastifyRequest, user: string): Promise<void> {
  const s = sessionOf(request)
  for (const [key, value] of Object.entries(APP_DATA)) s.set(key, value)
  s.set('userId', user)
  await request.logIn({ id: user }, { keepSessionInfo: true })
}
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
