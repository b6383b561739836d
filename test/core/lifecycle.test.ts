/**
 * The lifecycle's promises under races, on the memory store, a single Redis and a Cluster:
 * - a save that races a sign-in or rotation is carried to the new session (never a silent lost write), whichever
 *   step of the rotation it lands between; one racing a sign-out or revocation writes nothing;
 * - a sign-in never carries data across users, and always starts sessionkit's own namespace (the CSRF token)
 *   afresh;
 * - a session `set()` accepts is never refused at the next load because of long metadata;
 * - a user's index never outlives its last session.
 */
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionkit, type Sessionkit } from '../../src/index.js'
import { FORWARD_WINDOW_MS, type SessionStore } from '../../src/core/store.js'
import { refFromToken } from '../../src/core/token.js'
import { MAX_USER_ID_LENGTH, toUserRef } from '../../src/core/user-id.js'
import { CORE_BACKENDS, instrumentStore, openBackend, type Backend } from '../helpers/backends.js'
import { Browser } from '../helpers/browser.js'

let seq = 0
function newUser(): string {
  return `life-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 6)}`
}

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => undefined
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { opened, open }
}

it('the Redis scripts and the memory store forward saves for the same window', () => {
  const lib = readFileSync(new URL('../../src/stores/redis/scripts/lib.lua', import.meta.url), 'utf8')
  expect(lib).toContain(`local FORWARD_MS = ${FORWARD_WINDOW_MS}`)
})

describe.each(CORE_BACKENDS)('lifecycle: %s', (name) => {
  let backend: Backend
  let kit: Sessionkit
  const kitOn = (store: SessionStore): Sessionkit =>
    createSessionkit({ store, cookie: { secure: false }, deviceParser: false })

  beforeAll(async () => {
    backend = await openBackend(name)
    kit = kitOn(backend.store)
  })
  afterAll(async () => {
    await backend.close()
  })

  describe('a save racing a sign-in or rotation', () => {
    it('is carried to the new session when it lands after the claim (anonymous cart, then sign-in)', async () => {
      const browser = new Browser(kit)
      await browser.request((s) => s.set('cart', [1]))
      const late = await browser.open()
      await browser.request((s) => s.signIn(newUser()))
      late.session.set('late', 'write')
      await late.commit()
      expect(await browser.request((s) => [s.get('cart'), s.get('late')])).toEqual([[1], 'write'])
    })

    it('is carried when it lands between the claim and the create (held, then merged)', async () => {
      const create = gate()
      const claimed = gate()
      let claiming = false
      const paused = instrumentStore(backend.store, async (method, _args, call) => {
        if (method === 'claim') {
          claiming = true
          const result = await call()
          claimed.open()
          return result
        }
        // Only the sign-in's create waits (not the one that stored the cart).
        if (method === 'create' && claiming) await create.opened
        return call()
      })
      const slowKit = kitOn(paused.store)
      const browser = new Browser(slowKit)
      await browser.request((s) => s.set('cart', [1]))
      const late = await browser.open()
      const signingIn = browser.request((s) => s.signIn(newUser()))
      await claimed.opened
      late.session.set('late', 'write')
      late.session.delete('cart')
      await late.commit()
      create.open()
      await signingIn
      expect(await browser.request((s) => [s.get('cart') ?? null, s.get('late')])).toEqual([null, 'write'])
    })

    it('follows two rotations in a row', async () => {
      const browser = new Browser(kit)
      await browser.request((s) => s.signIn(newUser()))
      const late = await browser.open()
      await browser.request((s) => s.rotate())
      await browser.request((s) => s.rotate())
      late.session.set('late', 'write')
      await late.commit()
      expect(await browser.request((s) => s.get('late'))).toBe('write')
    })

    it('is dropped (never resurrects) when the session was signed out or revoked instead', async () => {
      const user = newUser()
      const browser = new Browser(kit)
      await browser.request((s) => s.signIn(user))
      const token = browser.cookie!
      const late = await browser.open()
      await kit.revokeAllSessions(user)
      late.session.set('late', 'write')
      await late.commit()
      expect((await new Browser(kit, { cookie: token }).open()).session.isNew).toBe(true)
      expect(await kit.listSessions(user)).toEqual([])
    })

    it("is not carried into another user's session when another user signs in on the same cookie", async () => {
      const browser = new Browser(kit)
      await browser.request((s) => s.signIn(newUser()))
      const late = await browser.open()
      await browser.request((s) => s.signIn(newUser()))
      late.session.set('secret', 'of the first user')
      await late.commit()
      expect(await browser.request((s) => s.get('secret'))).toBeUndefined()
    })
  })

  describe('what a sign-in keeps', () => {
    it("another user signing in on the same session inherits none of the previous user's data", async () => {
      const browser = new Browser(kit)
      await browser.request(async (s) => {
        await s.signIn(newUser())
        s.set('mfa_verified', true)
        s.namespace('wizard').set('step', 3)
      })
      const second = newUser()
      await browser.request((s) => s.signIn(second))
      expect(
        await browser.request((s) => ({
          user: s.userId,
          keys: [...s.keys()],
          ns: s.namespace('wizard').toObject(),
        })),
      ).toEqual({ user: second, keys: [], ns: {} })
    })

    it("an anonymous visitor signing in keeps their data, but not sessionkit's own namespace (the CSRF token)", async () => {
      const browser = new Browser(kit)
      await browser.request((s) => {
        s.set('cart', [42])
        s.namespace('sessionkit').set('csrf', 'pre-sign-in-token')
      })
      await browser.request((s) => s.signIn(newUser()))
      expect(
        await browser.request((s) => ({
          cart: s.get('cart'),
          csrf: s.namespace('sessionkit').get('csrf') ?? null,
        })),
      ).toEqual({ cart: [42], csrf: null })
    })

    it('the same user signing in again keeps the data and gets a new CSRF token', async () => {
      const user = newUser()
      const browser = new Browser(kit)
      await browser.request(async (s) => {
        await s.signIn(user)
        s.set('theme', 'dark')
        s.namespace('sessionkit').set('csrf', 'first')
      })
      await browser.request((s) => s.signIn(user))
      expect(
        await browser.request((s) => ({
          theme: s.get('theme'),
          csrf: s.namespace('sessionkit').get('csrf') ?? null,
        })),
      ).toEqual({ theme: 'dark', csrf: null })
    })
  })

  it('a session at maxSessionBytes with the longest user and impersonator ids still loads', async () => {
    const maxSessionBytes = 4096
    const k = createSessionkit({
      store: backend.store,
      cookie: { secure: false },
      deviceParser: false,
      maxSessionBytes,
    })
    // Every UTF-16 unit three bytes of UTF-8, each percent-encoded: the longest a stored id can be.
    const longest = 'ठ'.repeat(MAX_USER_ID_LENGTH)
    const browser = new Browser(k)
    await browser.request(async (s) => {
      await s.signIn(longest, { impersonator: longest })
      const room = maxSessionBytes - Buffer.byteLength('d:big') - 2
      s.set('big', 'x'.repeat(room))
    })
    const req = await browser.open()
    expect(req.session.userId).toBe(longest)
    expect(req.session.impersonator).toBe(longest)
    expect(req.session.get<string>('big')?.length).toBeGreaterThan(4000)
  })
})

describe.each(CORE_BACKENDS.filter((name) => name !== 'memory'))('user index lifetime: %s', (name) => {
  let backend: Backend
  beforeAll(async () => {
    backend = await openBackend(name)
  })
  afterAll(async () => {
    await backend.close()
  })

  it("a user's index never outlives their latest session, and goes with the last one", async () => {
    const user = newUser()
    const index = backend.redis!.keys.userIndex(toUserRef(user))
    const kitWith = (idleTimeoutMs: number): Sessionkit =>
      createSessionkit({
        store: backend.store,
        cookie: { secure: false },
        deviceParser: false,
        idleTimeoutMs,
        touchIntervalMs: 1_000,
      })
    const short = new Browser(kitWith(60_000))
    await short.request((s) => s.signIn(user))
    const long = new Browser(kitWith(3_600_000))
    await long.request((s) => s.signIn(user))
    const expiry = async (key: string): Promise<number> =>
      Number(await backend.send(key, ['PEXPIRETIME', key]))
    const shortKey = backend.redis!.keys.session(refFromToken(short.cookie!))
    const longKey = backend.redis!.keys.session(refFromToken(long.cookie!))
    expect(await expiry(index)).toBe(await expiry(longKey))
    // The longer-lived session leaves: the index now lives exactly as long as the one that is left.
    await long.request((s) => s.signOut())
    expect(await expiry(index)).toBe(await expiry(shortKey))
    await short.request((s) => s.signOut())
    expect(Number(await backend.send(index, ['EXISTS', index]))).toBe(0)
  })
})
