/**
 * Per-address limits on all five backends: the anonymous sessions one address may create (GitLab's
 * `AnonymousSession`, `maxAnonymousSessionsPerIp`) and the distinct addresses one user may use (GitLab's
 * `UniqueIpsLimiter`, `uniqueIpsPerUser`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSessionkit,
  InvalidArgumentError,
  InvalidOptionsError,
  MemoryStore,
  TooManyAnonymousSessionsError,
  TooManyIpsError,
  type Sessionkit,
  type SessionkitOptions,
} from '../../src/index.js'
import { addressBucket } from '../../src/core/address.js'
import { refFromToken } from '../../src/core/token.js'
import { ALL_BACKENDS, instrumentStore, openBackend, type Backend } from '../helpers/backends.js'
import { Browser, sleep } from '../helpers/browser.js'

let seq = 0
function newUser(): string {
  return `ips-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 6)}`
}

/** A fresh documentation-range address, so runs and backends never share a count. */
function newIp(): string {
  return `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${++seq % 250}`
}

describe.each(ALL_BACKENDS)('per-address limits: %s', (name) => {
  let backend: Backend
  const kitWith = (options: Omit<SessionkitOptions, 'store'>): Sessionkit =>
    createSessionkit({ store: backend.store, cookie: { secure: false }, deviceParser: false, ...options })

  beforeAll(async () => {
    backend = await openBackend(name)
  })
  afterAll(async () => {
    await backend.close()
  })

  /** One visitor from `ip` storing something: a new anonymous session. */
  async function visit(kit: Sessionkit, ip: string): Promise<Browser> {
    const browser = new Browser(kit, { ipAddress: ip })
    await browser.request((s) => s.set('cart', [1]))
    return browser
  }

  describe('anonymous sessions per address', () => {
    it('refuses the one past the cap with a typed 429, storing nothing and withdrawing its cookie', async () => {
      const kit = kitWith({ maxAnonymousSessionsPerIp: 3 })
      const ip = newIp()
      for (let i = 0; i < 3; i++) expect((await visit(kit, ip)).cookie).toBeDefined()
      expect(await kit.anonymousSessionsFrom(ip)).toBe(3)
      const refused = new Browser(kit, { ipAddress: ip })
      const req = await refused.open()
      req.session.set('cart', [1])
      const error: unknown = await req.commit().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TooManyAnonymousSessionsError)
      expect(error).toMatchObject({
        code: 'SESSIONKIT_TOO_MANY_ANONYMOUS_SESSIONS',
        statusCode: 429,
        ipAddress: ip,
        limit: 3,
      })
      expect(refused.cookie).toBeUndefined()
      expect(req.binding.setCookies).toEqual([])
      // Not counted either.
      expect(await kit.anonymousSessionsFrom(ip)).toBe(3)
      // Another address is not affected, nor is a visitor who already has a session.
      expect((await visit(kit, newIp())).cookie).toBeDefined()
    })

    it('a visitor with a session keeps writing to it: only new sessions are counted', async () => {
      const kit = kitWith({ maxAnonymousSessionsPerIp: 1 })
      const ip = newIp()
      const browser = await visit(kit, ip)
      for (let i = 0; i < 3; i++) await browser.request((s) => s.set('n', i))
      expect(await browser.request((s) => s.get('n'))).toBe(2)
      expect(await kit.anonymousSessionsFrom(ip)).toBe(1)
    })

    it('is cleared by a sign-in from the address (as GitLab does), not by an impersonation', async () => {
      const kit = kitWith({ maxAnonymousSessionsPerIp: 2 })
      const ip = newIp()
      await visit(kit, ip)
      const visitor = await visit(kit, ip)
      await expect(visit(kit, ip)).rejects.toBeInstanceOf(TooManyAnonymousSessionsError)
      await new Browser(kit, { ipAddress: ip }).request((s) => s.signIn(newUser(), { impersonator: 'adm' }))
      expect(await kit.anonymousSessionsFrom(ip)).toBe(2)
      await visitor.request((s) => s.signIn(newUser()))
      expect(await kit.anonymousSessionsFrom(ip)).toBe(0)
      expect((await visit(kit, ip)).cookie).toBeDefined()
    })

    it('counts an IPv6 client by its /64 network, and an IPv4-mapped address as the IPv4 one', async () => {
      const kit = kitWith({ maxAnonymousSessionsPerIp: 2 })
      const net = `2001:db8:${(++seq % 65535).toString(16)}:${Math.floor(Math.random() * 65535).toString(16)}`
      await visit(kit, `${net}::1`)
      await visit(kit, `${net}:0:0:0:2`)
      await expect(visit(kit, `${net}:abcd::3`)).rejects.toBeInstanceOf(TooManyAnonymousSessionsError)
      expect(await kit.anonymousSessionsFrom(`${net}::ffff`)).toBe(2)
      const ip = newIp()
      await visit(kit, `::ffff:${ip}`)
      expect(await kit.anonymousSessionsFrom(ip)).toBe(1)
    })

    it('Infinity counts without refusing; without the option nothing is counted and no store call is made', async () => {
      const counting = kitWith({ maxAnonymousSessionsPerIp: Infinity })
      const ip = newIp()
      for (let i = 0; i < 4; i++) await visit(counting, ip)
      expect(await counting.anonymousSessionsFrom(ip)).toBe(4)

      const counted = instrumentStore(backend.store)
      const plain = createSessionkit({ store: counted.store, cookie: { secure: false }, deviceParser: false })
      const other = newIp()
      const browser = await visit(plain, other)
      await browser.request((s) => s.signIn(newUser()))
      expect(counted.calls).toEqual(['create', 'load', 'claim', 'create'])
      expect(await plain.anonymousSessionsFrom(other)).toBe(0)
    })

    it('refuses what is not an address, and bad caps', async () => {
      const kit = kitWith({})
      await expect(kit.anonymousSessionsFrom('localhost')).rejects.toBeInstanceOf(InvalidArgumentError)
      await expect(kit.anonymousSessionsFrom('1.2.3.4:80')).rejects.toBeInstanceOf(InvalidArgumentError)
      for (const max of [0, -1, 1.5, '3', Number.NaN]) {
        expect(() => kitWith({ maxAnonymousSessionsPerIp: max as number })).toThrow(InvalidOptionsError)
      }
    })
  })

  describe('distinct addresses per user', () => {
    const limit = { max: 2, windowMs: 60_000 }

    it('refuses a sign-in from one address too many with a typed 429; the known ones keep working', async () => {
      const kit = kitWith({ uniqueIpsPerUser: limit })
      const user = newUser()
      const [a, b, c] = [newIp(), newIp(), newIp()]
      const fromA = new Browser(kit, { ipAddress: a })
      await fromA.request((s) => s.signIn(user))
      await new Browser(kit, { ipAddress: b }).request((s) => s.signIn(user))
      const fromC = new Browser(kit, { ipAddress: c })
      await fromC.request((s) => s.set('cart', 1))
      const anonymous = fromC.cookie
      const error: unknown = await fromC.request((s) => s.signIn(user)).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TooManyIpsError)
      expect(error).toMatchObject({
        code: 'SESSIONKIT_TOO_MANY_IPS',
        statusCode: 429,
        userId: user,
        limit: 2,
      })
      // Nothing stored for C; its anonymous session is over and its cookie cleared.
      expect(fromC.cookie).toBeUndefined()
      expect((await new Browser(kit, { cookie: anonymous }).open()).session.isNew).toBe(true)
      expect((await kit.listSessions(user)).map((s) => s.ipAddress).sort()).toEqual([a, b].sort())
      // A third sign-in from A (a known address) is fine.
      await new Browser(kit, { ipAddress: a }).request((s) => s.signIn(user))
      expect(await fromA.request((s) => s.userId)).toBe(user)
    })

    it('refuses a request of a signed-in session from one address too many, changing nothing', async () => {
      const kit = kitWith({ uniqueIpsPerUser: limit })
      const user = newUser()
      const [a, b, c] = [newIp(), newIp(), newIp()]
      const browser = new Browser(kit, { ipAddress: a })
      await browser.request((s) => s.signIn(user))
      await new Browser(kit, { ipAddress: b }).request((s) => s.signIn(user))
      const moved = new Browser(kit, { ipAddress: c, cookie: browser.cookie })
      const error: unknown = await moved.open().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TooManyIpsError)
      expect(error).toMatchObject({ userId: user, limit: 2 })
      // The session itself is fine from its own address, and still records A.
      expect(await browser.request((s) => s.userId)).toBe(user)
      const listed = await kit.listSessions(user)
      expect(listed.find((s) => s.id === refFromToken(browser.cookie!).id)?.ipAddress).toBe(a)
      // An address already counted may move between the user's sessions.
      const swapped = new Browser(kit, { ipAddress: b, cookie: browser.cookie })
      expect(await swapped.request((s) => s.userId)).toBe(user)
    })

    it('lets a new address in once the window slid past the oldest', async () => {
      const kit = kitWith({ uniqueIpsPerUser: { max: 1, windowMs: 1500 }, touchIntervalMs: 100 })
      const user = newUser()
      const first = new Browser(kit, { ipAddress: newIp() })
      await first.request((s) => s.signIn(user))
      const later = new Browser(kit, { ipAddress: newIp() })
      await expect(later.request((s) => s.signIn(user))).rejects.toBeInstanceOf(TooManyIpsError)
      await sleep(1700)
      await later.request((s) => s.signIn(user))
      expect(await later.request((s) => s.userId)).toBe(user)
    })

    it('does not limit impersonation, and is off by default', async () => {
      const kit = kitWith({ uniqueIpsPerUser: { max: 1, windowMs: 60_000 } })
      const user = newUser()
      await new Browser(kit, { ipAddress: newIp() }).request((s) => s.signIn(user))
      const admin = new Browser(kit, { ipAddress: newIp() })
      await admin.request((s) => s.signIn(user, { impersonator: 'admin' }))
      expect(await admin.request((s) => s.userId)).toBe(user)

      const open = kitWith({})
      const other = newUser()
      for (let i = 0; i < 5; i++)
        await new Browser(open, { ipAddress: newIp() }).request((s) => s.signIn(other))
      expect(await open.listSessions(other)).toHaveLength(5)
    })

    it('refuses bad options', () => {
      for (const bad of [
        { max: 0, windowMs: 1000 },
        { max: 2 },
        { max: 2, windowMs: 0 },
        { max: 2, windowMs: 1, x: 1 },
      ]) {
        expect(() => kitWith({ uniqueIpsPerUser: bad as never })).toThrow(InvalidOptionsError)
      }
    })
  })

  it('every key the limits write has a TTL', async () => {
    const kit = kitWith({ maxAnonymousSessionsPerIp: 5, uniqueIpsPerUser: { max: 5, windowMs: 60_000 } })
    const ip = newIp()
    await visit(kit, ip)
    await new Browser(kit, { ipAddress: newIp() }).request((s) => s.signIn(newUser()))
    await visit(kit, `2001:db8:77::${(++seq).toString(16)}`)
    const keys = await backend.keys()
    if (backend.redis === undefined) {
      expect(keys).toEqual([])
      return
    }
    expect(keys.some((k) => k.key.includes(`{ip:${ip}}:a`))).toBe(true)
    expect(keys.some((k) => k.key.includes('::/64}:a'))).toBe(true)
    expect(keys.some((k) => k.key.includes('}:i:'))).toBe(true)
    expect(keys.filter((k) => !(k.pttl > 0))).toEqual([])
    for (const k of keys.filter((k) => k.key.endsWith(':a')))
      expect(k.pttl).toBeLessThanOrEqual(24 * 3600_000)
  })
})

describe('addressBucket', () => {
  it('keeps IPv4, unwraps IPv4-mapped IPv6, and cuts IPv6 to its /64', () => {
    expect(addressBucket('203.0.113.5')).toBe('203.0.113.5')
    expect(addressBucket('::ffff:203.0.113.5')).toBe('203.0.113.5')
    expect(addressBucket('::FFFF:203.0.113.5')).toBe('203.0.113.5')
    expect(addressBucket('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(addressBucket('2001:0DB8:0000:0001:ffff::1')).toBe('2001:db8:0:1::/64')
    expect(addressBucket('2001:db8:0:1:2:3:4:5')).toBe('2001:db8:0:1::/64')
    expect(addressBucket('::1')).toBe('0:0:0:0::/64')
    expect(addressBucket('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
    expect(addressBucket('64:ff9b::203.0.113.5')).toBe('64:ff9b:0:0::/64')
    for (const bad of ['', 'localhost', '1.2.3', '1.2.3.4:80', '::g', '{x}'])
      expect(addressBucket(bad)).toBeUndefined()
  })

  it('the memory store forgets a count after its window', async () => {
    let now = 1_000_000
    const store = new MemoryStore({ now: () => now, sweepIntervalMs: 0 })
    await store.countAnonymous('192.0.2.1', { max: undefined, windowMs: 1000 })
    expect(await store.anonymousCount('192.0.2.1')).toBe(1)
    now += 1000
    expect(await store.anonymousCount('192.0.2.1')).toBe(0)
  })
})
