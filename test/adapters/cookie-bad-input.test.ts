/**
 * Hostile `Cookie` headers (security-and-reliability.md, test plan C2 items 1-8), on every framework: no crash,
 * no session confusion, at most one store call, and a clear error for bad cookie options.
 */
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  createSessionkit,
  InvalidOptionsError,
  MemoryStore,
  RedisStore,
  type Sessionkit,
  type SessionStore,
} from 'sessionkit'
import { instrumentStore } from '../helpers/backends.js'
import { call, cookiePair, rawRequest } from '../helpers/http.js'
import { FRAMEWORKS, startApp, type RunningApp } from './apps.js'

const NAME = '__Host-sid'

/** Wraps the real store (changing nothing) and counts the calls that reach it. */
function counting(store: SessionStore): { store: SessionStore; calls: () => number } {
  const instrumented = instrumentStore(store)
  return { store: instrumented.store, calls: () => instrumented.calls.length }
}

describe.each(FRAMEWORKS)('%s: hostile Cookie headers', (framework) => {
  let client: ReturnType<typeof createClient>
  let kit: Sessionkit
  let app: RunningApp
  let storeCalls: () => number

  beforeAll(async () => {
    client = createClient({ url: inject('redisUrl') })
    await client.connect()
    const counted = counting(new RedisStore({ client, prefix: `c${framework}${Date.now()}:` }))
    storeCalls = counted.calls
    // __Host- cookies need Secure; browsers enforce that, servers still read what they are sent.
    kit = createSessionkit({ store: counted.store, cookie: { hostPrefix: true } })
    app = await startApp(framework, kit)
  })

  afterAll(async () => {
    await app.close()
    client.destroy()
  })

  async function signedIn(user: string): Promise<string> {
    const reply = await call(app.url, 'POST', `/signin?user=${user}`)
    const pair = cookiePair(reply.setCookies, NAME)
    expect(pair).toBeDefined()
    return pair!.slice(NAME.length + 1)
  }

  async function read(cookie: string | undefined): Promise<{ user: unknown; status: number; calls: number }> {
    const before = storeCalls()
    const reply = await call(app.url, 'GET', '/read', cookie === undefined ? {} : { cookie })
    return {
      user: (reply.body as { user?: unknown }).user,
      status: reply.status,
      calls: storeCalls() - before,
    }
  }

  it('item 1: no Cookie header, an empty header and an empty value are anonymous, with no store call', async () => {
    for (const cookie of [undefined, '', `${NAME}=`]) {
      const result = await read(cookie)
      expect(result).toEqual({ user: null, status: 200, calls: 0 })
    }
  })

  it('item 2: two different session cookies are refused as ambiguous, in either order', async () => {
    const attacker = await signedIn('mallory')
    const victim = await signedIn('victim')
    for (const cookie of [
      `${NAME}=${attacker}; ${NAME}=${victim}`,
      `${NAME}=${victim}; ${NAME}=${attacker}`,
    ]) {
      expect(await read(cookie)).toEqual({ user: null, status: 200, calls: 0 })
      // Storing something mints a fresh token: the visitor is never moved into the attacker's session.
      const write = await call(app.url, 'POST', '/write?key=k&value=v', { cookie })
      const minted = cookiePair(write.setCookies, NAME)!.slice(NAME.length + 1)
      expect([attacker, victim]).not.toContain(minted)
    }
    // The same cookie sent twice is not ambiguous.
    expect((await read(`${NAME}=${victim}; ${NAME}=${victim}`)).user).toBe('victim')
  })

  it('item 3: name variants are other cookies (case, trailing space, percent-encoding, U+2000)', async () => {
    const token = await signedIn('alice')
    for (const cookie of [
      `__host-sid=${token}`,
      `__Host-SID=${token}`,
      `${NAME} =${token}`,
      `%5F%5FHost-sid=${token}`,
    ]) {
      expect(await read(cookie)).toEqual({ user: null, status: 200, calls: 0 })
    }
    const head = Buffer.concat([
      Buffer.from('GET /read HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: '),
      Buffer.from(`\u2000${NAME}=${token}`, 'utf8'),
      Buffer.from('\r\n\r\n'),
    ])
    const raw = await rawRequest(app.url, head)
    expect(raw.status).toBe(200)
    expect(raw.raw).toContain('"user":null')
    expect((await read(`${NAME}=${token}`)).user).toBe('alice')
  })

  it('item 4: prototype-named cookies beside ours neither pollute nor hide the session', async () => {
    const token = await signedIn('alice')
    const result = await read(`__proto__=1; constructor=2; hasOwnProperty=3; toString=4; ${NAME}=${token}`)
    expect(result).toEqual({ user: 'alice', status: 200, calls: 1 })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, '1')).toBe(false)
  })

  it('item 5: oversize headers get 200 or 431 in linear time, never a 500 or a crash', async () => {
    const big = await read(`${NAME}=${'a'.repeat(8 * 1024)}`)
    expect(big).toEqual({ user: null, status: 200, calls: 0 })
    const pairs = await read(`${'a=1; '.repeat(10_000)}${NAME}=x`)
    expect([200, 431]).toContain(pairs.status)
    expect(pairs.calls).toBe(0)
    const huge = await call(app.url, 'GET', '/read', { cookie: `${NAME}=${'b'.repeat(20 * 1024)}` })
    expect(huge.status).toBe(431)
    expect((await call(app.url, 'GET', '/untouched')).status).toBe(200)
  })

  it('item 6: odd encodings are refused before any store call', async () => {
    const token = await signedIn('alice')
    const odd = [
      `"${token}"`,
      '%E0%A4%A',
      '%00',
      `${token}%00`,
      `${token},x`,
      `\t${token}`,
      encodeURIComponent(token + '\n'),
    ]
    for (const value of odd)
      expect(await read(`${NAME}=${value}`)).toEqual({ user: null, status: 200, calls: 0 })
    const head = Buffer.concat([
      Buffer.from('GET /read HTTP/1.1\r\nHost: x\r\nConnection: close\r\nCookie: '),
      Buffer.from(`${NAME}=`),
      Buffer.from([0xff, 0xfe, 0xed, 0xa0, 0x80]),
      Buffer.from('\r\n\r\n'),
    ])
    const raw = await rawRequest(app.url, head)
    expect([200, 400]).toContain(raw.status)
  })

  it('item 7: a tampered token (appended byte, truncated, other slot tag, other last char) is no session', async () => {
    const token = await signedIn('alice')
    const tampered = [
      `${token}A`,
      token.slice(0, -1),
      `fff${token.slice(3)}` === token ? `000${token.slice(3)}` : `fff${token.slice(3)}`,
      `${token.slice(0, -1)}${token.endsWith('A') ? 'E' : 'A'}`,
    ]
    for (const value of tampered) {
      const result = await read(`${NAME}=${value}`)
      expect(result.user).toBeNull()
      expect(result.calls).toBeLessThanOrEqual(1)
    }
  })
})

describe('item 8: cookie options that could split a response fail at construction', () => {
  const store = new MemoryStore({ sweepIntervalMs: 0 })
  const cases: [string, Record<string, unknown>][] = [
    ['a name with ;', { name: 'sid;Domain=evil.example' }],
    ['a name with CRLF', { name: 'sid\r\nSet-Cookie: x=1' }],
    ['a path with ;', { path: '/; Domain=evil.example' }],
    ['a path with CRLF', { path: '/\r\nX: 1' }],
    ['a domain with ;', { domain: 'example.com; Secure' }],
    ['a prefixed name', { name: '__Host-sid' }],
    ['__Host- without Secure', { hostPrefix: true, secure: false }],
    ['__Host- with a Domain', { hostPrefix: true, domain: 'example.com' }],
    ['__Host- with a Path', { hostPrefix: true, path: '/app' }],
    ['SameSite=None without Secure', { sameSite: 'none', secure: false }],
    ['an unknown SameSite', { sameSite: 'sometimes' }],
  ]
  it.each(cases)('refuses %s', (_label, cookie) => {
    expect(() => createSessionkit({ store, cookie })).toThrow(InvalidOptionsError)
  })
})
