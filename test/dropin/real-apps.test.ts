/**
 * The switch, tried as a user would: a real express-session + connect-redis + passport-local app and a real
 * @fastify/session + @fastify/passport app (test/dropin/apps/*.legacy.mjs) sign users in; then the same app with
 * only its session lines changed (*.sessionkit.mjs) is started on the same Redis, and everything must go on:
 * users still signed in with their data, the legacy keys gone, the sessions listed with device info, new
 * passport sign-ins and sign-outs working, and a forged legacy cookie getting nobody in. Each app runs as its own
 * process (a real HTTP server) against a private redis-server this suite starts.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionkit, RedisStore, type Sessionkit } from 'sessionkit'
import { startRedis, type RedisProcess } from '../helpers/redis-server.js'

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
const SECRET = 'a legacy session secret that is long enough for @fastify/session'

interface RunningApp {
  readonly url: string
  readonly output: () => string
  stop(): Promise<void>
}

function startApp(file: string, redisUrl: string): Promise<RunningApp> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=sessionkit-source', file],
    {
      env: { ...process.env, REDIS_URL: redisUrl, SESSION_SECRET: SECRET, NODE_ENV: 'development' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /listening on (http:\/\/[\d.:]+)/.exec(output)
      if (match?.[1]) {
        resolve({
          url: match[1],
          output: () => output,
          stop: async () => {
            child.kill('SIGTERM')
            await exited
          },
        })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => {
      reject(new Error(`${file} exited with ${String(code)}: ${output}`))
    })
  })
}

/** A browser: keeps cookies by name (a `Max-Age=0` deletes one), sends them back, never follows redirects. */
class Browser {
  readonly cookies = new Map<string, string>()

  constructor(readonly userAgent = CHROME) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  async request(
    base: string,
    method: string,
    path: string,
    form?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown>; setCookies: string[] }> {
    const headers: Record<string, string> = { 'user-agent': this.userAgent }
    if (this.cookies.size > 0) headers.cookie = this.cookieHeader
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded'
    const response = await fetch(base + path, {
      method,
      headers,
      body: form ? new URLSearchParams(form).toString() : undefined,
      redirect: 'manual',
    })
    const setCookies = response.headers.getSetCookie()
    for (const line of setCookies) {
      const pair = line.split(';', 1)[0]!
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      if (/Max-Age=0/i.test(line) || /Expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name)
      else this.cookies.set(name, pair.slice(eq + 1))
    }
    const text = await response.text()
    let body: Record<string, unknown> = {}
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {
      // a redirect
    }
    return { status: response.status, body, setCookies }
  }
}

/** The file with the lines between the "session" markers taken out. */
function withoutSessionLines(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\/ --- session: begin\n[\s\S]*?\/\/ --- session: end\n/g, '')
    .split('\n')
    .slice(2) // the two-line header comment says which file it is
    .join('\n')
}

describe.each([
  ['express-session + connect-redis + passport', 'express-passport', 'connect.sid'],
  ['@fastify/session + @fastify/passport', 'fastify-passport', 'sessionId'],
] as const)('%s', (_label, name, legacyCookie) => {
  const legacyFile = `test/dropin/apps/${name}.legacy.mjs`
  const sessionkitFile = `test/dropin/apps/${name}.sessionkit.mjs`
  let redis: RedisProcess
  let client: ReturnType<typeof createClient>
  let kit: Sessionkit
  let legacy: RunningApp | undefined
  let switched: RunningApp | undefined
  const alice = new Browser()
  const bob = new Browser(IPHONE)
  const visitor = new Browser()
  const aliceFromAnotherBrowser = new Browser()

  beforeAll(async () => {
    redis = await startRedis()
    client = createClient({ url: redis.url })
    client.on('error', () => undefined)
    await client.connect()
    kit = createSessionkit({ store: new RedisStore({ client }) })
  }, 60_000)

  afterAll(async () => {
    await legacy?.stop()
    await switched?.stop()
    client.destroy()
    await redis.stop()
  })

  it('the two apps differ only in their session lines', () => {
    expect(readFileSync(legacyFile, 'utf8')).not.toBe(readFileSync(sessionkitFile, 'utf8'))
    expect(withoutSessionLines(sessionkitFile)).toBe(withoutSessionLines(legacyFile))
  })

  it('on the legacy app, users sign in with passport and use their sessions', async () => {
    legacy = await startApp(legacyFile, redis.url)
    const base = legacy.url
    const login = await alice.request(base, 'POST', '/login', {
      username: 'alice',
      password: 'alice-password',
    })
    expect(login.status).toBe(303)
    expect(alice.cookies.has(legacyCookie)).toBe(true)
    expect((await alice.request(base, 'POST', '/cart', { item: 'apple' })).body).toEqual({ cart: ['apple'] })
    expect((await alice.request(base, 'GET', '/')).body).toEqual({ user: 'alice', views: 1, cart: ['apple'] })
    const remembered = await bob.request(base, 'POST', '/login', {
      username: 'bob',
      password: 'bob-password',
      remember: 'on',
    })
    expect(remembered.status).toBe(303)
    expect((await bob.request(base, 'GET', '/')).body).toMatchObject({ user: 'bob' })
    expect((await visitor.request(base, 'GET', '/')).body).toEqual({ user: null, views: 1, cart: [] })
    expect(visitor.cookies.has(legacyCookie)).toBe(true)
    expect(await client.keys('sess:*')).toHaveLength(3)
    await legacy.stop()
    legacy = undefined
  })

  it('after the switch, signed-in users are still signed in, with their data, and the legacy keys are gone', async () => {
    switched = await startApp(sessionkitFile, redis.url)
    const base = switched.url
    const first = await alice.request(base, 'GET', '/')
    expect(first.body).toEqual({ user: 'alice', views: 2, cart: ['apple'] })
    expect(alice.cookies.has('sid')).toBe(true)
    expect(alice.cookies.has(legacyCookie)).toBe(false)
    expect((await bob.request(base, 'GET', '/')).body).toMatchObject({ user: 'bob', views: 2 })
    expect((await visitor.request(base, 'GET', '/')).body).toEqual({ user: null, views: 2, cart: [] })
    expect(await client.keys('sess:*')).toEqual([])
    expect((await alice.request(base, 'GET', '/')).body).toMatchObject({ user: 'alice', views: 3 })
  })

  it('the migrated sessions are listed with device info, and remember-me carried over', async () => {
    const [aliceSession] = await kit.listSessions('alice')
    expect(aliceSession).toMatchObject({ browser: 'Chrome', os: 'Windows', deviceType: 'desktop' })
    const [bobSession] = await kit.listSessions('bob')
    expect(bobSession).toMatchObject({ browser: 'Mobile Safari', os: 'iOS', rememberMe: true })
    expect(aliceSession?.rememberMe).toBe(false)
  })

  it('nested changes are saved, and a new passport sign-in works', async () => {
    const base = switched!.url
    expect((await alice.request(base, 'POST', '/cart', { item: 'pear' })).body).toEqual({
      cart: ['apple', 'pear'],
    })
    expect((await alice.request(base, 'GET', '/')).body).toMatchObject({ cart: ['apple', 'pear'] })
    const wrong = await aliceFromAnotherBrowser.request(base, 'POST', '/login', {
      username: 'alice',
      password: 'nope',
    })
    expect(wrong.status).toBe(302)
    const login = await aliceFromAnotherBrowser.request(base, 'POST', '/login', {
      username: 'alice',
      password: 'alice-password',
    })
    expect(login.status).toBe(303)
    expect((await aliceFromAnotherBrowser.request(base, 'GET', '/')).body).toMatchObject({ user: 'alice' })
    expect(await kit.listSessions('alice')).toHaveLength(2)
  })

  it("passport's logout signs out, and the session leaves the user's list", async () => {
    const base = switched!.url
    const logout = await aliceFromAnotherBrowser.request(base, 'POST', '/logout')
    expect(logout.status).toBe(303)
    expect((await aliceFromAnotherBrowser.request(base, 'GET', '/')).body).toMatchObject({ user: null })
    expect(await kit.listSessions('alice')).toHaveLength(1)
    expect((await alice.request(base, 'GET', '/')).body).toMatchObject({ user: 'alice' })
  })

  it('a forged legacy cookie gets nobody in', async () => {
    const base = switched!.url
    const forger = new Browser()
    forger.cookies.set(
      legacyCookie,
      encodeURIComponent(`s:${'A'.repeat(32)}.forgedsignatureforgedsignatureforged0`),
    )
    expect((await forger.request(base, 'GET', '/')).body).toEqual({ user: null, views: 1, cart: [] })
    const unsigned = new Browser()
    unsigned.cookies.set(legacyCookie, 'alice')
    expect((await unsigned.request(base, 'GET', '/')).body).toMatchObject({ user: null })
    expect(switched!.output()).not.toMatch(/app error/)
  })
})
