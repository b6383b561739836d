// A complete Express app with sessionkit. Run: REDIS_URL=redis://127.0.0.1:6379 PORT=3000 node examples/express.mjs
import express from 'express'
import { createClient } from 'redis'
import { createSessionkit, RedisStore } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'

const client = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' })
client.on('error', (error) => console.error('redis:', error.message)) // without a listener, a Redis error kills the process
await client.connect()

const sessions = createSessionkit({
  store: new RedisStore({ client }),
  // Secure cookies are the default; plain-HTTP development must opt out explicitly.
  cookie: { secure: process.env.NODE_ENV === 'production' },
})

const app = express()
app.use(sessionMiddleware(sessions))
app.use(express.urlencoded({ extended: false }))

app.get('/', (req, res) => {
  const visits = (req.session.get('visits') ?? 0) + 1
  req.session.set('visits', visits)
  res.send(`Hello ${req.session.userId ?? 'stranger'}, visit number ${visits}`)
})

app.post('/login', async (req, res) => {
  // Check req.body.username and req.body.password against your users first.
  await req.session.signIn(req.body.username, { rememberMe: req.body.remember_me === 'on' })
  res.redirect(303, '/')
})

app.get('/sessions', async (req, res) => {
  if (!req.session.userId) return res.status(401).json({ error: 'sign in first' })
  res.json({ sessions: await req.session.listSessions() })
})

app.post('/sessions/revoke-others', async (req, res) => {
  res.json({ revoked: await req.session.revokeOtherSessions() })
})

app.post('/logout', async (req, res) => {
  await req.session.signOut()
  res.redirect(303, '/')
})

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`)
})
