/**
 * Unknown sign-in alerts (GitLab's `KnownSignIn`) on all five backends: a sign-in is from a known device when its
 * IP is one of the user's other live sessions' IPs (answered by the sign-in's own create call) or the browser
 * carries a valid known-device cookie; otherwise `onUnknownSignIn` and the `unknownSignIn` event fire.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSessionkit,
  InvalidOptionsError,
  type DeviceParser,
  type Sessionkit,
  type UnknownSignIn,
} from '../../src/index.js'
import { resolveCookieOptions } from '../../src/core/cookie.js'
import { KnownDeviceCookie } from '../../src/core/known-device.js'
import { refFromToken } from '../../src/core/token.js'
import { toUserRef } from '../../src/core/user-id.js'
import { ALL_BACKENDS, instrumentStore, openBackend, type Backend } from '../helpers/backends.js'
import { Browser } from '../helpers/browser.js'

const SECRET = 'a test secret of at least 32 bytes, not for production'
const deviceParser: DeviceParser = (ua) => ({
  browser: ua.split('/')[0] ?? '',
  os: 'TestOS',
  deviceType: 'desktop',
  deviceName: '',
})

let seq = 0
function newUser(): string {
  return `known-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 6)}`
}

describe.each(ALL_BACKENDS)('unknown sign-in: %s', (name) => {
  let backend: Backend
  let kit: Sessionkit
  const alerts: UnknownSignIn[] = []
  const events: UnknownSignIn[] = []

  beforeAll(async () => {
    backend = await openBackend(name)
    kit = createSessionkit({
      store: backend.store,
      cookie: { secure: false },
      deviceParser,
      knownDeviceCookie: { secret: SECRET },
      onUnknownSignIn: (signIn) => {
        alerts.push(signIn)
      },
    })
    kit.on('unknownSignIn', (signIn) => events.push(signIn))
  })
  afterAll(async () => {
    await backend.close()
  })

  /** Signs `user` in on `browser` and returns the alerts that sign-in raised. */
  async function signIn(browser: Browser, user: string, impersonator?: string): Promise<UnknownSignIn[]> {
    const before = alerts.length
    await browser.request((s) => s.signIn(user, impersonator === undefined ? {} : { impersonator }))
    return alerts.slice(before)
  }

  it("a user's first sign-in is unknown: the alert names the user, device, IP, time and new session", async () => {
    const user = newUser()
    const browser = new Browser(kit, { userAgent: 'Firefox/1', ipAddress: '203.0.113.10' })
    const before = Date.now()
    const raised = await signIn(browser, user)
    expect(raised).toHaveLength(1)
    const alert = raised[0]!
    expect(alert).toMatchObject({
      userId: user,
      ipAddress: '203.0.113.10',
      publicId: refFromToken(browser.cookie!).id,
      device: { browser: 'Firefox', os: 'TestOS', deviceType: 'desktop', deviceName: '' },
    })
    expect(alert.signedInAt.getTime()).toBeGreaterThanOrEqual(before - 1000)
    expect(events.at(-1)).toEqual(alert)
    expect(JSON.stringify(alert)).not.toContain(browser.cookie!)
    // The known-device cookie is set at the sign-in, for 14 days.
    const set = browser.otherCookies.get('sid_known')
    expect(set).toMatch(/^[0-9a-z]+\.[A-Za-z0-9_-]{43}$/)
  })

  it('known by IP: a new browser from the IP of a live session of the user raises nothing', async () => {
    const user = newUser()
    await signIn(new Browser(kit, { ipAddress: '203.0.113.20' }), user)
    expect(await signIn(new Browser(kit, { ipAddress: '203.0.113.20' }), user)).toEqual([])
    expect(await signIn(new Browser(kit, { ipAddress: '203.0.113.21' }), user)).toHaveLength(1)
  })

  it('known by cookie: the same browser from a new IP raises nothing, even with no session left', async () => {
    const user = newUser()
    const browser = new Browser(kit, { ipAddress: '203.0.113.30' })
    await signIn(browser, user)
    await browser.request((s) => s.signOut())
    expect(await kit.listSessions(user)).toEqual([])
    const moved = new Browser(kit, { ipAddress: '198.51.100.30' })
    for (const [cookie, value] of browser.otherCookies) moved.otherCookies.set(cookie, value)
    expect(await signIn(moved, user)).toEqual([])
  })

  it("signing in again in the same browser from the same IP is known (the replaced session's IP counts)", async () => {
    const user = newUser()
    const browser = new Browser(kit, { ipAddress: '203.0.113.40' })
    await signIn(browser, user)
    browser.otherCookies.clear()
    expect(await signIn(browser, user)).toEqual([])
  })

  it("another user's cookie, an expired one or a tampered one does not make a device known", async () => {
    const alice = newUser()
    const bob = newUser()
    const browser = new Browser(kit, { ipAddress: '203.0.113.50' })
    await signIn(browser, alice)
    const alicesCookie = browser.otherCookies.get('sid_known')!
    await browser.request((s) => s.signOut())

    const forBob = new Browser(kit, { ipAddress: '203.0.113.51' })
    forBob.otherCookies.set('sid_known', alicesCookie)
    expect(await signIn(forBob, bob)).toHaveLength(1)

    const signer = new KnownDeviceCookie({ secret: SECRET }, resolveCookieOptions({ secure: false }))
    const fifteenDaysAgo = Date.now() - 15 * 24 * 3600_000
    const expired = signer.serialize(toUserRef(alice).encoded, fifteenDaysAgo).split(';')[0]!.split('=')[1]!
    const stale = new Browser(kit, { ipAddress: '203.0.113.52' })
    stale.otherCookies.set('sid_known', expired)
    expect(await signIn(stale, alice)).toHaveLength(1)

    const [expiry, mac] = alicesCookie.split('.')
    const tampered = new Browser(kit, { ipAddress: '203.0.113.53' })
    tampered.otherCookies.set('sid_known', `${(parseInt(expiry!, 36) + 1).toString(36)}.${mac}`)
    expect(await signIn(tampered, alice)).toHaveLength(1)

    const foreignKey = new KnownDeviceCookie(
      { secret: 'another secret of at least thirty-two bytes' },
      resolveCookieOptions({ secure: false }),
    )
    const forged = foreignKey.serialize(toUserRef(alice).encoded, Date.now()).split(';')[0]!.split('=')[1]!
    const forger = new Browser(kit, { ipAddress: '203.0.113.54' })
    forger.otherCookies.set('sid_known', forged)
    expect(await signIn(forger, alice)).toHaveLength(1)
  })

  it("impersonation neither raises an alert nor sets the cookie, and its IP never makes the user's device known", async () => {
    const user = newUser()
    const admin = new Browser(kit, { ipAddress: '192.0.2.99' })
    expect(await signIn(admin, user, 'admin-1')).toEqual([])
    expect(admin.otherCookies.size).toBe(0)
    expect(await signIn(new Browser(kit, { ipAddress: '192.0.2.99' }), user)).toHaveLength(1)
  })

  it('costs no store call beyond the sign-in: the IP is checked inside its create call', async () => {
    const counted = instrumentStore(backend.store)
    const countedKit = createSessionkit({
      store: counted.store,
      cookie: { secure: false },
      deviceParser,
      knownDeviceCookie: { secret: SECRET },
    })
    const browser = new Browser(countedKit)
    await browser.request((s) => s.set('cart', 1))
    counted.calls.length = 0
    await browser.request((s) => s.signIn(newUser()))
    expect(counted.calls).toEqual(['load', 'claim', 'create'])
  })

  it('an alert handler that throws or rejects never fails the sign-in', async () => {
    const throwing = createSessionkit({
      store: backend.store,
      cookie: { secure: false },
      knownDeviceCookie: false,
      onUnknownSignIn: () => {
        throw new Error('mailer down')
      },
    })
    const rejecting = createSessionkit({
      store: backend.store,
      cookie: { secure: false },
      knownDeviceCookie: false,
      onUnknownSignIn: () => Promise.reject(new Error('mailer down')),
    })
    const warnings: string[] = []
    const onWarning = (warning: Error): void => {
      warnings.push(warning.message)
    }
    process.on('warning', onWarning)
    try {
      for (const k of [throwing, rejecting]) {
        const user = newUser()
        const browser = new Browser(k)
        await browser.request((s) => s.signIn(user))
        expect(await browser.request((s) => s.userId)).toBe(user)
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    } finally {
      process.off('warning', onWarning)
    }
    expect(warnings.filter((w) => w.includes('mailer down'))).toHaveLength(2)
  })
})

describe('unknown sign-in options', () => {
  it('refuses onUnknownSignIn without knownDeviceCookie, short secrets and bad names', async () => {
    const { MemoryStore } = await import('../../src/index.js')
    const store = new MemoryStore({ sweepIntervalMs: 0 })
    expect(() => createSessionkit({ store, onUnknownSignIn: () => undefined })).toThrow(/knownDeviceCookie/)
    expect(() => createSessionkit({ store, knownDeviceCookie: { secret: 'short' } })).toThrow(
      InvalidOptionsError,
    )
    expect(() =>
      createSessionkit({
        store,
        cookie: { secure: false },
        knownDeviceCookie: { secret: SECRET, name: 'sid' },
      }),
    ).toThrow(/other than the session cookie/)
    expect(() =>
      createSessionkit({ store, knownDeviceCookie: { secret: SECRET, sekret: 1 } as never }),
    ).toThrow(/unknown option "sekret"/)
    const kit = createSessionkit({ store, knownDeviceCookie: { secret: Buffer.alloc(32, 1) } })
    expect(kit.options.unknownSignIn?.cookie?.name).toBe('__Host-sid_known')
  })
})
