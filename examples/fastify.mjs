// A complete Fastify app with sessionkit. Run: REDIS_URL=redis://127.0.0.1:6379 PORT=3000 node examples/fastify.mjs
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { createSessionkit, RedisStore } from 'sessionkit'
import { sessionPlugin } from 'sessionkit/fastify'

const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379')
client.on('error', (error) => console.error('redis:', error.message)) // without a listener, a Redis error kills the process

const sessions = createSessionkit({
  store: new RedisStore({ client }),
  // Secure cookies are the default; plain-HTTP development must opt out explicitly.
  cookie: { secure: process.env.NODE_ENV === 'production' },
})

const app = Fastify()
await app.register(sessionPlugin, { sessionkit: sessions })

app.get('/', async (request) => {
  const visits = (request.session.get('visits') ?? 0) + 1
  request.session.set('visits', visits)
  return `Hello ${request.session.userId ?? 'stranger'}, visit number ${visits}`
})

app.post('/login', async (request, reply) => {
  // Check the credentials in request.body against your users first.
  await request.session.signIn(request.body.username)
  return reply.redirect('/', 303)
})

app.get('/sessions', async (request, reply) => {
  if (!request.session.userId) return reply.status(401).send({ error: 'sign in first' })
  return { sessions: await request.session.listSessions() }
})

app.post('/sessions/revoke-others', async (request) => ({
  revoked: await request.session.revokeOtherSessions(),
}))

app.post('/logout', async (request, reply) => {
  await request.session.signOut()
  return reply.redirect('/', 303)
})

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' })
console.log(`listening on ${address}`)
