/**
 * Elevated mode (GitLab's admin mode) on all five backends: `session.elevate()` after a re-authentication, its
 * expiry, `kit.anySessionElevated()` for sessionless contexts, the listing's `elevated` flag, and what drops it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSessionkit,
  detachedSession,
  InvalidArgumentError,
  NamespacedSessionStore,
  NoRequestError,
  NotSignedInError,
  SessionConflictError,
  type Sessionkit,
} from '../../src/index.js'
import { refFromToken } from '../../src/core/token.js'
import { ALL_BACKENDS, instrumentStore, openBackend, type Backend } from '../helpers/backends.js'
import { Browser, sleep } from '../helpers/browser.js'

let seq = 0
function newUser(): string {
  return `elev-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 6)}`
}

async function alive(kit: Sessionkit, token: string | undefined): Promise<boolean> {
  return token !== undefined && !(await new Browser(kit, { cookie: token }).open()).session.isNew
}

describe.each(ALL_BACKENDS)('elevated mode: %s', (name) => {
  let backend: Backend
  let kit: Sessionkit

  beforeAll(async () => {
    backend = await openBackend(name)
    kit = createSessionkit({ store: backend.store, cookie: { secure: false }, deviceParser: false })
  })
  afterAll(async () => {
    await backend.close()
  })

  async function signedIn(user: string): Promise<Browser> {
    const browser = new Browser(kit)
    await browser.request((s) => s.signIn(user))
    return browser
  }

  it('elevate() rotates the token, and the session is elevated for 6 hours by default', async () => {
    const user = newUser()
    const browser = await signedIn(user)
    const before = browser.cookie!
    const startedAt = Date.now()
    await browser.request(async (s) => {
      expect(s.isElevated()).toBe(false)
      await s.elevate()
      expect(s.isElevated()).toBe(true)
    })
    expect(browser.cookie).not.toBe(before)
    expect(await alive(kit, before)).toBe(false)
    const until = await browser.request((s) => s.elevatedUntil!.getTime())
    expect(until).toBeGreaterThanOrEqual(startedAt + 6 * 3600_000)
    expect(until).toBeLessThanOrEqual(Date.now() + 6 * 3600_000)
    expect(await browser.request((s) => s.isElevated())).toBe(true)
  })

  it('is stored in the current_user_mode namespace (GitLab), read through NamespacedSessionStore', async () => {
    const browser = await signedIn(newUser())
    await browser.request((s) => s.elevate({ maxAgeMs: 60_000 }))
    const stored = await browser.request((s) => new NamespacedSessionStore('current_user_mode', s).toObject())
    expect(Object.keys(stored)).toEqual(['admin_mode_until'])
    expect(stored.admin_mode_until).toBeGreaterThan(Date.now())
  })

  it('expires after maxAgeMs: isElevated, the listing and anySessionElevated all turn false', async () => {
    const user = newUser()
    const browser = await signedIn(user)
    const other = await signedIn(user)
    await browser.request((s) => s.elevate({ maxAgeMs: 2000 }))
    expect(await kit.anySessionElevated(user)).toBe(true)
    const listed = await kit.listSessions(user)
    expect(listed.find((s) => s.id === refFromToken(browser.cookie!).id)?.elevated).toBe(true)
    expect(listed.find((s) => s.id === refFromToken(other.cookie!).id)?.elevated).toBe(false)
    expect((await kit.sessionsOf(user)).filter((s) => s.elevated)).toHaveLength(1)
    await sleep(2100)
    expect(await browser.request((s) => [s.isElevated(), s.elevatedUntil])).toEqual([false, undefined])
    expect(await kit.anySessionElevated(user)).toBe(false)
    expect((await kit.listSessions(user)).map((s) => s.elevated)).toEqual([false, false])
  })

  it('anySessionElevated is one store call, and false for a user with no sessions', async () => {
    const user = newUser()
    const counted = instrumentStore(backend.store)
    const countedKit = createSessionkit({ store: counted.store, cookie: { secure: false } })
    expect(await countedKit.anySessionElevated(user)).toBe(false)
    expect(counted.calls).toEqual(['list'])
  })

  it('a new sign-in drops it (same user or another); rotate() and a plain save keep it', async () => {
    const user = newUser()
    const browser = await signedIn(user)
    await browser.request((s) => s.elevate())
    await browser.request((s) => s.rotate())
    await browser.request((s) => s.set('x', 1))
    expect(await browser.request((s) => s.isElevated())).toBe(true)
    await browser.request((s) => s.signIn(user))
    expect(await browser.request((s) => [s.isElevated(), s.get('x')])).toEqual([false, 1])
    expect(await kit.anySessionElevated(user)).toBe(false)

    await browser.request((s) => s.elevate())
    const someoneElse = newUser()
    await browser.request((s) => s.signIn(someoneElse))
    expect(await browser.request((s) => s.isElevated())).toBe(false)
    expect(await kit.anySessionElevated(someoneElse)).toBe(false)
  })

  it('an elevate() that loses to a concurrent rotation elevates nothing, not even the winner', async () => {
    const user = newUser()
    const browser = await signedIn(user)
    const late = await browser.open()
    await browser.request((s) => s.rotate())
    await expect(late.session.elevate()).rejects.toBeInstanceOf(SessionConflictError)
    expect(late.session.isDirty).toBe(false)
    await late.commit()
    expect(await browser.request((s) => s.isElevated())).toBe(false)
    expect(await kit.anySessionElevated(user)).toBe(false)
  })

  it('dropElevation() leaves it, saved with the request', async () => {
    const user = newUser()
    const browser = await signedIn(user)
    await browser.request((s) => s.elevate())
    expect(await browser.request((s) => s.dropElevation())).toBe(true)
    expect(await browser.request((s) => s.isElevated())).toBe(false)
    expect(await kit.anySessionElevated(user)).toBe(false)
    expect(await browser.request((s) => s.dropElevation())).toBe(false)
  })

  it('refuses anonymous and detached sessions and bad durations with typed errors', async () => {
    const anonymous = new Browser(kit)
    await anonymous.request(async (s) => {
      await expect(s.elevate()).rejects.toBeInstanceOf(NotSignedInError)
      expect(s.isElevated()).toBe(false)
    })
    expect(anonymous.cookie).toBeUndefined()
    await expect(detachedSession().elevate()).rejects.toBeInstanceOf(NoRequestError)
    const browser = await signedIn(newUser())
    for (const maxAgeMs of [0, 999, 1.5, -1, 31 * 24 * 3600_000, Number.NaN]) {
      await browser.request(async (s) => {
        await expect(s.elevate({ maxAgeMs })).rejects.toBeInstanceOf(InvalidArgumentError)
      })
    }
    expect(await browser.request((s) => s.isElevated())).toBe(false)
  })

  it('a value that is not a whole time (written by someone else) is no elevation', async () => {
    const browser = await signedIn(newUser())
    for (const value of ['soon', true, 9e99, -5, { until: Date.now() + 60_000 }]) {
      await browser.request((s) => s.namespace('current_user_mode').set('admin_mode_until', value))
      expect(await browser.request((s) => s.isElevated())).toBe(false)
    }
  })
})
