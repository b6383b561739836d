/**
 * Express 5 + sessionkit (RedisStore over node-redis, active-session tracking on: the default). With
 * NEAR_CACHE=1, RedisStore's near cache is on (sessions served from memory between touches).
 */
import express from 'express'
import { createClient } from 'redis'
import { createSessionkit, RedisStore, type Session } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { APP_DATA, LOGIN_USER, env, exitOnSignal, port, signInUser } from './common.js'

const client = await createClient({ url: env('REDIS_URL') }).connect()
const store = new RedisStore({
  client,
  nearCache: process.env.NEAR_CACHE === '1' ? { maxEntries: 100_000 } : undefined,
})
const kit = createSessionkit({ store, cookie: { secure: false } })
const app = express()
app.use(sessionMiddleware(kit))

/** Sign-in as an app does it: the user's data, then signIn (new token, device info, index entry). */
async function signIn(session: Session, user: string): Promise<void> {
  for (const [key, value] of Object.entries(APP_DATA)) session.set(key, value)
  session.set('userId', user)
  await session.signIn(user)
}

app.get('/read', (req, res) => {
  res.json({ user: req.session.userId ?? null, counter: req.session.get<number>('counter') ?? null })
})
app.get('/write', (req, res) => {
  const counter = (req.session.get<number>('counter') ?? 0) + 1
  req.session.set('counter', counter)
  res.json({ counter })
})
app.post('/signin', (req, res, next) => {
  const user = signInUser(req.query)
  signIn(req.session, user).then(() => res.json({ user }), next)
})
app.post('/login', (req, res, next) => {
  signIn(req.session, LOGIN_USER).then(() => res.json({ ok: true }), next)
})
const server = app.listen(port(), '127.0.0.1', () => {
  console.log('listening')
})
exitOnSignal(async () => {
  await new Promise((resolve) => server.close(resolve))
  await store.close()
  await client.quit()
})
