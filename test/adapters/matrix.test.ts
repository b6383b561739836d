/**
 * One integration suite, three frameworks (Express 4, Express 5, Fastify 5), each on a real HTTP server and a
 * real, private redis-server that the suite kills and restarts.
 */
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionkit, RedisStore, type Sessionkit, type SessionStore } from 'sessionkit'
import { startRedis, type RedisProcess } from '../helpers/redis-server.js'
import { instrumentStore } from '../helpers/backends.js'
import { call, cookiePair, postSlowJson } from '../helpers/http.js'
import { FRAMEWORKS, startApp, type RunningApp } from './apps.js'

/** Wraps the real store (changing nothing) and counts the calls that reach it. */
function counting(store: SessionStore): { store: SessionStore; calls: () => number } {
  const instrumented = instrumentStore(store)
  return { store: instrumented.store, calls: () => instrumented.calls.length }
}

describe.each(FRAMEWORKS)('%s', (framework) => {
  let redis: RedisProcess
  let client: ReturnType<typeof createClient>
  let kit: Sessionkit
  let app: RunningApp
  let storeCalls: () => number

  beforeAll(async () => {
    redis = await startRedis()
    client = createClient({ url: redis.url, socket: { reconnectStrategy: () => 100 } })
    client.on('error', () => undefined)
    await client.connect()
    const counted = counting(new RedisStore({ client, prefix: `m${framework}:`, timeoutMs: 500 }))
    storeCalls = counted.calls
    kit = createSessionkit({ store: counted.store, cookie: { secure: false } })
    app = await startApp(framework, kit)
  })

  afterAll(async () => {
    await app.close()
    client.destroy()
    await redis.stop()
  })

  async function newSession(value = 'v'): Promise<string> {
    const reply = await call(app.url, 'POST', `/write?key=k&value=${value}`)
    const cookie = cookiePair(reply.setCookies, 'sid')
    expect(cookie).toBeDefined()
    return cookie!
  }

  async function signIn(user: string, cookie?: string): Promise<string> {
    const reply = await call(app.url, 'POST', `/signin?user=${user}`, { cookie })
    expect(reply.status).toBe(200)
    return cookiePair(reply.setCookies, 'sid')!
  }

  describe('lazy and quiet', () => {
    it('makes no store call and sends no cookie for a visitor without a cookie who stores nothing', async () => {
      const before = storeCalls()
      const untouched = await call(app.url, 'GET', '/untouched')
      const read = await call(app.url, 'GET', '/read')
      expect(untouched.status).toBe(200)
      expect(read.body).toEqual({ value: null, user: null, id: null })
      expect(untouched.setCookies).toEqual([])
      expect(read.setCookies).toEqual([])
      expect(storeCalls() - before).toBe(0)
    })

    it('validates a cookie with exactly one store call and sends no Set-Cookie when nothing changed', async () => {
      const cookie = await newSession()
      const before = storeCalls()
      const reply = await call(app.url, 'GET', '/untouched', { cookie })
      expect(reply.setCookies).toEqual([])
      expect(storeCalls() - before).toBe(1)
      const read = await call(app.url, 'GET', '/read', { cookie })
      expect(read.body).toMatchObject({ value: 'v' })
      expect(read.setCookies).toEqual([])
    })

    it('creates a session only when something is stored, with secure-by-default cookie attributes', async () => {
      const reply = await call(app.url, 'POST', '/write?key=k&value=first')
      const setCookie = reply.setCookies.find((c) => c.startsWith('sid='))!
      expect(setCookie).toMatch(/; HttpOnly/)
      expect(setCookie).toMatch(/; SameSite=Lax/)
      expect(setCookie).toMatch(/; Path=\//)
      expect(setCookie).not.toMatch(/Max-Age|Expires/)
      expect(reply.headers.get('cache-control')).toBe('no-store')
    })

    it('saves a changed session before the response reaches the client (read-your-writes)', async () => {
      const cookie = await newSession()
      await call(app.url, 'POST', '/write?key=k&value=second', { cookie })
      const read = await call(app.url, 'GET', '/read', { cookie })
      expect(read.body).toMatchObject({ value: 'second' })
    })
  })

  describe('sign-in and sign-out', () => {
    it('rotates the token at sign-in: the old token is dead at once, the data is carried over', async () => {
      const anonymous = await newSession('carried')
      const signedIn = await signIn('alice', anonymous)
      expect(signedIn).not.toBe(anonymous)
      const withNew = await call(app.url, 'GET', '/read', { cookie: signedIn })
      expect(withNew.body).toMatchObject({ value: 'carried', user: 'alice' })
      const withOld = await call(app.url, 'GET', '/read', { cookie: anonymous })
      expect(withOld.body).toEqual({ value: null, user: null, id: null })
    })

    it('sends a persistent cookie only for "remember me", lasting until the absolute deadline', async () => {
      const plain = await call(app.url, 'POST', '/signin?user=dave')
      expect(plain.setCookies.find((c) => c.startsWith('sid='))).not.toMatch(/Max-Age/)
      const remembered = await call(app.url, 'POST', '/signin?user=dave&remember=1')
      const maxAge = Number(
        /Max-Age=(\d+)/.exec(remembered.setCookies.find((c) => c.startsWith('sid=')) ?? '')?.[1],
      )
      // 30 days (the default absolute timeout), give or take the request's own duration.
      expect(maxAge).toBeGreaterThan(30 * 24 * 3600 - 60)
      expect(maxAge).toBeLessThanOrEqual(30 * 24 * 3600)
    })

    it('destroys the session at sign-out and clears the cookie', async () => {
      const cookie = await signIn('bob')
      const out = await call(app.url, 'POST', '/signout', { cookie })
      expect(out.status).toBe(200)
      expect(out.setCookies.find((c) => c.startsWith('sid='))).toMatch(/Max-Age=0/)
      const after = await call(app.url, 'GET', '/read', { cookie })
      expect(after.body).toEqual({ value: null, user: null, id: null })
    })

    it("lists the user's sessions with this one marked current", async () => {
      const first = await signIn('carol')
      const second = await signIn('carol')
      const reply = await call(app.url, 'GET', '/sessions', { cookie: second })
      const sessions = (reply.body as { sessions: { current: boolean }[] }).sessions
      expect(sessions).toHaveLength(2)
      expect(sessions.filter((s) => s.current)).toHaveLength(1)
      expect(first).not.toBe(second)
    })
  })

  describe('the current session outside handlers', () => {
    it('reaches the session from a function without req, after several awaits and timers', async () => {
      const cookie = await newSession('deep')
      const reply = await call(app.url, 'GET', '/current', { cookie })
      expect(reply.body).toEqual({ sameSession: true, value: 'deep' })
    })

    it('survives body parsing, also when the body arrives after the headers', async () => {
      const cookie = await newSession()
      const fast = await call(app.url, 'POST', '/current-after-body', { cookie, json: { hello: 'world' } })
      expect(fast.body).toEqual({ sameSession: true, body: { hello: 'world' } })
      const slow = await postSlowJson(app.url, '/current-after-body', cookie, { hello: 'slowly' })
      expect(slow.body).toEqual({ sameSession: true, body: { hello: 'slowly' } })
      const naive = await postSlowJson(
        app.url,
        '/current-after-body',
        cookie,
        { hello: 'naive' },
        'application/x-naive',
      )
      expect(naive.body).toEqual({ sameSession: true, body: { hello: 'naive' } })
    })

    it('withSession nests and restores the previous session, also when fn throws', async () => {
      const reply = await call(app.url, 'GET', '/with-session')
      expect(reply.body).toEqual({ inner: 'inner', threw: true, restored: true })
    })
  })

  describe('namespaced storage', () => {
    it('reading never creates the namespace; writing does; toObject gives a plain object', async () => {
      const cookie = await newSession()
      const before = await call(app.url, 'GET', '/ns-read?ns=wizard&key=step', { cookie })
      expect(before.body).toEqual({ value: null, all: {}, createdByRead: false })
      await call(app.url, 'POST', '/ns-write?ns=wizard&key=step&value=2', { cookie })
      const after = await call(app.url, 'GET', '/ns-read?ns=wizard&key=step', { cookie })
      expect(after.body).toEqual({ value: '2', all: { step: '2' }, createdByRead: false })
    })

    it('keeps both of two concurrent writes to different keys of one namespace', async () => {
      const cookie = await newSession()
      await Promise.all([
        call(app.url, 'POST', '/ns-write?ns=cart&key=a&value=1&delay=30', { cookie }),
        call(app.url, 'POST', '/ns-write?ns=cart&key=b&value=2&delay=5', { cookie }),
      ])
      const reply = await call(app.url, 'GET', '/ns-read?ns=cart&key=a', { cookie })
      expect(reply.body).toMatchObject({ all: { a: '1', b: '2' } })
    })

    it('keeps all of 50 concurrent writes to distinct top-level keys', async () => {
      const cookie = await newSession()
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          call(app.url, 'POST', `/write?key=key${i}&value=${i}&delay=${i % 7}`, { cookie }),
        ),
      )
      const values = await Promise.all(
        [0, 17, 49].map(async (i) => {
          const s = await kit.openSession({
            cookieHeader: cookie,
            userAgent: undefined,
            ipAddress: undefined,
            headersSent: () => false,
            setCookie: () => undefined,
          })
          return s.get(`key${i}`)
        }),
      )
      expect(values).toEqual(['0', '17', '49'])
    })
  })

  describe('store failure is not sign-out', () => {
    it('answers 503 through the error path while Redis is down, keeps the cookie, and recovers', async () => {
      const cookie = await newSession('survivor')
      const port = redis.port
      await redis.stop()
      const errorsBefore = app.errors.length

      const down = await call(app.url, 'GET', '/read', { cookie })
      expect(down.status).toBe(503)
      expect(down.setCookies).toEqual([])
      expect(app.errors.length).toBeGreaterThan(errorsBefore)
      // A visitor without a cookie who stores nothing needs no store: still served.
      expect((await call(app.url, 'GET', '/untouched')).status).toBe(200)
      // A write that needs the store fails the same way, without a cookie.
      const write = await call(app.url, 'POST', '/write?key=k&value=x')
      expect(write.status).toBe(503)
      expect(write.setCookies).toEqual([])

      redis = await startRedis([], port)
      // node-redis reconnects on its own; sessionkit needs no restart.
      let recovered = 0
      for (let i = 0; i < 100 && recovered !== 200; i++) {
        recovered = (await call(app.url, 'POST', '/write?key=k&value=back')).status
        if (recovered !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(recovered).toBe(200)
    })

    it('answers 503 within the deadline while Redis is frozen, and serves again once it thaws', async () => {
      const cookie = await newSession('frozen')
      redis.child.kill('SIGSTOP')
      try {
        const frozen = await call(app.url, 'GET', '/read', { cookie })
        expect(frozen.status).toBe(503)
        expect(frozen.setCookies).toEqual([])
      } finally {
        redis.child.kill('SIGCONT')
      }
      let reply = await call(app.url, 'GET', '/read', { cookie })
      for (let i = 0; i < 50 && reply.status !== 200; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100))
        reply = await call(app.url, 'GET', '/read', { cookie })
      }
      expect(reply.body).toMatchObject({ value: 'frozen' })
    })

    it('answers 503 when a write fails mid-request, without crashing the process', async () => {
      const cookie = await newSession('before')
      const port = redis.port
      const slow = call(app.url, 'POST', '/write?key=k&value=lost&delay=300', { cookie })
      await new Promise((resolve) => setTimeout(resolve, 100))
      await redis.stop()
      const reply = await slow
      expect(reply.status).toBe(503)
      expect(reply.setCookies).toEqual([])
      redis = await startRedis([], port)
      let status = 0
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = (await call(app.url, 'GET', '/read', { cookie })).status
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(status).toBe(200)
    })
  })
})
