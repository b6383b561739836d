// The app of express-passport.legacy.mjs switched to sessionkit: only the lines between the "session" markers
// differ. Users signed in before the switch stay signed in (their sessions are adopted at their next request).
import express from 'express'
import passport from 'passport'
import { Strategy as LocalStrategy } from 'passport-local'
import { createClient } from 'redis'
// --- session: begin
import { RedisStore } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { createSessionkit, fromExpressSession } from 'sessionkit/migrate'
// --- session: end

const USERS = { alice: 'alice-password', bob: 'bob-password', carol: 'carol-password' }
const DAY = 24 * 3600 * 1000

const client = createClient({ url: process.env.REDIS_URL })
client.on('error', (error) => console.error('redis:', error.message))
await client.connect()

passport.use(
  new LocalStrategy((username, password, done) => {
    done(null, USERS[username] === password ? { id: username } : false)
  }),
)
passport.serializeUser((user, done) => done(null, user.id))
passport.deserializeUser((id, done) => done(null, USERS[id] ? { id } : false))

const app = express()
app.use(express.urlencoded({ extended: false }))
// --- session: begin
const userId = (data) => data.passport?.user
const sessions = createSessionkit({
  store: new RedisStore({ client }),
  cookie: { secure: false },
  migrateFrom: fromExpressSession({ client, secret: process.env.SESSION_SECRET, userId }),
})
app.use(sessionMiddleware(sessions, { api: 'express-session', userId }))
// --- session: end
app.use(passport.authenticate('session'))

app.post('/login', passport.authenticate('local', { failureRedirect: '/login-failed' }), (req, res) => {
  if (req.body.remember === 'on') req.session.cookie.maxAge = 30 * DAY
  res.redirect(303, '/')
})
app.get('/login-failed', (req, res) => {
  res.status(401).json({ error: 'wrong username or password' })
})
app.get('/', (req, res) => {
  req.session.views = (req.session.views ?? 0) + 1
  res.json({ user: req.user?.id ?? null, views: req.session.views, cart: req.session.cart?.items ?? [] })
})
app.post('/cart', (req, res) => {
  req.session.cart ??= { items: [] }
  req.session.cart.items.push(req.body.item)
  res.json({ cart: req.session.cart.items })
})
app.post('/logout', (req, res, next) => {
  req.logout((error) => (error ? next(error) : res.redirect(303, '/')))
})
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- Express knows error handlers by their 4 parameters
app.use((error, req, res, next) => {
  console.error('app error:', error)
  res.status(500).json({ error: String(error.message ?? error) })
})

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`)
})
process.once('SIGTERM', () => {
  server.close(() => client.quit().finally(() => process.exit(0)))
})
