/** The demo app (`npm start`) over HTTP: sign-in form, CSRF, sign-out, redirects, and /healthz. */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSessionkit, MemoryStore, StoreUnavailableError } from 'sessionkit'
import { afterEach, describe, expect, it } from 'vitest'
import { createDemoApp } from '../../demo/app.js'
import { cookiePair } from '../helpers/http.js'

const servers: Server[] = []
const stores: MemoryStore[] = []

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
  for (const store of stores.splice(0)) store.close()
})

async function start(store: MemoryStore): Promise<{ base: string; cookieName: string }> {
  const kit = createSessionkit({ store, cookie: { secure: false }, deviceParser: false })
  const server = createDemoApp(kit, store).listen(0, '127.0.0.1')
  servers.push(server)
  await new Promise<void>((resolve) => server.once('listening', resolve))
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, cookieName: kit.cookieName }
}

function memory(): MemoryStore {
  const store = new MemoryStore()
  stores.push(store)
  return store
}

async function loginForm(base: string, cookieName: string): Promise<{ cookie: string; token: string }> {
  const response = await fetch(`${base}/login`)
  expect(response.status).toBe(200)
  const page = await response.text()
  for (const name of ['username', 'password', 'remember_me', 'csrf_token'])
    expect(page).toContain(`name="${name}"`)
  for (const text of ['alice-password', 'bob-password', 'admin-password']) expect(page).toContain(text)
  // The sign-in form stores no session: its CSRF token is a signed cookie (see demo/login-csrf.ts).
  expect(cookiePair(response.headers.getSetCookie(), cookieName)).toBeUndefined()
  return {
    cookie: cookiePair(response.headers.getSetCookie(), 'login_csrf')!,
    token: /name="csrf_token" value="([^"]+)"/.exec(page)![1]!,
  }
}

function post(base: string, path: string, cookie: string, fields: Record<string, string>) {
  return fetch(`${base}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  })
}

describe('demo app', () => {
  it('signs in with a 303 to /, refuses bad passwords with 401 and the form, and signs out to /login', async () => {
    const { base, cookieName } = await start(memory())
    expect((await fetch(`${base}/`, { redirect: 'manual' })).headers.get('location')).toBe('/login')
    const { cookie, token } = await loginForm(base, cookieName)

    const wrong = await post(base, '/login', cookie, {
      username: 'alice',
      password: 'bob-password',
      csrf_token: token,
    })
    expect(wrong.status).toBe(401)
    expect(await wrong.text()).toContain('name="csrf_token"')
    const noToken = await post(base, '/login', cookie, { username: 'alice', password: 'alice-password' })
    expect(noToken.status).toBe(403)

    const ok = await post(base, '/login', cookie, {
      username: 'alice',
      password: 'alice-password',
      remember_me: 'on',
      csrf_token: token,
    })
    expect(ok.status).toBe(303)
    expect(ok.headers.get('location')).toBe('/')
    const session = cookiePair(ok.headers.getSetCookie(), cookieName)!
    expect(session).toMatch(new RegExp(`^${cookieName}=`))
    // Remember me: a persistent cookie.
    expect(ok.headers.getSetCookie().join()).toMatch(/Max-Age=[1-9]|Expires=/i)

    const home = await fetch(`${base}/`, { headers: { cookie: session } })
    const homePage = await home.text()
    expect(homePage).toContain('/profile/active_sessions')
    expect(homePage).not.toContain('/admin/sessions') // alice is not an admin
    const logoutToken = /name="csrf_token" value="([^"]+)"/.exec(homePage)![1]!
    expect(logoutToken).not.toBe(token) // a fresh token after sign-in

    const api = await fetch(`${base}/api/sessions`, { headers: { cookie: session } })
    expect(((await api.json()) as { sessions: unknown[] }).sessions).toHaveLength(1)

    const out = await post(base, '/logout', session, { csrf_token: logoutToken })
    expect(out.status).toBe(303)
    expect(out.headers.get('location')).toBe('/login')
    const after = await fetch(`${base}/profile/active_sessions`, {
      headers: { cookie: session },
      redirect: 'manual',
    })
    expect(after.status).toBe(303)
    expect(after.headers.get('location')).toBe('/login')
  })

  it('answers /healthz with 200 when the store answers and 503 when it does not', async () => {
    const healthy = await start(memory())
    expect((await fetch(`${healthy.base}/healthz`)).status).toBe(200)

    const broken = memory()
    const failing = new Proxy(broken, {
      get(target, property, receiver) {
        if (property === 'ping')
          return () => Promise.reject(new StoreUnavailableError('ping failed', { cause: new Error('down') }))
        const value: unknown = Reflect.get(target, property, receiver)
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
      },
    })
    const sick = await start(failing)
    const reply = await fetch(`${sick.base}/healthz`)
    expect(reply.status).toBe(503)
    expect(reply.headers.get('cache-control')).toBe('no-store')
  })
})
