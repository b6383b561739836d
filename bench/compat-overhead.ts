/**
 * What the express-session and @fastify/session API modes cost over the native mode, in Node CPU per request,
 * measured in one process: every app is driven through its framework's whole request path by light-my-request
 * (no sockets, no load generator sharing the CPU), against a private redis-server this script starts. Rounds are
 * interleaved; the minimum over rounds is the figure least disturbed by a busy machine.
 *
 * For each framework: `native` (the sessionkit API), `compat` (the API mode, the route reading the user id from
 * the session data), `compat + passport` (the API mode with passport / @fastify/passport deserialising the user
 * on every request, as the bench servers do).
 *
 * sessionkit runs from `dist/` (as the bench servers do), so build first. Run from the source (the
 * `sessionkit-source` condition), tsx wraps every closure the adapters make per request in a naming helper, which
 * inflates the compat figures by several microseconds.
 *
 *   npm run build && npx tsx bench/compat-overhead.ts [requests per round] [rounds]
 */
import { join } from 'node:path'
import fastifyPassport from '@fastify/passport'
import express, { type Request } from 'express'
import Fastify from 'fastify'
import inject from 'light-my-request'
import passport from 'passport'
import { createClient } from 'redis'
import { createSessionkit, RedisStore, type Session, type Sessionkit } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { sessionPlugin } from 'sessionkit/fastify'
import { startRedis } from './lib/redis.js'
import { median } from './lib/stats.js'
import { APP_DATA, USER_AGENT } from './servers/common.js'

type Mode = 'native' | 'compat' | 'compat + passport'
const MODES: readonly Mode[] = ['native', 'compat', 'compat + passport']
const ROUTES = ['read', 'write'] as const
const REQUESTS = Number(process.argv[2] ?? 3000)
const ROUNDS = Number(process.argv[3] ?? 8)
const BURST = 25

interface Reply {
  readonly headers: Record<string, unknown>
  json(): unknown
}
type Dispatch = (method: 'GET' | 'POST', url: string, cookie?: string) => Promise<Reply>

/** The data an app in the API modes sees (express-session: properties; @fastify/session: get/set). */
type Data = Record<string, unknown>
interface FastifyData {
  get(key: string): unknown
  set(key: string, value: unknown): void
  save(): Promise<void>
}
interface PassportUser {
  id: string
}

const userOf = (data: Data): unknown => (data.passport as { user?: unknown } | undefined)?.user

function expressApp(kit: Sessionkit, mode: Mode): Dispatch {
  const app = express()
  if (mode === 'native') app.use(sessionMiddleware(kit))
  else app.use(sessionMiddleware(kit, { api: 'express-session', userId: userOf }))
  if (mode === 'compat + passport') app.use(passport.authenticate('session'))
  const data = (req: Request): Data => req.session as unknown as Data
  app.get('/read', (req, res) => {
    if (mode === 'native') {
      res.json({ user: req.session.userId ?? null, counter: req.session.get('counter') ?? null })
    } else {
      const user = mode === 'compat' ? userOf(data(req)) : (req as { user?: PassportUser }).user?.id
      res.json({ user: user ?? null, counter: data(req).counter ?? null })
    }
  })
  app.get('/write', (req, res) => {
    if (mode === 'native') {
      const counter = (req.session.get<number>('counter') ?? 0) + 1
      req.session.set('counter', counter)
      res.json({ counter })
    } else {
      const counter = ((data(req).counter as number | undefined) ?? 0) + 1
      data(req).counter = counter
      res.json({ counter })
    }
  })
  app.post('/login', (req, res, next) => {
    if (mode === 'native') {
      signInNative(req.session).then(() => res.json({ ok: true }), next)
      return
    }
    const session = data(req) as Data & { save(cb: (error?: unknown) => void): void }
    Object.assign(session, APP_DATA, { passport: { user: 'bench-user' } })
    session.save((error) => {
      if (error) next(error)
      else res.json({ ok: true })
    })
  })
  return (method, url, cookie) =>
    inject(app, { method, url, headers: { 'user-agent': USER_AGENT, ...(cookie ? { cookie } : {}) } })
}

async function fastifyApp(kit: Sessionkit, mode: Mode): Promise<Dispatch> {
  const app = Fastify()
  if (mode === 'native') await app.register(sessionPlugin, { sessionkit: kit })
  else
    await app.register(sessionPlugin, { sessionkit: kit, api: '@fastify/session', userId: (d) => d.passport })
  if (mode === 'compat + passport') {
    await app.register(fastifyPassport.initialize())
    await app.register(fastifyPassport.secureSession())
  }
  const data = (session: unknown): FastifyData => session as FastifyData
  app.get('/read', (request) => {
    if (mode === 'native') {
      return { user: request.session.userId ?? null, counter: request.session.get('counter') ?? null }
    }
    const user =
      mode === 'compat'
        ? data(request.session).get('passport')
        : (request as unknown as { user?: PassportUser }).user?.id
    return { user: user ?? null, counter: data(request.session).get('counter') ?? null }
  })
  app.get('/write', (request) => {
    const session = data(request.session)
    const counter = ((session.get('counter') as number | undefined) ?? 0) + 1
    session.set('counter', counter)
    return { counter }
  })
  app.post('/login', async (request) => {
    if (mode === 'native') {
      await signInNative(request.session)
      return { ok: true }
    }
    const session = data(request.session)
    for (const [key, value] of Object.entries(APP_DATA)) session.set(key, value)
    session.set('passport', 'bench-user')
    await session.save()
    return { ok: true }
  })
  await app.ready()
  return (method, url, cookie) =>
    app.inject({ method, url, headers: { 'user-agent': USER_AGENT, ...(cookie ? { cookie } : {}) } })
}

async function signInNative(session: Session): Promise<void> {
  for (const [key, value] of Object.entries(APP_DATA)) session.set(key, value)
  await session.signIn('bench-user')
}

/** Signs in once and returns the session cookie, checking that a read sees the user. */
async function login(name: string, dispatch: Dispatch): Promise<string> {
  const reply = await dispatch('POST', '/login')
  const setCookie = ([] as string[]).concat(
    (reply.headers['set-cookie'] as string | string[] | undefined) ?? [],
  )
  const cookie = setCookie.map((c) => c.split(';', 1)[0]!).find((c) => !c.endsWith('='))
  if (!cookie) throw new Error(`${name}: no cookie after /login`)
  const check = (await dispatch('GET', '/read', cookie)).json() as { user: unknown }
  if (check.user !== 'bench-user') throw new Error(`${name}: not signed in: ${JSON.stringify(check)}`)
  return cookie
}

/** CPU microseconds per request over `REQUESTS` requests, `BURST` in flight at a time. */
async function measure(dispatch: Dispatch, route: string, cookie: string): Promise<number> {
  const burst = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i += BURST) {
      await Promise.all(Array.from({ length: BURST }, () => dispatch('GET', `/${route}`, cookie)))
    }
  }
  await burst(BURST * 20)
  const before = process.cpuUsage()
  await burst(REQUESTS)
  const used = process.cpuUsage(before)
  return (used.user + used.system) / REQUESTS
}

passport.serializeUser((user, done) => {
  done(null, user.id)
})
passport.deserializeUser((id, done) => {
  done(null, { id: String(id) })
})
fastifyPassport.registerUserSerializer((user: PassportUser) => Promise.resolve(user.id))
fastifyPassport.registerUserDeserializer((id: string) => Promise.resolve({ id }))

const redis = await startRedis(1, join(import.meta.dirname, '.work', 'compat-overhead-redis'))
const client = await createClient({ url: redis.url }).connect()
try {
  const kit = createSessionkit({ store: new RedisStore({ client }), cookie: { secure: false } })
  const apps = new Map<string, { dispatch: Dispatch; cookie: string }>()
  for (const mode of MODES) {
    const express = expressApp(kit, mode)
    apps.set(`express ${mode}`, { dispatch: express, cookie: await login(`express ${mode}`, express) })
    const fastify = await fastifyApp(kit, mode)
    apps.set(`fastify ${mode}`, { dispatch: fastify, cookie: await login(`fastify ${mode}`, fastify) })
  }
  const samples = new Map<string, number[]>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const route of ROUTES) {
      for (const [name, { dispatch, cookie }] of apps) {
        const key = `${name}|${route}`
        samples.set(key, [...(samples.get(key) ?? []), await measure(dispatch, route, cookie)])
      }
    }
  }
  console.log(`Node CPU µs per request, ${REQUESTS} requests × ${ROUNDS} interleaved rounds (min / median):`)
  console.log('framework | route | native | compat (× native) | compat + passport (× native)')
  for (const framework of ['express', 'fastify']) {
    for (const route of ROUTES) {
      const of = (mode: Mode): number[] => samples.get(`${framework} ${mode}|${route}`) ?? []
      const native = of('native')
      const cell = (mode: Mode): string => {
        const values = of(mode)
        const ratio = (Math.min(...values) / Math.min(...native)).toFixed(2)
        return `${Math.min(...values).toFixed(1)} / ${median(values).toFixed(1)} (${ratio}×)`
      }
      console.log(
        `${framework} | ${route} | ${Math.min(...native).toFixed(1)} / ${median(native).toFixed(1)} | ${cell('compat')} | ${cell('compat + passport')}`,
      )
    }
  }
} finally {
  await client.quit()
  await redis.stop()
}
