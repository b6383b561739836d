/**
 * The Active Sessions JSON API, page and admin view over HTTP, mounted on Express 5 (memory store) and on
 * Fastify 5 (a real Redis), each on a real server on a free port.
 */
import { createClient } from '@redis/client'
import {
  createDeviceParser,
  createSessionkit,
  MemoryStore,
  RedisStore,
  type DeviceParser,
  type SessionStore,
  type Sessionkit,
} from 'sessionkit'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { call, cookiePair } from '../helpers/http.js'
import { startUi, UI_FRAMEWORKS, type RunningUi } from './apps.js'

const DESKTOP_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
const XSS = '<img src=x onerror=alert(1)>'

/** The real parser, except that a User-Agent starting with `<` is reported verbatim as browser, OS and device. */
function hostileParser(): DeviceParser {
  const real = createDeviceParser()
  return (ua) =>
    ua.startsWith('<') ? { browser: ua, os: `${ua}"'`, deviceType: 'smartphone', deviceName: ua } : real(ua)
}

interface ApiSession {
  id: string
  current: boolean
  browser: string
  os: string
  deviceType: string
  deviceName: string
  ipAddress: string
  signedInAt: string
  lastSeenAt: string
  elevated: boolean
}

describe.each(UI_FRAMEWORKS)('%s: Active Sessions API and page', (framework) => {
  let kit: Sessionkit
  let app: RunningUi
  let closeStore: () => Promise<void>

  beforeAll(async () => {
    let store: SessionStore
    if (framework === 'fastify') {
      const client = createClient({ url: inject('redisUrl') })
      await client.connect()
      store = new RedisStore({ client, prefix: `ui${Date.now()}:` })
      closeStore = async () => {
        await client.close()
      }
    } else {
      const memory = new MemoryStore()
      store = memory
      closeStore = () => {
        memory.close()
        return Promise.resolve()
      }
    }
    kit = createSessionkit({ store, cookie: { secure: false }, deviceParser: hostileParser() })
    app = await startUi(framework, kit, { loginPath: '/login' })
  })

  afterAll(async () => {
    await app.close()
    await closeStore()
  })

  const cookieName = () => kit.cookieName

  async function signIn(user: string, ua: string, impersonator?: string): Promise<string> {
    const query = `user=${encodeURIComponent(user)}${impersonator === undefined ? '' : `&impersonator=${impersonator}`}`
    const reply = await call(app.url, 'POST', `/test/login?${query}`, { headers: { 'user-agent': ua } })
    expect(reply.status).toBe(204)
    const pair = cookiePair(reply.setCookies, cookieName())
    expect(pair).toBeDefined()
    return pair!
  }

  async function list(cookie: string): Promise<ApiSession[]> {
    const reply = await call(app.url, 'GET', '/api/sessions', { cookie })
    expect(reply.status).toBe(200)
    return (reply.body as { sessions: ApiSession[] }).sessions
  }

  /** A form POST as a browser sends it (same-origin Origin header unless told otherwise). */
  async function postForm(
    path: string,
    cookie: string,
    fields: Record<string, string>,
    origin = app.url,
    extra: Record<string, string> = {},
  ) {
    const response = await fetch(app.url + path, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin, ...extra },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    })
    return {
      status: response.status,
      location: response.headers.get('location'),
      text: await response.text(),
    }
  }

  async function csrfFrom(path: string, cookie: string): Promise<string> {
    const reply = await call(app.url, 'GET', path, { cookie })
    expect(reply.status).toBe(200)
    const token = /name="csrf_token" value="([^"]+)"/.exec(reply.text)?.[1]
    expect(token).toMatch(/^[\w-]{40,}$/)
    return token!
  }

  it('answers 401 (API) and redirects to the sign-in page (pages) when nobody is signed in', async () => {
    const api = await call(app.url, 'GET', '/api/sessions')
    expect(api.status).toBe(401)
    expect(api.headers.get('cache-control')).toBe('no-store')
    expect(api.body).toMatchObject({ error: 'unauthorized' })
    const del = await call(app.url, 'DELETE', '/api/sessions?scope=others')
    expect(del.status).toBe(401)
    const page = await call(app.url, 'GET', '/profile/active_sessions')
    expect(page.status).toBe(303)
    expect(page.headers.get('location')).toBe('/login')
    const admin = await call(app.url, 'GET', '/admin/sessions')
    expect(admin.status).toBe(303)
  })

  it('lists the user’s sessions newest first, with exactly the documented fields and ISO times', async () => {
    const desktop = await signIn('list-user', DESKTOP_UA)
    // Sign-in times have millisecond resolution: make sure the two differ, so "newest first" is defined.
    await new Promise((resolve) => setTimeout(resolve, 5))
    const phone = await signIn('list-user', IPHONE_UA)
    const sessions = await list(phone)
    expect(sessions).toHaveLength(2)
    for (const s of sessions) {
      expect(Object.keys(s).sort()).toEqual(
        [
          'browser',
          'current',
          'deviceName',
          'deviceType',
          'elevated',
          'id',
          'ipAddress',
          'lastSeenAt',
          'os',
          'signedInAt',
        ].sort(),
      )
      expect(new Date(s.signedInAt).toISOString()).toBe(s.signedInAt)
      expect(new Date(s.lastSeenAt).toISOString()).toBe(s.lastSeenAt)
      expect(s.id).toMatch(/^[0-9a-f]{3}\.[A-Za-z0-9_-]{27}$/)
      expect(s.elevated).toBe(false)
    }
    expect(sessions[0]).toMatchObject({
      current: true,
      browser: 'Mobile Safari',
      os: 'iOS',
      deviceType: 'smartphone',
    })
    expect(sessions[1]).toMatchObject({
      current: false,
      browser: 'Chrome',
      os: 'Windows',
      deviceType: 'desktop',
    })
    expect(sessions[0]!.ipAddress).toBe('127.0.0.1')
    // The other device sees the same two, itself marked current.
    const fromDesktop = await list(desktop)
    expect(fromDesktop.map((s) => [s.id, s.current])).toEqual([
      [sessions[0]!.id, false],
      [sessions[1]!.id, true],
    ])
  })

  it('revokes one of the user’s sessions with 204; the revoked device is signed out', async () => {
    const desktop = await signIn('revoke-user', DESKTOP_UA)
    const phone = await signIn('revoke-user', IPHONE_UA)
    const other = (await list(desktop)).find((s) => !s.current)!
    const reply = await call(app.url, 'DELETE', `/api/sessions/${other.id}`, {
      cookie: desktop,
      headers: { origin: app.url },
    })
    expect(reply.status).toBe(204)
    expect(reply.text).toBe('')
    expect(reply.headers.get('cache-control')).toBe('no-store')
    expect((await call(app.url, 'GET', '/api/sessions', { cookie: phone })).status).toBe(401)
    expect((await list(desktop)).map((s) => s.current)).toEqual([true])
    // Again: it is gone.
    const again = await call(app.url, 'DELETE', `/api/sessions/${other.id}`, { cookie: desktop })
    expect(again.status).toBe(404)
  })

  it('answers 404 for another user’s session id and never touches it', async () => {
    const mallory = await signIn('mallory', DESKTOP_UA)
    const victim = await signIn('victim', IPHONE_UA)
    const victimId = (await list(victim))[0]!.id
    for (const id of [victimId, 'garbage', `${victimId.split('.')[0]!}.${'0'.repeat(27)}`]) {
      const reply = await call(app.url, 'DELETE', `/api/sessions/${encodeURIComponent(id)}`, {
        cookie: mallory,
      })
      expect(reply.status).toBe(404)
    }
    expect((await list(victim)).map((s) => s.id)).toEqual([victimId])
    // Nor through the form.
    // Nor through the pages: mallory has no other sessions, and the victim's is not hers to confirm.
    const others = await call(app.url, 'GET', '/profile/active_sessions/revoke-others', { cookie: mallory })
    expect(others.status).toBe(303)
    expect(others.headers.get('location')).toBe('/profile/active_sessions')
    const confirm = await call(app.url, 'GET', `/profile/active_sessions/${victimId}/revoke`, {
      cookie: mallory,
    })
    expect(confirm.status).toBe(404)
  })

  it('refuses state-changing API requests from another origin with 403', async () => {
    const desktop = await signIn('origin-user', DESKTOP_UA)
    const phone = await signIn('origin-user', IPHONE_UA)
    const phoneId = (await list(phone)).find((s) => s.current)!.id
    const evil = await call(app.url, 'DELETE', `/api/sessions/${phoneId}`, {
      cookie: desktop,
      headers: { origin: 'https://evil.example' },
    })
    expect(evil.status).toBe(403)
    const nullOrigin = await call(app.url, 'DELETE', '/api/sessions?scope=others', {
      cookie: desktop,
      headers: { origin: 'null' },
    })
    expect(nullOrigin.status).toBe(403)
    const crossSite = await call(app.url, 'DELETE', '/api/sessions?scope=others', {
      cookie: desktop,
      headers: { 'sec-fetch-site': 'cross-site' },
    })
    expect(crossSite.status).toBe(403)
    expect(await list(phone)).toHaveLength(2)
  })

  it('revokes all other sessions with { revoked: N }, sparing the current and impersonated ones', async () => {
    const a = await signIn('others-user', DESKTOP_UA)
    await signIn('others-user', IPHONE_UA)
    await signIn('others-user', DESKTOP_UA)
    const impersonation = await signIn('others-user', DESKTOP_UA, 'admin')
    // The impersonated session is hidden from the user, and cannot be revoked by id through the API either.
    expect(await list(a)).toHaveLength(3)
    const hiddenId = (await kit.listSessions('others-user')).find((s) => s.impersonated)!.id
    expect((await call(app.url, 'DELETE', `/api/sessions/${hiddenId}`, { cookie: a })).status).toBe(404)
    const bad = await call(app.url, 'DELETE', '/api/sessions', { cookie: a })
    expect(bad.status).toBe(400)
    const reply = await call(app.url, 'DELETE', '/api/sessions?scope=others', {
      cookie: a,
      headers: { origin: app.url },
    })
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual({ revoked: 2 })
    expect(reply.headers.get('cache-control')).toBe('no-store')
    expect((await list(a)).map((s) => s.current)).toEqual([true])
    // The admin's impersonation survived.
    expect((await call(app.url, 'GET', '/api/sessions', { cookie: impersonation })).status).toBe(200)
  })

  it('serves the page with no-store, a strict CSP and no-referrer, and escapes every value', async () => {
    await signIn('xss-user', XSS)
    const cookie = await signIn('xss-user', DESKTOP_UA)
    const page = await call(app.url, 'GET', '/profile/active_sessions', { cookie })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(page.headers.get('cache-control')).toBe('no-store')
    expect(page.headers.get('referrer-policy')).toBe('no-referrer')
    const csp = page.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("form-action 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toContain('script-src')
    // The hostile values are there, escaped, and never as markup.
    expect(page.text).not.toContain('<img')
    expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;')
    expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&#39;')
    expect(page.text).toContain('Chrome on Windows')
    expect(page.text).toContain('This is your current session')
    // The JSON API returns the raw value (JSON is not HTML).
    const api = (await list(cookie)).find((s) => s.browser === XSS)
    expect(api?.deviceName).toBe(XSS)
  })

  it('requires the CSRF token (and the same origin) for the revoke forms', async () => {
    const desktop = await signIn('csrf-user', DESKTOP_UA)
    const phone = await signIn('csrf-user', IPHONE_UA)
    const phoneId = (await list(phone)).find((s) => s.current)!.id
    const confirmPath = `/profile/active_sessions/${phoneId}/revoke`
    const token = await csrfFrom(confirmPath, desktop)
    const confirm = await call(app.url, 'GET', confirmPath, { cookie: desktop })
    expect(confirm.text).toContain('Are you sure? The device will be signed out.')
    expect(confirm.headers.get('cache-control')).toBe('no-store')

    const missing = await postForm(confirmPath, desktop, {})
    expect(missing.status).toBe(403)
    const wrong = await postForm(confirmPath, desktop, { csrf_token: `${token.slice(0, -1)}x` })
    expect(wrong.status).toBe(403)
    const otherSessions = await postForm(confirmPath, phone, { csrf_token: token })
    expect(otherSessions.status).toBe(403) // the token is the desktop session's, not the phone's
    const crossOrigin = await postForm(confirmPath, desktop, { csrf_token: token }, 'https://evil.example')
    expect(crossOrigin.status).toBe(403)
    expect(await list(phone)).toHaveLength(2)

    const ok = await postForm(confirmPath, desktop, { csrf_token: token })
    expect(ok.status).toBe(303)
    expect(ok.location).toBe('/profile/active_sessions?notice=revoked')
    expect((await call(app.url, 'GET', '/api/sessions', { cookie: phone })).status).toBe(401)
    const phonePage = await call(app.url, 'GET', '/profile/active_sessions', { cookie: phone })
    expect(phonePage.status).toBe(303)
    expect(phonePage.headers.get('location')).toBe('/login')
  })

  it('revokes all others through the confirm form', async () => {
    const a = await signIn('form-others', DESKTOP_UA)
    await signIn('form-others', IPHONE_UA)
    await signIn('form-others', IPHONE_UA)
    const token = await csrfFrom('/profile/active_sessions/revoke-others', a)
    expect((await postForm('/profile/active_sessions/revoke-others', a, {})).status).toBe(403)
    expect(await list(a)).toHaveLength(3)
    // A cross-site page cannot pass with "Origin: null" either (a sandboxed frame)...
    const sandboxed = await postForm(
      '/profile/active_sessions/revoke-others',
      a,
      { csrf_token: token },
      'null',
      {
        'sec-fetch-site': 'cross-site',
      },
    )
    expect(sandboxed.status).toBe(403)
    expect(await list(a)).toHaveLength(3)
    // ...but this page's own form does: under `Referrer-Policy: no-referrer` Chromium sends "Origin: null" with
    // "Sec-Fetch-Site: same-origin".
    const ok = await postForm('/profile/active_sessions/revoke-others', a, { csrf_token: token }, 'null', {
      'sec-fetch-site': 'same-origin',
    })
    expect(ok.status).toBe(303)
    expect(ok.location).toBe('/profile/active_sessions?notice=revoked-others&count=2')
    expect(await list(a)).toHaveLength(1)
  })

  it('shows the admin view to admins only, and lets them revoke any user’s sessions', async () => {
    const alice = await signIn('admin-target', IPHONE_UA)
    const admin = await signIn('admin', DESKTOP_UA)
    const refused = await call(app.url, 'GET', '/admin/sessions', { cookie: alice })
    expect(refused.status).toBe(403)
    expect(refused.headers.get('cache-control')).toBe('no-store')
    const view = await call(app.url, 'GET', '/admin/sessions?user=admin-target', { cookie: admin })
    expect(view.status).toBe(200)
    expect(view.headers.get('content-security-policy')).toContain("default-src 'none'")
    expect(view.text).toMatch(/<svg\s+class="chart"[^>]*aria-label="Signed-in sessions by browser"/)
    expect(view.text).toContain('data-label="Mobile Safari"')
    expect(view.text).toContain('data-label="Smartphone"')
    expect(view.text).toContain('data-user="admin-target"')
    const stats = await kit.listSessions('admin-target')
    const id = stats[0]!.id
    expect(view.text).toContain(`name="session_id" value="${id}"`)
    const token = /name="csrf_token" value="([^"]+)"/.exec(view.text)![1]!
    // Non-admins cannot post to it, even with a valid token of their own.
    const aliceToken = await csrfFrom(`/profile/active_sessions/${(await list(alice))[0]!.id}/revoke`, alice)
    const byAlice = await postForm('/admin/sessions/revoke', alice, {
      csrf_token: aliceToken,
      user_id: 'admin-target',
      session_id: id,
    })
    expect(byAlice.status).toBe(403)
    expect(
      (await postForm('/admin/sessions/revoke', admin, { user_id: 'admin-target', session_id: id })).status,
    ).toBe(403)
    const ok = await postForm('/admin/sessions/revoke', admin, {
      csrf_token: token,
      user_id: 'admin-target',
      session_id: id,
    })
    expect(ok.status).toBe(303)
    expect(ok.location).toBe('/admin/sessions?user=admin-target&revoked=1')
    expect((await call(app.url, 'GET', '/api/sessions', { cookie: alice })).status).toBe(401)
  })
})

describe('without a loginPath', () => {
  it('answers 401 on the page', async () => {
    const store = new MemoryStore()
    const kit = createSessionkit({ store, cookie: { secure: false }, deviceParser: false })
    const app = await startUi('express', kit)
    try {
      const page = await call(app.url, 'GET', '/profile/active_sessions')
      expect(page.status).toBe(401)
      expect(page.headers.get('cache-control')).toBe('no-store')
      expect(page.text).toContain('Sign in required')
    } finally {
      await app.close()
      store.close()
    }
  })
})

describe('activeSessions options', () => {
  it('a misspelt or malformed option is an InvalidOptionsError naming it', async () => {
    const { activeSessionsRouter } = await import('sessionkit/ui/express')
    const { createSessionkit, InvalidOptionsError, MemoryStore } = await import('sessionkit')
    const kit = createSessionkit({ store: new MemoryStore({ sweepIntervalMs: 0 }) })
    expect(() => activeSessionsRouter(kit, { pagPath: '/x' } as never)).toThrow(InvalidOptionsError)
    expect(() => activeSessionsRouter(kit, { pagPath: '/x' } as never)).toThrow('did you mean "pagePath"')
    expect(() => activeSessionsRouter(kit, { pagePath: 'sessions' })).toThrow(InvalidOptionsError)
    expect(() => activeSessionsRouter(kit, { pagePath: '/sessions', isAdmin: () => true })).not.toThrow()
  })
})
