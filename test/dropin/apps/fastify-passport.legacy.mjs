// A Fastify app on @fastify/session (connect-redis store) with @fastify/passport and passport-local, as apps are
// written today. Its twin, fastify-passport.sessionkit.mjs, differs only between the "session" markers.
import formbody from '@fastify/formbody'
import fastifyPassport from '@fastify/passport'
import Fastify from 'fastify'
import { Strategy as LocalStrategy } from 'passport-local'
import { createClient } from 'redis'
// --- session: begin
import fastifyCookie from '@fastify/cookie'
import fastifySession from '@fastify/session'
import { RedisStore } from 'connect-redis'
// --- session: end

const USERS = { alice: 'alice-password', bob: 'bob-password', carol: 'carol-password' }
const DAY = 24 * 3600 * 1000

const client = createClient({ url: process.env.REDIS_URL })
client.on('error', (error) => console.error('redis:', error.message))
await client.connect()

const app = Fastify()
await app.register(formbody)
// --- session: begin
await app.register(fastifyCookie)
await app.register(fastifySession, {
  secret: process.env.SESSION_SECRET,
  store: new RedisStore({ client }),
  cookie: { secure: false },
  saveUninitialized: false,
})
// --- session: end
await app.register(fastifyPassport.initialize())
await app.register(fastifyPassport.secureSession())
fastifyPassport.use(
  'local',
  new LocalStrategy((username, password, done) => {
    done(null, USERS[username] === password ? { id: username } : false)
  }),
)
fastifyPassport.registerUserSerializer(async (user) => user.id)
fastifyPassport.registerUserDeserializer(async (id) => (USERS[id] ? { id } : null))

app.post(
  '/login',
  { preValidation: fastifyPassport.authenticate('local', { failureRedirect: '/login-failed' }) },
  async (request, reply) => {
    if (request.body.remember === 'on') request.session.cookie.maxAge = 30 * DAY
    return reply.redirect('/', 303)
  },
)
app.get('/login-failed', async (request, reply) =>
  reply.status(401).send({ error: 'wrong username or password' }),
)
app.get('/', async (request) => {
  const views = (request.session.get('views') ?? 0) + 1
  request.session.set('views', views)
  return { user: request.user?.id ?? null, views, cart: request.session.get('cart')?.items ?? [] }
})
app.post('/cart', async (request) => {
  const cart = request.session.get('cart')
  if (cart) cart.items.push(request.body.item)
  else request.session.set('cart', { items: [request.body.item] })
  return { cart: request.session.get('cart').items }
})
app.post('/logout', async (request, reply) => {
  await request.logout()
  return reply.redirect('/', 303)
})
app.setErrorHandler((error, request, reply) => {
  console.error('app error:', error)
  reply.status(500).send({ error: error.message })
})

const address = await app.listen({ port: 0, host: '127.0.0.1' })
console.log(`listening on ${address}`)
process.once('SIGTERM', () => {
  app
    .close()
    .then(() => client.quit())
    .finally(() => process.exit(0))
})
