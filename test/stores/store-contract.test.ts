/**
 * The store contract, at the Sessionkit level, held against all five backends: memory, node-redis and ioredis,
 * each on a single node and on a real 3-master Cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSessionkit,
  NamespacedSessionStore,
  SessionkitError,
  type DeviceParser,
  type JsonValue,
  type Sessionkit,
  type SessionkitOptions,
  type SessionStore,
} from '../../src/index.js'
import { refFromToken } from '../../src/core/token.js'
import { toUserRef } from '../../src/core/user-id.js'
import { ALL_BACKENDS, instrumentStore, openBackend, type Backend } from '../helpers/backends.js'
import { Browser, sleep } from '../helpers/browser.js'
import { nearCacheState } from '../helpers/near-cache.js'

const deviceParser: DeviceParser = (ua) => ({
  browser: ua.split('/')[0] ?? '',
  os: 'TestOS',
  deviceType: 'desktop',
  deviceName: '',
})

let userSeq = 0
function newUser(): string {
  return `user-${process.pid}-${++userSeq}-${Math.random().toString(36).slice(2, 6)}`
}

// Every backend, and two with RedisStore's near cache on: the whole contract must hold with it too (one process
// reads its own writes; test/stores/near-cache.test.ts covers what two app servers see of each other's).
const CONTRACT_BACKENDS = [
  ...ALL_BACKENDS.map((name) => ({ name, label: name, nearCache: false })),
  ...(['node-redis single', 'ioredis cluster'] as const).map((name) => ({
    name,
    label: `${name}, near cache`,
    nearCache: true,
  })),
]

describe.each(CONTRACT_BACKENDS)('store contract: $label', ({ name, nearCache }) => {
  let backend: Backend
  let kit: Sessionkit
  const kitFor = (
    options: Omit<SessionkitOptions, 'store'> = {},
    store: SessionStore = backend.store,
  ): Sessionkit => createSessionkit({ store, cookie: { secure: false }, deviceParser, ...options })

  beforeAll(async () => {
    backend = await openBackend(name, nearCache ? { store: { nearCache: { maxEntries: 1000 } } } : {})
    if (nearCache) await nearCacheState(backend.redis!, 'up')
    kit = kitFor()
  })
  afterAll(async () => {
    await backend.close()
  })

  /** Whether `token` opens a live session. */
  async function alive(token: string | undefined, k: Sessionkit = kit): Promise<boolean> {
    if (token === undefined) return false
    const req = await new Browser(k, { cookie: token }).open()
    return !req.session.isNew
  }

  async function signedIn(user: string, k: Sessionkit = kit, ua = 'TestBrowser/1.0'): Promise<Browser> {
    const browser = new Browser(k, { userAgent: ua })
    await browser.request((s) => s.signIn(user))
    return browser
  }

  describe('lazy sessions', () => {
    it('makes no store call and sets no cookie for a visitor who stores nothing', async () => {
      const counted = instrumentStore(backend.store)
      const k = kitFor({}, counted.store)
      const browser = new Browser(k)
      const req = await browser.open()
      expect(req.session.get('x')).toBeUndefined()
      expect(req.session.has('x')).toBe(false)
      expect(req.session.namespace('ns').get('k')).toBeUndefined()
      expect([...req.session]).toEqual([])
      await req.commit()
      expect(counted.calls).toEqual([])
      expect(req.binding.setCookies).toEqual([])
      expect(browser.cookie).toBeUndefined()
      expect(req.session.isNew).toBe(true)
    })

    it('creates the session and sets the cookie on the first set', async () => {
      const counted = instrumentStore(backend.store)
      const k = kitFor({}, counted.store)
      const browser = new Browser(k)
      await browser.request((s) => s.set('a', 1))
      expect(counted.calls).toEqual(['create'])
      expect(browser.cookie).toMatch(/^[0-9a-f]{3}\.[A-Za-z0-9_-]{43}$/)
      const value = await browser.request((s) => s.get('a'))
      expect(value).toBe(1)
    })

    it('set then delete within one request stores nothing', async () => {
      const counted = instrumentStore(backend.store)
      const k = kitFor({}, counted.store)
      const browser = new Browser(k)
      await browser.request((s) => {
        s.set('a', 1)
        s.delete('a')
      })
      expect(counted.calls).toEqual([])
      expect(browser.cookie).toBeUndefined()
    })
  })

  describe('hash API', () => {
    it('get/set/delete/has/iterate/clear/toObject round-trip through the store', async () => {
      const browser = new Browser(kit)
      await browser.request((s) => {
        s.set('str', 'x')
          .set('num', 1.5)
          .set('obj', { a: [1, { b: null }] })
          .set('bool', false)
        s.set('__proto__', 'p')
        s.namespace('ns').set('kept', true)
      })
      await browser.request((s) => {
        expect(s.get('str')).toBe('x')
        expect(s.get('num')).toBe(1.5)
        expect(s.get('obj')).toEqual({ a: [1, { b: null }] })
        expect(s.get('bool')).toBe(false)
        expect(s.has('bool')).toBe(true)
        expect(s.has('missing')).toBe(false)
        expect(s.size).toBe(5)
        expect(new Set(s.keys())).toEqual(new Set(['str', 'num', 'obj', 'bool', '__proto__']))
        const obj = s.toObject()
        expect(Object.getPrototypeOf(obj)).toBeNull()
        expect(obj.__proto__).toBe('p')
        expect(Object.fromEntries(s)).toMatchObject({ str: 'x', num: 1.5, bool: false })
        // get() returns a snapshot.
        s.get<{ a: JsonValue[] }>('obj')!.a.push(99)
        expect(s.get('obj')).toEqual({ a: [1, { b: null }] })
        expect(s.delete('num')).toBe(true)
        expect(s.delete('num')).toBe(false)
      })
      await browser.request((s) => {
        expect(s.has('num')).toBe(false)
        expect(s.size).toBe(4)
        s.clear()
        expect(s.size).toBe(0)
      })
      await browser.request((s) => {
        expect(s.toObject()).toEqual({})
        // clear() leaves namespaces alone.
        expect(s.namespace('ns').get('kept')).toBe(true)
      })
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })

    it('only the changed keys are written (a no-change request makes no save)', async () => {
      const counted = instrumentStore(backend.store)
      const k = kitFor({}, counted.store)
      const browser = new Browser(k)
      await browser.request((s) => s.set('a', 1))
      counted.calls.length = 0
      await browser.request((s) => s.set('a', 1))
      expect(counted.calls).toEqual(['load'])
    })
  })

  describe('namespaced store', () => {
    it('reading never creates, writing creates, iteration and toObject see only the namespace', async () => {
      const counted = instrumentStore(backend.store)
      const k = kitFor({}, counted.store)
      const browser = new Browser(k)
      await browser.request((s) => {
        const ns = s.namespace('feature')
        expect(ns.get('x')).toBeUndefined()
        expect(ns.has('x')).toBe(false)
        expect(ns.size).toBe(0)
        expect(ns.toObject()).toEqual({})
      })
      expect(counted.calls).toEqual([])
      expect(browser.cookie).toBeUndefined()
      await browser.request((s) => {
        s.namespace('feature').set('step', 2).set('a:b', 'colon')
        s.namespace('other').set('step', 'o')
        s.set('step', 'top')
      })
      expect(browser.cookie).toBeDefined()
      await browser.request((s) => {
        const ns = s.namespace('feature')
        expect(ns.get('step')).toBe(2)
        expect(ns.get('a:b')).toBe('colon')
        expect(ns.toObject()).toEqual({ step: 2, 'a:b': 'colon' })
        expect(new Map(ns)).toEqual(
          new Map<string, unknown>([
            ['step', 2],
            ['a:b', 'colon'],
          ]),
        )
        expect(s.namespace('other').toObject()).toEqual({ step: 'o' })
        expect(s.toObject()).toEqual({ step: 'top' })
        expect(ns.delete('step')).toBe(true)
        ns.clear()
        expect(ns.size).toBe(0)
      })
      await browser.request((s) => {
        expect(s.namespace('feature').toObject()).toEqual({})
        expect(s.namespace('other').get('step')).toBe('o')
      })
    })

    it('is a harmless no-op without a session', () => {
      const ns = new NamespacedSessionStore('nothing')
      ns.set('a', 1)
      expect(ns.get('a')).toBeUndefined()
      expect(ns.delete('a')).toBe(false)
      expect([...ns]).toEqual([])
      expect(ns.toObject()).toEqual({})
      ns.clear()
      expect(ns.size).toBe(0)
    })
  })

  it('per-key deltas: 100 concurrent requests on one cookie each setting a distinct key leave all 100', async () => {
    const browser = new Browser(kit)
    await browser.request((s) => s.set('seed', 0))
    const requests = await Promise.all(Array.from({ length: 100 }, () => browser.open()))
    requests.forEach((req, i) => req.session.set(`k${i}`, i))
    await Promise.all(requests.map((req) => req.commit()))
    const data = await browser.request((s) => s.toObject())
    expect(Object.keys(data)).toHaveLength(101)
    for (let i = 0; i < 100; i++) expect(data[`k${i}`]).toBe(i)
  })

  describe('sign-in and sign-out', () => {
    it('sign-in rotates: old token dead at once, data carried over, user bound, device and IP listed', async () => {
      const user = newUser()
      const browser = new Browser(kit, { userAgent: 'Firefox/130', ipAddress: '198.51.100.7' })
      await browser.request((s) => s.set('cart', [1, 2]))
      const anonymous = browser.cookie!
      await browser.request(async (s) => {
        s.set('during', 'sign-in')
        await s.signIn(user)
        expect(s.userId).toBe(user)
        expect(s.isNew).toBe(false)
      })
      const token = browser.cookie!
      expect(token).not.toBe(anonymous)
      expect(token.slice(0, 3)).toBe(toUserRef(user).tag)
      expect(await alive(anonymous)).toBe(false)
      const req = await browser.open()
      expect(req.session.userId).toBe(user)
      expect(req.session.get('cart')).toEqual([1, 2])
      expect(req.session.get('during')).toBe('sign-in')
      expect(req.session.signedInAt).toBeInstanceOf(Date)
      const list = await req.session.listSessions()
      expect(list).toHaveLength(1)
      expect(list[0]).toMatchObject({
        id: refFromToken(token).id,
        userId: user,
        current: true,
        browser: 'Firefox',
        os: 'TestOS',
        deviceType: 'desktop',
        ipAddress: '198.51.100.7',
        impersonated: false,
        rememberMe: false,
      })
      // The list carries the private id, never the token.
      expect(JSON.stringify(list)).not.toContain(token)
    })

    it('signing in again with a signed-in session rotates again and keeps one index entry', async () => {
      const user = newUser()
      const browser = await signedIn(user)
      const first = browser.cookie!
      await browser.request((s) => s.signIn(user))
      expect(browser.cookie).not.toBe(first)
      expect(await alive(first)).toBe(false)
      const list = await kit.listSessions(user)
      expect(list.map((s) => s.id)).toEqual([refFromToken(browser.cookie!).id])
    })

    it('sign-out destroys: old token dead, cookie cleared, index entry gone', async () => {
      const user = newUser()
      const browser = await signedIn(user)
      const other = await signedIn(user)
      const token = browser.cookie!
      await browser.request(async (s) => {
        await s.signOut()
        expect(s.userId).toBeUndefined()
        expect(s.isNew).toBe(true)
        expect(s.size).toBe(0)
      })
      expect(browser.cookie).toBeUndefined()
      expect(await alive(token)).toBe(false)
      const list = await kit.listSessions(user)
      expect(list.map((s) => s.id)).toEqual([refFromToken(other.cookie!).id])
      expect(await backend.store.inspect(refFromToken(token))).toBeUndefined()
    })

    it('rotate() keeps data, user and absolute deadline, and kills the old token', async () => {
      const user = newUser()
      const browser = await signedIn(user)
      await browser.request((s) => s.set('k', 'v'))
      const before = await browser.request((s) => s.absoluteExpiresAt!.getTime())
      const old = browser.cookie!
      await browser.request((s) => s.rotate())
      expect(browser.cookie).not.toBe(old)
      expect(await alive(old)).toBe(false)
      await browser.request((s) => {
        expect(s.userId).toBe(user)
        expect(s.get('k')).toBe('v')
        expect(s.absoluteExpiresAt!.getTime()).toBe(before)
      })
      expect((await kit.listSessions(user)).map((s) => s.id)).toEqual([refFromToken(browser.cookie!).id])
    })
  })

  describe('lifetimes', () => {
    const fastIdle = {
      idleTimeoutMs: 1200,
      anonymousTimeoutMs: 1200,
      touchIntervalMs: 100,
      absoluteTimeoutMs: 60_000,
    }

    it('idle timeout slides with throttled touches, and an untouched session expires', async () => {
      const k = kitFor(fastIdle)
      const user = newUser()
      const touchedOne = await signedIn(user, k)
      const untouched = await signedIn(user, k)
      const counted = instrumentStore(backend.store)
      const countedKit = kitFor(fastIdle, counted.store)
      // Kept alive well past its idle timeout by requests every 300 ms.
      for (let i = 0; i < 6; i++) {
        await sleep(300)
        expect(await alive(touchedOne.cookie, countedKit)).toBe(true)
      }
      expect(counted.calls.every((c) => c === 'load')).toBe(true)
      expect(await alive(untouched.cookie, k)).toBe(false)
      const list = await k.listSessions(user)
      expect(list.map((s) => s.id)).toEqual([refFromToken(touchedOne.cookie!).id])
      expect(list[0]!.lastSeenAt.getTime()).toBeGreaterThan(list[0]!.signedInAt.getTime())
    })

    it('a touch within the touch interval does not slide the TTL', async () => {
      const k = kitFor({ idleTimeoutMs: 60_000, touchIntervalMs: 30_000 })
      const browser = await signedIn(newUser(), k)
      const ref = refFromToken(browser.cookie!)
      const before = await backend.store.inspect(ref)
      await sleep(30)
      const loaded = await backend.store.load(ref, k.options.policy, '203.0.113.9')
      expect(loaded.status).toBe('found')
      const after = await backend.store.inspect(ref)
      expect(after!.ttlMs).toBeLessThanOrEqual(before!.ttlMs)
      expect(new Map(after!.fields).get('_ip')).toBe(new Map(before!.fields).get('_ip'))
    })

    it('the absolute timeout is never extended by activity', async () => {
      const k = kitFor({
        idleTimeoutMs: 1000,
        anonymousTimeoutMs: 1000,
        touchIntervalMs: 50,
        absoluteTimeoutMs: 1500,
      })
      const browser = await signedIn(newUser(), k)
      const deadline = await browser.request((s) => s.absoluteExpiresAt!.getTime())
      let died = false
      const stop = Date.now() + 8000
      while (!died && Date.now() < stop) {
        const started = Date.now()
        if (await alive(browser.cookie, k)) {
          // A live answer must have been given before the absolute deadline (10 ms of clock slack).
          expect(started).toBeLessThan(deadline + 10)
        } else {
          died = true
          expect(Date.now()).toBeGreaterThanOrEqual(deadline - 10)
        }
        await sleep(100)
      }
      expect(died).toBe(true)
    })

    it('an anonymous session gets the anonymous TTL, a signed-in one the idle TTL', async () => {
      const k = kitFor({ anonymousTimeoutMs: 1500, idleTimeoutMs: 30_000, touchIntervalMs: 100 })
      const anon = new Browser(k)
      await anon.request((s) => s.set('a', 1))
      const info = await backend.store.inspect(refFromToken(anon.cookie!))
      expect(info!.ttlMs).toBeGreaterThan(0)
      expect(info!.ttlMs).toBeLessThanOrEqual(1500)
      const user = await signedIn(newUser(), k)
      const userInfo = await backend.store.inspect(refFromToken(user.cookie!))
      expect(userInfo!.ttlMs).toBeGreaterThan(1500)
      expect(userInfo!.ttlMs).toBeLessThanOrEqual(30_000)
      await sleep(1800)
      expect(await alive(anon.cookie, k)).toBe(false)
      expect(await alive(user.cookie, k)).toBe(true)
    })
  })

  describe('active sessions', () => {
    it('lists newest first with current, and revokes one', async () => {
      const user = newUser()
      const a = await signedIn(user, kit, 'Alpha/1')
      await sleep(5)
      const b = await signedIn(user, kit, 'Beta/1')
      await sleep(5)
      const c = await signedIn(user, kit, 'Gamma/1')
      const list = await b.request((s) => s.listSessions())
      expect(list.map((s) => s.browser)).toEqual(['Gamma', 'Beta', 'Alpha'])
      expect(list.map((s) => s.current)).toEqual([false, true, false])
      for (const s of list) expect(s.expiresAt.getTime()).toBeGreaterThan(Date.now())
      const revoked = await b.request((s) => s.revokeSession(refFromToken(a.cookie!).id))
      expect(revoked).toBe(true)
      expect(await alive(a.cookie)).toBe(false)
      expect(await alive(b.cookie)).toBe(true)
      expect(await alive(c.cookie)).toBe(true)
      expect(await kit.revokeSession(user, refFromToken(a.cookie!).id)).toBe(false)
      expect((await kit.listSessions(user)).map((s) => s.browser)).toEqual(['Gamma', 'Beta'])
    })

    it('revoke others spares the current and impersonated sessions', async () => {
      const user = newUser()
      const mine = await signedIn(user)
      const other1 = await signedIn(user)
      const other2 = await signedIn(user)
      const admin = new Browser(kit)
      await admin.request((s) => s.signIn(user, { impersonator: 'admin-1' }))
      const count = await mine.request((s) => s.revokeOtherSessions())
      expect(count).toBe(2)
      expect(await alive(mine.cookie)).toBe(true)
      expect(await alive(other1.cookie)).toBe(false)
      expect(await alive(other2.cookie)).toBe(false)
      expect(await alive(admin.cookie)).toBe(true)
      const list = await kit.listSessions(user, refFromToken(mine.cookie!).id)
      expect(list.map((s) => [s.current, s.impersonated]).sort()).toEqual([
        [false, true],
        [true, false],
      ])
    })

    it('an impersonator id with any characters reads back as given', async () => {
      const user = newUser()
      const admin = new Browser(kit)
      const impersonator = 'admin:{1} ü\u0000*'
      await admin.request((s) => s.signIn(user, { impersonator }))
      expect(await admin.request((s) => s.impersonator)).toBe(impersonator)
      expect((await kit.listSessions(user)).map((s) => s.impersonated)).toEqual([true])
    })

    it('an address that is not an IP (a garbled proxy header) is not stored', async () => {
      const user = newUser()
      const browser = new Browser(kit, { ipAddress: 'unknown, 10.0.0.1' })
      await browser.request((s) => s.signIn(user))
      expect((await kit.listSessions(user)).map((s) => s.ipAddress)).toEqual([''])
    })

    it('revoke all kills every session, impersonated ones unless asked', async () => {
      const user = newUser()
      const a = await signedIn(user)
      const b = await signedIn(user)
      const admin = new Browser(kit)
      await admin.request((s) => s.signIn(user, { impersonator: 'admin-2' }))
      expect(await kit.revokeAllSessions(user, { includeImpersonated: false })).toBe(2)
      expect(await alive(a.cookie)).toBe(false)
      expect(await alive(b.cookie)).toBe(false)
      expect(await alive(admin.cookie)).toBe(true)
      expect(await kit.revokeAllSessions(user)).toBe(1)
      expect(await alive(admin.cookie)).toBe(false)
      expect(await kit.listSessions(user)).toEqual([])
    })

    it('caps sessions per user: the least recently active is evicted at sign-in', async () => {
      const k = kitFor({ maxSessionsPerUser: 3 })
      const user = newUser()
      const browsers: Browser[] = []
      for (let i = 0; i < 3; i++) {
        browsers.push(await signedIn(user, k))
        await sleep(5)
      }
      // Make the first one the most recently active, so the second is the least.
      await sleep(20)
      const ref0 = refFromToken(browsers[0]!.cookie!)
      await backend.store.load(ref0, { ...k.options.policy, touchIntervalMs: 1 }, undefined)
      const fourth = await signedIn(user, k)
      expect(await alive(browsers[1]!.cookie, k)).toBe(false)
      for (const b of [browsers[0]!, browsers[2]!, fourth]) expect(await alive(b.cookie, k)).toBe(true)
      expect(await k.listSessions(user)).toHaveLength(3)
    })

    it('revoking with another user id is false and touches nothing', async () => {
      const victim = newUser()
      const attacker = newUser()
      const v = await signedIn(victim)
      const a = await signedIn(attacker)
      const id = refFromToken(v.cookie!).id
      expect(await kit.revokeSession(attacker, id)).toBe(false)
      expect(await a.request((s) => s.revokeSession(id))).toBe(false)
      expect(await a.request((s) => s.revokeOtherSessions())).toBe(0)
      expect(await alive(v.cookie)).toBe(true)
      expect((await kit.listSessions(victim)).map((s) => s.id)).toEqual([id])
    })

    it('an anonymous session lists nothing and revokes nothing', async () => {
      const browser = new Browser(kit)
      await browser.request(async (s) => {
        expect(await s.listSessions()).toEqual([])
        expect(await s.revokeOtherSessions()).toBe(0)
        expect(await s.revokeSession('000.' + '0'.repeat(27))).toBe(false)
      })
    })
  })

  describe('strict mode', () => {
    it('a well-formed never-issued token is no session and never becomes one', async () => {
      const forged = `abc.${Buffer.alloc(32, 7).toString('base64url')}`
      const browser = new Browser(kit, { cookie: forged })
      const req = await browser.open()
      expect(req.session.isNew).toBe(true)
      // Not cleared (it may be racing a sign-in in another tab)...
      expect(req.binding.setCookies).toEqual([])
      req.session.set('x', 1)
      await req.commit()
      // ...but a write mints a different token.
      expect(browser.cookie).toBeDefined()
      expect(browser.cookie).not.toBe(forged)
      expect(await backend.store.inspect(refFromToken(forged))).toBeUndefined()
      expect(await alive(forged)).toBe(false)
      expect(await alive(browser.cookie)).toBe(true)
    })
  })

  it('every key the suite wrote has a TTL', async () => {
    // Make sure every kind of key exists.
    await signedIn(newUser())
    await new Browser(kit).request((s) => s.set('a', 1))
    const keys = await backend.keys()
    if (backend.redis === undefined) {
      expect(keys).toEqual([])
      return
    }
    expect(keys.some((k) => k.key.includes('}:u:'))).toBe(true)
    expect(keys.some((k) => k.key.includes('}:s:'))).toBe(true)
    const noTtl = keys.filter((k) => !(k.pttl > 0))
    expect(noTtl).toEqual([])
  })

  it('errors are SessionkitErrors with codes', async () => {
    const browser = new Browser(kit)
    await browser.request((s) => {
      expect(() => s.set('f', (() => 1) as never)).toThrow(SessionkitError)
    })
    expect(browser.cookie).toBeUndefined()
  })

  it('serves a session read again from memory exactly when the near cache is on', async () => {
    const browser = await signedIn(newUser())
    const hits = (): number | undefined => backend.redis?.nearCacheStats()?.hits
    const before = hits()
    // The first load fills the cache once its index check is back: read until one is served from memory.
    for (let i = 0; i < 500 && hits() === before; i++) {
      expect(await alive(browser.cookie)).toBe(true)
      if (!nearCache) break
      await sleep(2)
    }
    if (nearCache) expect(hits()).toBeGreaterThan(before!)
    else expect(backend.redis?.nearCacheStats()).toBeUndefined()
  })
})
