/**
 * The demo app (`npm start`) over real HTTP, for what GitLab builds on its sessions: a sign-in form that stores no
 * session, an anonymous flood stopped at the per-address cap, the "new sign-in" notice, and admin mode from a
 * re-entered password to its `elevated: true` in the API. On the memory store and on a Redis Cluster.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Cluster } from 'ioredis'
import { createSessionkit, MemoryStore, RedisStore, type Sessionkit, type SessionStore } from 'sessionkit'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createDemoApp, demoSessionkitOptions } from '../../demo/app.js'
import { cookiePair } from '../helpers/http.js'
import { randomPrefix } from '../helpers/backends.js'

type StoreKind = 'memory' | 'ioredis cluster'

describe.each<StoreKind>(['memory', 'ioredis cluster'])('demo app features: %s', (kind) => {
  let server: Server
  let base: string
  let store: SessionStore & { countSessions(): Promise<number> }
  let close: () => Promise<void>
  let kit: Sessionkit
  const mails: string[] = []
  const cookieName = 'sid'

  beforeAll(async () => {
    if (kind === 'memory') {
      const memory = new MemoryStore()
      store = memory
      close = () => {
        memory.close()
        return Promise.resolve()
      }
    } else {
      const nodes = inject('clusterAddresses').map((a) => ({
        host: a.split(':')[0]!,
        port: Number(a.split(':')[1]),
      }))
      const client = new Cluster(nodes)
      client.on('error', () => undefined)
      store = new RedisStore({ client, prefix: randomPrefix() })
      close = () => {
        client.disconnect()
        return Promise.resolve()
      }
    }
    kit = createSessionkit({
      ...demoSessionkitOptions({ maxAnonymousSessionsPerIp: 5, log: (line) => mails.push(line) }),
      store,
      cookie: { secure: false },
      deviceParser: false,
    })
    server = createDemoApp(kit, store as never).listen(0, '127.0.0.1')
    await new Promise<void>((resolve) => server.once('listening', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await close()
  })

  /** GET /login: the login-CSRF cookie and the form's token. */
  async function loginForm(cookie?: string): Promise<{ cookie: string; token: string; page: string }> {
    const response = await fetch(`${base}/login`, { headers: cookie === undefined ? {} : { cookie } })
    const page = await response.text()
    return {
      cookie: cookiePair(response.headers.getSetCookie(), 'login_csrf') ?? cookie ?? '',
      token: /name="csrf_token" value="([^"]+)"/.exec(page)![1]!,
      page,
    }
  }

  function post(path: string, cookie: string, fields: Record<string, string>): Promise<Response> {
    return fetch(`${base}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    })
  }

  /** Signs in through the form; returns the cookies to send afterwards. */
  async function signIn(username: string, extraCookies: string[] = []): Promise<{ cookies: string[] }> {
    const form = await loginForm()
    const reply = await post('/login', [form.cookie, ...extraCookies].join('; '), {
      username,
      password: `${username}-password`,
      csrf_token: form.token,
    })
    expect(reply.status).toBe(303)
    const set = reply.headers.getSetCookie()
    const cookies = [cookiePair(set, cookieName)!]
    const known = cookiePair(set, `${cookieName}_known`)
    cookies.push(known ?? extraCookies.find((c) => c.startsWith(`${cookieName}_known=`)) ?? '')
    return { cookies: cookies.filter((c) => c !== '') }
  }

  it('GET /login stores no session, however many times', async () => {
    const before = await store.countSessions()
    const pages = await Promise.all(Array.from({ length: 40 }, () => fetch(`${base}/login`)))
    for (const page of pages) {
      expect(page.status).toBe(200)
      expect(cookiePair(page.headers.getSetCookie(), cookieName)).toBeUndefined()
      await page.text()
    }
    expect(await store.countSessions()).toBe(before)
  })

  it('refuses a sign-in without the form’s cookie, or with another form’s token', async () => {
    const a = await loginForm()
    const b = await loginForm()
    const fields = { username: 'alice', password: 'alice-password' }
    expect((await post('/login', a.cookie, { ...fields, csrf_token: b.token })).status).toBe(403)
    expect((await post('/login', '', { ...fields, csrf_token: a.token })).status).toBe(403)
    expect((await post('/login', a.cookie, { ...fields, csrf_token: a.token })).status).toBe(303)
  })

  it('an anonymous flood is stopped at the per-address cap with a 429; a sign-in from the address clears it', async () => {
    const form = await loginForm()
    const attempt = (): Promise<Response> =>
      post('/login', form.cookie, { username: 'alice', password: 'wrong', csrf_token: form.token })
    // Each cookie-less failed attempt stores a new anonymous session (its failed count).
    const statuses: number[] = []
    for (let i = 0; i < 8; i++) statuses.push((await attempt()).status)
    // The earlier tests' sign-ins cleared the count of this address (127.0.0.1).
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429])
    const refused = await attempt()
    expect(await refused.text()).toContain('Too many requests')
    expect(cookiePair(refused.headers.getSetCookie(), cookieName)).toBeUndefined()

    await signIn('bob')
    expect((await attempt()).status).toBe(401)
  })

  it('prints and shows a "new sign-in" notice for an unknown device, once; a known device gets none', async () => {
    // No live session of theirs, so no session's IP makes this address known.
    await kit.revokeAllSessions('bob')
    await kit.revokeAllSessions('alice')
    const mailed = mails.length
    const first = await signIn('bob')
    expect(mails.slice(mailed)).toHaveLength(1)
    expect(mails.at(-1)).toMatch(
      /^sessionkit demo: mail to bob: New sign-in to your account from .* at 127\.0\.0\.1/,
    )
    const shown = await (await fetch(`${base}/`, { headers: { cookie: first.cookies.join('; ') } })).text()
    expect(shown).toContain('New sign-in to your account')
    const again = await (await fetch(`${base}/`, { headers: { cookie: first.cookies.join('; ') } })).text()
    expect(again).not.toContain('New sign-in to your account')

    // The same browser (its known-device cookie), with no session left: known, nothing mailed or shown.
    await kit.revokeAllSessions('bob')
    const known = await signIn(
      'bob',
      first.cookies.filter((c) => c.startsWith('sid_known=')),
    )
    expect(mails.slice(mailed)).toHaveLength(1)
    const quiet = await (await fetch(`${base}/`, { headers: { cookie: known.cookies.join('; ') } })).text()
    expect(quiet).not.toContain('New sign-in')

    // Bob's cookie means nothing for alice.
    await signIn(
      'alice',
      first.cookies.filter((c) => c.startsWith('sid_known=')),
    )
    expect(mails.slice(mailed)).toHaveLength(2)
    expect(mails.at(-1)).toContain('mail to alice')
  })

  it('admin mode: the admin view asks for the password again, then the API says elevated: true', async () => {
    const { cookies } = await signIn('admin')
    const cookie = cookies.join('; ')
    const view = await fetch(`${base}/admin/sessions`, { headers: { cookie }, redirect: 'manual' })
    expect(view.status).toBe(303)
    expect(view.headers.get('location')).toBe('/admin-mode')
    const form = await (await fetch(`${base}/admin-mode`, { headers: { cookie } })).text()
    const token = /name="csrf_token" value="([^"]+)"/.exec(form)![1]!
    expect((await post('/admin-mode', cookie, { csrf_token: token, password: 'nope' })).status).toBe(401)
    const entered = await post('/admin-mode', cookie, { csrf_token: token, password: 'admin-password' })
    expect(entered.status).toBe(303)
    expect(entered.headers.get('location')).toBe('/admin/sessions')
    // Entering admin mode rotated the token.
    const elevated = cookiePair(entered.headers.getSetCookie(), cookieName)!
    expect(elevated).not.toBe(cookies[0])
    const after = [elevated, ...cookies.slice(1)].join('; ')
    expect((await fetch(`${base}/admin/sessions`, { headers: { cookie: after } })).status).toBe(200)
    const api = (await (await fetch(`${base}/api/sessions`, { headers: { cookie: after } })).json()) as {
      sessions: { current: boolean; elevated: boolean }[]
    }
    expect(api.sessions.find((s) => s.current)?.elevated).toBe(true)
    const page = await (await fetch(`${base}/profile/active_sessions`, { headers: { cookie: after } })).text()
    expect(page).toContain('with admin mode')

    // alice is no admin: no admin mode for her.
    const alice = await signIn('alice')
    const refused = await fetch(`${base}/admin-mode`, {
      headers: { cookie: alice.cookies.join('; ') },
      redirect: 'manual',
    })
    expect(refused.status).toBe(303)
    expect(refused.headers.get('location')).toBe('/')
  })
})
