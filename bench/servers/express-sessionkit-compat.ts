/**
 * Express 5 + sessionkit in the express-session API mode, with passport on top: an express-session + passport app
 * switched by its session lines. `/read` and `/write` go through `passport.authenticate('session')` (the user
 * deserialised from `req.session.passport.user`); sign-in is passport's `req.login()` (regenerate, then save).
 */
import express, { type Request } from 'express'
import passport from 'passport'
import { createClient } from 'redis'
import { createSessionkit, RedisStore } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { APP_DATA, LOGIN_USER, env, exitOnSignal, port, signInUser } from './common.js'

interface BenchUser {
  id: string
}
interface CompatRequest {
  session: Record<string, unknown>
  user?: BenchUser
  login(user: BenchUser, options: { keepSessionInfo: boolean }, done: (error?: unknown) => void): void
}
const compat = (req: Request): CompatRequest => req as unknown as CompatRequest

passport.serializeUser((user, done) => {
  done(null, user.id)
})
passport.deserializeUser((id, done) => {
  done(null, { id: String(id) })
})

const client = await createClient({ url: env('REDIS_URL') }).connect()
const kit = createSessionkit({ store: new RedisStore({ client }), cookie: { secure: false } })
const app = express()
app.use(
  sessionMiddleware(kit, {
    api: 'express-session',
    userId: (data) => (data.passport as { user?: string } | undefined)?.user,
  }),
)
app.use(passport.authenticate('session'))

app.get('/read', (req, res) => {
  const r = compat(req)
  res.json({ user: r.user?.id ?? null, counter: r.session.counter ?? null })
})
app.get('/write', (req, res) => {
  const s = compat(req).session
  const counter = (typeof s.counter === 'number' ? s.counter : 0) + 1
  s.counter = counter
  res.json({ counter })
})
/** Sign-in as a passport app does it after checking the password: the app data, then `req.login()`. */
function signIn(req: Request, user: string, reply: (error?: unknown) => void): void {
  const r = compat(req)
  Object.assign(r.session, APP_DATA, { userId: user })
  r.login({ id: user }, { keepSessionInfo: true }, reply)
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
