/**
 * Background access to a user's sessions (GitLab's `list_sessions` / `sessions_from_ids`): `kit.sessionsOf()` and
 * `kit.readSession()` on all five backends. One store call each, nothing touched, the same checks as a load, and
 * read-only snapshots.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSessionkit,
  InvalidArgumentError,
  InvalidUserIdError,
  parseSessionId,
  type DeviceParser,
  type Sessionkit,
} from '../../src/index.js'
import { refFromToken, tagForUser } from '../../src/core/token.js'
import { toUserRef } from '../../src/core/user-id.js'
import { ALL_BACKENDS, instrumentStore, openBackend, type Backend } from '../helpers/backends.js'
import { Browser, sleep } from '../helpers/browser.js'

const deviceParser: DeviceParser = (ua) => ({
  browser: ua.split('/')[0] ?? '',
  os: 'TestOS',
  deviceType: 'desktop',
  deviceName: '',
})

let seq = 0
function newUser(): string {
  return `bg-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 6)}`
}

describe.each(ALL_BACKENDS)('background access: %s', (name) => {
  let backend: Backend
  let kit: Sessionkit

  beforeAll(async () => {
    backend = await openBackend(name)
    kit = createSessionkit({
      store: backend.store,
      cookie: { secure: false },
      deviceParser,
      touchIntervalMs: 1,
    })
  })
  afterAll(async () => {
    await backend.close()
  })

  async function signedIn(user: string, ua: string, ip = '198.51.100.4'): Promise<Browser> {
    const browser = new Browser(kit, { userAgent: ua, ipAddress: ip })
    await browser.request((s) => s.signIn(user))
    return browser
  }

  it("sessionsOf returns each live session's id, metadata and data, newest sign-in first, in one store call", async () => {
    const user = newUser()
    const laptop = await signedIn(user, 'Firefox/1', '198.51.100.1')
    await laptop.request((s) => {
      s.set('cart', { items: [1, 2] })
      s.namespace('saml').set('signed_in_at', 1700000000)
    })
    await sleep(5)
    const phone = await signedIn(user, 'Safari/17', '198.51.100.2')
    await phone.request((s) => s.set('theme', 'dark'))
    await signedIn(newUser(), 'Other/1') // someone else's session is never listed

    const counted = instrumentStore(backend.store)
    const countedKit = createSessionkit({ store: counted.store, cookie: { secure: false } })
    const sessions = await countedKit.sessionsOf(user)
    expect(counted.calls).toEqual(['snapshot'])
    expect(sessions.map((s) => s.id)).toEqual([
      refFromToken(phone.cookie!).id,
      refFromToken(laptop.cookie!).id,
    ])
    const [newest, oldest] = sessions
    expect(newest).toMatchObject({
      userId: user,
      browser: 'Safari',
      os: 'TestOS',
      ipAddress: '198.51.100.2',
      impersonator: undefined,
      rememberMe: false,
      elevated: false,
    })
    expect(newest!.data).toEqual({ theme: 'dark' })
    expect(oldest!.data).toEqual({ cart: { items: [1, 2] } })
    expect(oldest!.namespaces).toEqual({ saml: { signed_in_at: 1700000000 } })
    expect(oldest!.signedInAt!.getTime()).toBeLessThan(newest!.signedInAt!.getTime())
    expect(oldest!.expiresAt.getTime()).toBeGreaterThan(Date.now())
    // Never the token.
    expect(JSON.stringify(sessions)).not.toContain(laptop.cookie!)
  })

  it('reads without touching: no TTL slide, no last-seen update', async () => {
    const user = newUser()
    const browser = await signedIn(user, 'Chrome/1')
    const ref = refFromToken(browser.cookie!)
    const before = await backend.store.inspect(ref)
    await sleep(20)
    await kit.sessionsOf(user)
    await kit.readSession(ref.id)
    const after = await backend.store.inspect(ref)
    expect(new Map(after!.fields).get('_ls')).toBe(new Map(before!.fields).get('_ls'))
    expect(after!.ttlMs).toBeLessThan(before!.ttlMs)
  })

  it('snapshots are read-only copies: changing one fails and changes nothing stored', async () => {
    const user = newUser()
    const browser = await signedIn(user, 'Chrome/1')
    await browser.request((s) => s.set('cart', { items: [1] }))
    const [snapshot] = await kit.sessionsOf(user)
    expect(Object.isFrozen(snapshot)).toBe(true)
    expect(() => {
      ;(snapshot!.data.cart as { items: number[] }).items.push(2)
    }).toThrow(TypeError)
    expect(() => {
      ;(snapshot!.data as Record<string, unknown>).cart = 'x'
    }).toThrow(TypeError)
    expect(await browser.request((s) => s.get('cart'))).toEqual({ items: [1] })
  })

  it('readSession reads one session by id: signed-in or anonymous; undefined once it is gone', async () => {
    const user = newUser()
    const browser = await signedIn(user, 'Edge/1')
    await browser.request((s) => s.set('step', 3))
    const id = refFromToken(browser.cookie!).id
    const snapshot = await kit.readSession(id)
    expect(snapshot).toMatchObject({ id, userId: user, browser: 'Edge', data: { step: 3 } })

    const anonymous = new Browser(kit)
    await anonymous.request((s) => s.set('cart', [7]))
    const anon = await kit.readSession(refFromToken(anonymous.cookie!).id)
    expect(anon).toMatchObject({ userId: undefined, signedInAt: undefined, data: { cart: [7] } })

    await browser.request((s) => s.signOut())
    expect(await kit.readSession(id)).toBeUndefined()
    // Well-formed, never issued.
    expect(await kit.readSession(`${tagForUser(user)}.${'A'.repeat(27)}`)).toBeUndefined()
  })

  it('refuses malformed ids and user ids with typed errors, and exports the id parser', async () => {
    await expect(kit.readSession('not-an-id')).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(kit.readSession('abc.123')).rejects.toMatchObject({
      code: 'SESSIONKIT_INVALID_ARGUMENT',
      argument: 'publicId',
    })
    await expect(kit.sessionsOf('')).rejects.toBeInstanceOf(InvalidUserIdError)
    expect(parseSessionId('abc.' + 'x'.repeat(27))).toEqual({
      id: 'abc.' + 'x'.repeat(27),
      tag: 'abc',
      hash: 'x'.repeat(27),
    })
    expect(parseSessionId('abc.' + 'x'.repeat(26))).toBeUndefined()
    expect(parseSessionId('ABC.' + 'x'.repeat(27))).toBeUndefined()
    expect(parseSessionId(42)).toBeUndefined()
  })

  it('a user with no sessions has none; revoked and signed-out sessions are left out', async () => {
    const user = newUser()
    expect(await kit.sessionsOf(user)).toEqual([])
    const a = await signedIn(user, 'A/1')
    const b = await signedIn(user, 'B/1')
    await kit.revokeSession(user, refFromToken(a.cookie!).id)
    expect((await kit.sessionsOf(user)).map((s) => s.id)).toEqual([refFromToken(b.cookie!).id])
  })

  it('leaves out sessions past their idle deadline', async () => {
    const short = createSessionkit({
      store: backend.store,
      cookie: { secure: false },
      deviceParser,
      idleTimeoutMs: 1500,
      touchIntervalMs: 100,
    })
    const user = newUser()
    const browser = new Browser(short)
    await browser.request((s) => s.signIn(user))
    expect(await short.sessionsOf(user)).toHaveLength(1)
    await sleep(1700)
    expect(await short.sessionsOf(user)).toEqual([])
    expect(await short.readSession(refFromToken(browser.cookie!).id)).toBeUndefined()
  })
})

describe.each(ALL_BACKENDS.filter((n) => n !== 'memory'))(
  'background access, with tampered data: %s',
  (name) => {
    let backend: Backend
    let kit: Sessionkit

    beforeAll(async () => {
      backend = await openBackend(name)
      kit = createSessionkit({ store: backend.store, cookie: { secure: false }, deviceParser })
    })
    afterAll(async () => {
      await backend.close()
    })

    it('applies the checks of a load: a session a request would refuse is never shown to a job', async () => {
      const user = newUser()
      const good = new Browser(kit)
      await good.request((s) => s.signIn(user))
      const bad = new Browser(kit)
      await bad.request((s) => s.signIn(user))
      const key = backend.redis!.keys.session(refFromToken(bad.cookie!))
      // Not JSON sessionkit could have written: a request treats the session as absent, so does a job.
      await backend.send(key, ['HSET', key, 'd:x', '{"__proto__":{"polluted":1}}'])
      expect((await kit.sessionsOf(user)).map((s) => s.id)).toEqual([refFromToken(good.cookie!).id])
      expect(await kit.readSession(refFromToken(bad.cookie!).id)).toBeUndefined()
      expect((await new Browser(kit, { cookie: bad.cookie }).open()).session.isNew).toBe(true)
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    })

    it('leaves out a session whose absolute deadline passed, and one that names another owner', async () => {
      const user = newUser()
      const browser = new Browser(kit)
      await browser.request((s) => s.signIn(user))
      const key = backend.redis!.keys.session(refFromToken(browser.cookie!))
      await backend.send(key, ['HSET', key, '_ab', String(Date.now() - 1000)])
      expect(await kit.sessionsOf(user)).toEqual([])
      expect(await kit.readSession(refFromToken(browser.cookie!).id)).toBeUndefined()

      const other = new Browser(kit)
      await other.request((s) => s.signIn(user))
      const otherKey = backend.redis!.keys.session(refFromToken(other.cookie!))
      await backend.send(otherKey, ['HSET', otherKey, '_u', toUserRef(newUser()).encoded])
      expect(await kit.sessionsOf(user)).toEqual([])
    })
  },
)
