/**
 * The floor of any Redis-backed session layer on Express 5: bare Express plus the Redis round trips a session
 * needs and nothing else (no cookie, no parsing, no session object): one GET on a read, GET + SET on a write,
 * one SET on a sign-in, over the same node-redis client. No session library can be cheaper than this.
 */
import express, { type NextFunction, type Request, type Response } from 'express'
import { createClient } from 'redis'
import { APP_DATA_JSON, env, exitOnSignal, port, signInUser } from './common.js'

const KEY = 'floor:session'
const client = await createClient({ url: env('REDIS_URL') }).connect()
await client.set(KEY, APP_DATA_JSON, { EX: 86_400 })

const app = express()
app.use((req: Request, res: Response, next: NextFunction) => {
  // A sign-in arrives without a session: nothing to load.
  if (req.method === 'POST') {
    next()
    return
  }
  client.get(KEY).then((value) => {
    res.locals.session = value
    next()
  }, next)
})
app.get('/read', (_req, res) => {
  res.json({ user: null, counter: null })
})
app.get('/write', (_req, res, next) => {
  client.set(KEY, APP_DATA_JSON, { EX: 86_400 }).then(() => res.json({ counter: 1 }), next)
})
app.post('/signin', (req, res, next) => {
  const user = signInUser(req.query)
  client.set(`floor:${user}`, APP_DATA_JSON, { EX: 86_400 }).then(() => res.json({ user }), next)
})
app.post('/login', (_req, res) => {
  res.json({ ok: true })
})
const server = app.listen(port(), '127.0.0.1', () => {
  console.log('listening')
})
exitOnSignal(async () => {
  await new Promise((resolve) => server.close(resolve))
  await client.quit()
})
