/**
 * The express-session API mode (Express 4 and 5) and the @fastify/session API mode (Fastify 5), on real HTTP
 * servers and real Redis (a single node over node-redis, a 3-master Cluster over ioredis): the libraries' session
 * APIs, passport-style sign-in and sign-out driven by `userId(data)`, and the native guarantees (per-key deltas,
 * no resurrection) kept underneath.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionkit, type Sessionkit } from 'sessionkit'
import { openBackend, type Backend, type BackendName } from '../helpers/backends.js'
import { call, cookiePair, type Reply } from '../helpers/http.js'
import { COMPAT_FRAMEWORKS, startCompatApp, type CompatApp } from './compat-apps.js'

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const PUBLIC_ID = /^[0-9a-f]{3}\.[A-Za-z0-9_-]{27}$/
const BACKENDS: readonly BackendName[] = ['node-redis single', 'ioredis cluster']

describe.each(COMPAT_FRAMEWORKS.flatMap((f) => BACKENDS.map((b) => [f, b] as const)))(
  '%s on %s',
  (framework, backendName) => {
    let backend: Backend
    let kit: Sessionkit
    let app: CompatApp

    beforeAll(async () => {
      backend = await openBackend(backendName)
      kit = createSessionkit({ store: backend.store, cookie: { secure: false } })
      app = await startCompatApp(framework, kit)
    })

    afterAll(async () => {
      await app.close()
      await backend.close()
    })

    async function send(method: 'GET' | 'POST', path: string, cookie?: string): Promise<Reply> {
      return call(app.url, method, path, { cookie, headers: { 'user-agent': CHROME } })
    }

    /** The cookie a reply set (`sid=...`), or `undefined`; `'cleared'` when it deleted it. */
    function setCookie(reply: Reply): string | undefined {
      const raw = reply.setCookies.find((c) => c.startsWith('sid='))
      if (raw === undefined) return undefined
      return /Max-Age=0/i.test(raw) ? 'cleared' : cookiePair(reply.setCookies, 'sid')
    }

    async function newSession(key = 'k', value = 'v'): Promise<string> {
      const reply = await send('POST', `/set?key=${key}&value=${value}`)
      expect(reply.status).toBe(200)
      const cookie = setCookie(reply)
      expect(cookie).toMatch(/^sid=/)
      return cookie!
    }

    async function login(
      user: string,
      cookie?: string,
      remember = false,
    ): Promise<{ cookie: string; reply: Reply }> {
      const reply = await send('POST', `/login?user=${user}${remember ? '&remember=1' : ''}`, cookie)
      expect(reply.status).toBe(200)
      const next = setCookie(reply)
      expect(next).toMatch(/^sid=/)
      return { cookie: next!, reply }
    }

    async function read(cookie: string | undefined, key = 'k'): Promise<Record<string, unknown>> {
      const reply = await send('GET', `/read?key=${key}`, cookie)
      expect(reply.status).toBe(200)
      return reply.body as Record<string, unknown>
    }

    const uniqueUser = (): string => `u${Math.random().toString(36).slice(2, 10)}`

    describe('the session API', () => {
      it('persists property assignments and deletions', async () => {
        const cookie = await newSession('views', '1')
        expect((await read(cookie, 'views')).value).toBe('1')
        expect((await send('POST', '/delete?key=views', cookie)).status).toBe(200)
        expect((await read(cookie, 'views')).value).toBeNull()
      })

      it('saves a change made inside a nested object (cart.items.push)', async () => {
        const first = await send('POST', '/push?item=a')
        const cookie = setCookie(first)!
        await send('POST', '/push?item=b', cookie)
        expect((await read(cookie, 'cart')).value).toEqual({ items: ['a', 'b'] })
      })

      it('gives the public id (the one listSessions shows) as the session id, never the token', async () => {
        const { cookie } = await login(uniqueUser())
        const seen = await read(cookie)
        expect(seen.id).toMatch(PUBLIC_ID)
        expect(seen.requestSessionId).toBe(seen.id)
        expect(seen.nativeId).toBe(seen.id)
        const token = cookie.slice('sid='.length)
        expect(token).not.toBe(seen.id)
        const listed = await kit.listSessions(seen.user as string)
        expect(listed.map((s) => s.id)).toEqual([seen.id])
      })

      it('has no id before the first save, as sessionkit stores nothing for an empty visitor', async () => {
        const reply = await send('POST', '/set?key=k&value=v')
        expect((reply.body as { id: unknown }).id).toBeNull()
        expect((await read(setCookie(reply))).id).toMatch(PUBLIC_ID)
      })

      it('save() stores the change before the response, for a request made from inside the route', async () => {
        const cookie = await newSession()
        const reply = await send('POST', '/save-then-read?key=saved', cookie)
        expect(reply.body).toEqual({ seen: 'yes' })
      })

      it("reload() drops unsaved changes and shows other requests' writes", async () => {
        const cookie = await newSession()
        const reply = await send('POST', '/reload', cookie)
        expect(reply.body).toEqual({ tmp: null, other: 'fresh' })
        expect((await read(cookie, 'tmp')).value).toBeNull()
        expect((await read(cookie, 'other')).value).toBe('fresh')
      })

      it('touch() (and resetMaxAge()) change nothing and set no cookie', async () => {
        const cookie = await newSession()
        const reply = await send('GET', '/touch', cookie)
        expect(reply.status).toBe(200)
        expect(reply.setCookies).toEqual([])
        expect((await read(cookie)).value).toBe('v')
      })

      it('stores values as express-session did, through JSON: a Date comes back as its ISO string', async () => {
        const cookie = await newSession()
        await send('POST', '/date', cookie)
        expect((await read(cookie, 'when')).value).toBe('1970-01-01T00:00:00.000Z')
      })

      it('fails the request with InvalidSessionValueError for a value JSON cannot carry, storing nothing', async () => {
        const cookie = await newSession()
        const reply = await send('POST', '/bigint', cookie)
        expect(reply.status).toBe(500)
        expect((reply.body as { code: string }).code).toBe('SESSIONKIT_INVALID_VALUE')
        expect((await read(cookie, 'big')).value).toBeNull()
        expect((await read(cookie)).value).toBe('v')
      })

      it('enumerates and serialises every key, also those the request never read', async () => {
        const cookie = await newSession('a', '1')
        await send('POST', '/set?key=b&value=2', cookie)
        const reply = await send('GET', '/enumerate', cookie)
        expect(reply.body).toMatchObject({ keys: ['a', 'b'], json: { a: '1', b: '2' } })
        expect((reply.body as { inspected: string }).inspected).toMatch(/a: '1'[\s\S]*b: '2'/)
      })

      it('keeps the native session at req.sessionkit, as currentSession(), and saves its changes', async () => {
        const cookie = await newSession()
        const current = await send('GET', '/current', cookie)
        expect(current.body).toMatchObject({ same: true, id: expect.stringMatching(PUBLIC_ID) as unknown })
        await send('POST', '/native-set?key=n&value=native', cookie)
        expect((await read(cookie, 'n')).value).toBe('native')
      })
    })

    describe('sign-in and sign-out from userId(data)', () => {
      it('a passport-style login (regenerate, set the user, save) signs in: new token, device recorded, listed', async () => {
        const user = uniqueUser()
        const anonymous = await newSession('k', 'before-login')
        const { cookie, reply } = await login(user, anonymous)
        expect(reply.body).toMatchObject({ user, id: expect.stringMatching(PUBLIC_ID) as unknown })
        expect(cookie).not.toBe(anonymous)
        const [listed] = await kit.listSessions(user)
        expect(listed).toMatchObject({
          id: (reply.body as { id: string }).id,
          browser: 'Chrome',
          os: 'Windows',
        })
        // regenerate() dropped the old session: its cookie names nothing, and its data was not carried.
        expect(await read(anonymous)).toMatchObject({ value: null, user: null })
        expect(await read(cookie)).toMatchObject({ value: null, user })
      })

      it('a passport-style logout (clear the user, save, regenerate) leaves the index and kills the cookie', async () => {
        const user = uniqueUser()
        const { cookie } = await login(user)
        const reply = await send('POST', '/logout', cookie)
        expect(reply.status).toBe(200)
        expect(setCookie(reply)).toBe('cleared')
        expect(await kit.listSessions(user)).toEqual([])
        expect(await read(cookie)).toMatchObject({ user: null })
      })

      it('clearing the user without regenerate keeps the other data in a new anonymous session', async () => {
        const user = uniqueUser()
        const { cookie } = await login(user)
        await send('POST', '/set?key=theme&value=dark', cookie)
        const reply = await send('POST', '/delete?key=passport', cookie)
        const anonymous = setCookie(reply)
        expect(anonymous).toMatch(/^sid=/)
        expect(await kit.listSessions(user)).toEqual([])
        expect(await read(cookie, 'theme')).toMatchObject({ value: null, user: null })
        expect(await read(anonymous, 'theme')).toMatchObject({ value: 'dark', user: null })
      })

      it('regenerate() alone drops the old session (an empty new one is not stored)', async () => {
        const cookie = await newSession()
        const reply = await send('POST', '/regenerate', cookie)
        expect(reply.body).toEqual({ keys: [] })
        expect(setCookie(reply)).toBe('cleared')
        expect(await read(cookie)).toMatchObject({ value: null, id: null })
      })

      it('regenerate() keeping some fields: a new token, only those fields carried', async () => {
        const cookie = await newSession('a', '1')
        await send('POST', '/set?key=b&value=2', cookie)
        const reply = await send('POST', '/regenerate-keep?keep=a', cookie)
        expect(reply.body).toEqual({ keys: ['a'] })
        const next = setCookie(reply)
        expect(next).toMatch(/^sid=/)
        expect(next).not.toBe(cookie)
        expect((await read(next, 'a')).value).toBe('1')
        expect((await read(next, 'b')).value).toBeNull()
        expect(await read(cookie, 'a')).toMatchObject({ value: null, id: null })
      })

      it('destroy() signs out: the session is gone, the cookie cleared and the request has no session', async () => {
        const user = uniqueUser()
        const { cookie } = await login(user)
        const reply = await send('POST', '/destroy', cookie)
        expect(reply.body).toEqual({ exists: false })
        expect(setCookie(reply)).toBe('cleared')
        expect(await kit.listSessions(user)).toEqual([])
        expect(await read(cookie)).toMatchObject({ user: null })
      })

      it('cookie.maxAge set at login makes the cookie persistent (rememberMe)', async () => {
        const user = uniqueUser()
        const { cookie, reply } = await login(user, undefined, true)
        expect(reply.setCookies.find((c) => c.startsWith('sid='))).toMatch(/Max-Age=[1-9]/)
        const [listed] = await kit.listSessions(user)
        expect(listed?.rememberMe).toBe(true)
        const seen = await send('GET', '/cookie', cookie)
        expect((seen.body as { maxAge: number }).maxAge).toBeGreaterThan(0)
      })

      it('cookie.maxAge set on a signed-in session makes its cookie persistent, once', async () => {
        const user = uniqueUser()
        const { cookie } = await login(user)
        expect((await send('GET', '/cookie', cookie)).body).toEqual({ maxAge: null })
        const reply = await send('POST', '/remember', cookie)
        const remembered = setCookie(reply)!
        expect(reply.setCookies.find((c) => c.startsWith('sid='))).toMatch(/Max-Age=[1-9]/)
        const listed = await kit.listSessions(user)
        expect(listed).toHaveLength(1)
        expect(listed[0]?.rememberMe).toBe(true)
        // Asking again for what the session already is changes nothing.
        const again = await send('POST', '/remember', remembered)
        expect(again.setCookies).toEqual([])
      })

      it('the Active Sessions API works on the native session', async () => {
        const user = uniqueUser()
        const { cookie } = await login(user)
        const reply = await call(app.url, 'GET', '/api/sessions', { cookie })
        expect(reply.status).toBe(200)
        const sessions = (reply.body as { sessions: { current: boolean; browser: string }[] }).sessions
        expect(sessions).toHaveLength(1)
        expect(sessions[0]).toMatchObject({ current: true, browser: 'Chrome' })
      })
    })

    describe('the native guarantees underneath', () => {
      it('keeps both of two concurrent writes to different keys (per-key deltas)', async () => {
        const cookie = await newSession()
        const [a, b] = await Promise.all([
          send('POST', '/set?key=a&value=1&delay=80', cookie),
          send('POST', '/set?key=b&value=2&delay=80', cookie),
        ])
        expect([a.status, b.status]).toEqual([200, 200])
        expect((await read(cookie, 'a')).value).toBe('1')
        expect((await read(cookie, 'b')).value).toBe('2')
      })

      it('keeps both of two concurrent nested changes to different keys', async () => {
        const cookie = await newSession()
        await send('POST', '/push?item=first', cookie)
        const [cart, other] = await Promise.all([
          send('POST', '/push?item=second&delay=80', cookie),
          send('POST', '/set?key=other&value=x&delay=40', cookie),
        ])
        expect([cart.status, other.status]).toEqual([200, 200])
        expect((await read(cookie, 'cart')).value).toEqual({ items: ['first', 'second'] })
        expect((await read(cookie, 'other')).value).toBe('x')
      })

      it('a save racing a sign-out never re-creates the session', async () => {
        const user = uniqueUser()
        const { cookie } = await login(user)
        const slow = send('POST', '/set?key=late&value=1&delay=150', cookie)
        await new Promise((resolve) => setTimeout(resolve, 30))
        const out = await send('POST', '/destroy', cookie)
        expect(out.status).toBe(200)
        expect((await slow).status).toBe(200)
        expect(await read(cookie, 'late')).toMatchObject({ value: null, user: null })
        expect(await kit.listSessions(user)).toEqual([])
      })
    })
  },
)

describe('without a userId option', () => {
  let backend: Backend
  let kit: Sessionkit
  const apps: CompatApp[] = []

  beforeAll(async () => {
    backend = await openBackend('node-redis single')
    kit = createSessionkit({ store: backend.store, cookie: { secure: false } })
  })

  afterAll(async () => {
    for (const app of apps) await app.close()
    await backend.close()
  })

  it.each(COMPAT_FRAMEWORKS)(
    '%s: leaves sign-in to req.sessionkit.signIn(), and later saves do not undo it',
    async (framework) => {
      const app = await startCompatApp(framework, kit, { userId: null })
      apps.push(app)
      const user = `n${Math.random().toString(36).slice(2, 10)}`
      const signIn = await call(app.url, 'POST', `/native-signin?user=${user}`)
      const cookie = cookiePair(signIn.setCookies, 'sid')!
      expect(signIn.body).toEqual({ user })
      const write = await call(app.url, 'POST', '/set?key=k&value=v', { cookie })
      expect(write.status).toBe(200)
      const seen = await call(app.url, 'GET', '/read?key=k', { cookie })
      expect(seen.body).toMatchObject({ value: 'v', user })
      expect(await kit.listSessions(user)).toHaveLength(1)
    },
  )

  it.each(COMPAT_FRAMEWORKS)(
    '%s: a userId that returns no user id fails the save loudly',
    async (framework) => {
      const app = await startCompatApp(framework, kit, { userId: () => ({ not: 'an id' }) })
      apps.push(app)
      const reply = await call(app.url, 'POST', '/set?key=k&value=v')
      expect(reply.status).toBe(500)
      expect((reply.body as { code: string }).code).toBe('SESSIONKIT_INVALID_USER_ID')
    },
  )
})
