// What GitLab builds on its sessions, in one Express app: admin mode, unknown sign-in alerts, per-address limits,
// background access and events. Run: REDIS_URL=redis://127.0.0.1:6379 PORT=3000 node examples/gitlab-features.mjs
import express from 'express'
import { createClient } from 'redis'
import { createSessionkit, RedisStore } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'

const client = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
client.on('error', (error) => console.error('redis:', error.message))
await client.connect()

// Check passwords against your user store; this table is only for the example.
const PASSWORDS = new Map([
  ['alice', 'alice-password'],
  ['admin', 'admin-password'],
])
const passwordOk = (user, password) => typeof password === 'string' && PASSWORDS.get(user) === password

const sessions = createSessionkit({
  store: new RedisStore({ client }),
  cookie: { secure: process.env.NODE_ENV === 'production' },
  // Unknown sign-in alerts: known = an IP of the user's live sessions, or this browser's signed cookie.
  knownDeviceCookie: { secret: process.env.KNOWN_DEVICE_SECRET ?? 'development only: 32+ characters!!' },
  onUnknownSignIn: ({ userId, device, ipAddress, signedInAt, publicId }) => {
    const browser = device?.browser || 'an unknown browser'
    console.log(
      `mail to ${userId}: new sign-in from ${browser} at ${ipAddress}, ${signedInAt.toISOString()} (${publicId})`,
    )
  },
  // Per-address limits (GitLab's AnonymousSession and UniqueIpsLimiter): both answer with a 429.
  maxAnonymousSessionsPerIp: 100,
  uniqueIpsPerUser: { max: 10, windowMs: 24 * 60 * 60 * 1000 },
})

// Events: typed payloads, never a token (also on node:diagnostics_channel, as `sessionkit:signIn`...).
sessions.on('signIn', ({ userId, publicId, ipAddress }) =>
  console.log(`event signIn ${userId} ${publicId} ${ipAddress}`),
)
sessions.on('revoke', ({ userId, scope, count }) => console.log(`event revoke ${userId} ${scope} ${count}`))

const app = express()
app.use(sessionMiddleware(sessions))
app.use(express.urlencoded({ extended: false }))

app.post('/cart', (req, res) => {
  // The first write of a visitor stores an anonymous session: counted for their address.
  req.session.set('cart', [...(req.session.get('cart') ?? []), req.body.item])
  res.json({ cart: req.session.get('cart') })
})

app.post('/login', async (req, res) => {
  if (!passwordOk(req.body.username, req.body.password))
    return res.status(401).send('Wrong username or password')
  await req.session.signIn(req.body.username)
  res.redirect(303, '/')
})

// Admin mode: re-enter the password, then the session is elevated for 6 hours (a new token, too).
app.post('/admin-mode', async (req, res) => {
  const userId = req.session.userId
  if (userId !== 'admin' || !passwordOk(userId, req.body.password))
    return res.status(401).send('Wrong password')
  await req.session.elevate() // or elevate({ maxAgeMs: 15 * 60 * 1000 })
  res.redirect(303, '/admin')
})

app.get('/admin', (req, res) => {
  if (req.session.userId !== 'admin' || !req.session.isElevated())
    return res.status(403).send('Enter admin mode first')
  res.send(`Admin mode until ${req.session.elevatedUntil.toISOString()}`)
})

// Background access, for jobs and token-authenticated calls that have no browser session of their own.
app.get('/jobs/carts/:user', async (req, res) => {
  const snapshots = await sessions.sessionsOf(req.params.user) // one Redis round trip, nothing touched
  res.json(snapshots.map((s) => ({ id: s.id, browser: s.browser, cart: s.data.cart ?? [] })))
})

app.get('/api/users/:user/admin-mode', async (req, res) => {
  res.json({ elevated: await sessions.anySessionElevated(req.params.user) })
})

// TooManyAnonymousSessionsError and TooManyIpsError carry statusCode 429.
app.use((error, req, res, next) => {
  if (error.statusCode === 429) return res.status(429).send('Too many requests from your address')
  next(error)
})

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`)
})
