/** Express 5 + express-session + connect-redis (node-redis), configured as in peer-baseline.md. */
import { RedisStore } from 'connect-redis'
import express, { type Request } from 'express'
import session, { type PeerSession } from 'express-session'
import { createClient } from 'redis'
import { APP_DATA, LOGIN_USER, SECRET, env, exitOnSignal, port, signInUser } from './common.js'

const client = await createClient({ url: env('REDIS_URL') }).connect()
const app = express()
app.use(
  session({
    secret: SECRET,
    store: new RedisStore({ client }),
    resave: false,
    saveUninitialized: false,
  }),
)
const sessionOf = (req: Request): PeerSession => (req as unknown as { session: PeerSession }).session

app.get('/read', (req, res) => {
  const s = sessionOf(req)
  res.json({ user: s.userId ?? null, counter: s.counter ?? null })
})
app.get('/write', (req, res) => {
  const s = sessionOf(req)
  const counter = (typeof s.counter === 'number' ? s.counter : 0) + 1
  s.counter = counter
  res.json({ counter })
})
const signIn = (req: Request, user: string, reply: (error?: unknown) => void): void => {
  // The documented sign-in: a fresh session id (session fixation), then the user's data.
  sessionOf(req).regenerate((error) => {
    if (error) {
      reply(error)
      return
    }
    Object.assign(sessionOf(req), APP_DATA, { userId: user })
    reply()
  })
}
app.post('/signin', (req, res, next) => {
  const user = signInUser(req.query)
  signIn(req, user, (error) => {
    if (error) next(error)
    else res.json({ user })
  })
})
app.post('/login', (req, res, next) => {
  signIn(req, LOGIN_USER, (error) => {
    if (error) next(error)
    else res.json({ ok: true })
  })
})
const server = app.listen(port(), '127.0.0.1', () => {
  console.log('listening')
})
exitOnSignal(async () => {
  await new Promise((resolve) => server.close(resolve))
  await client.quit()
})
