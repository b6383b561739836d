/**
 * The admin service on its own, over the memory store and real Redis (node-redis single, ioredis Cluster): the
 * outcomes the CLI and the admin view build on.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SessionAdmin } from '../../src/admin/admin-service.js'
import {
  InvalidOptionsError,
  InvalidUserIdError,
  MemoryStore,
  createSessionkit,
  type HttpContext,
  type JsonValue,
  type Sessionkit,
} from '../../src/index.js'
import { CORE_BACKENDS, openBackend, type Backend } from '../helpers/backends.js'

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

function http(): HttpContext {
  return {
    cookieHeader: undefined,
    userAgent: CHROME,
    ipAddress: '192.0.2.9',
    headersSent: () => false,
    setCookie() {
      // The tests only need the private ids.
    },
  }
}

describe.each(CORE_BACKENDS)('SessionAdmin on %s', (name) => {
  let backend: Backend
  let kit: Sessionkit
  let admin: SessionAdmin

  beforeEach(async () => {
    backend = await openBackend(name)
    kit = createSessionkit({ store: backend.store, cookie: { secure: false }, maxSessionsPerUser: 5 })
    admin = SessionAdmin.of(kit)
  })

  afterEach(async () => {
    await backend.close()
  })

  async function session(userId?: string, write?: Record<string, JsonValue>): Promise<string> {
    const s = await kit.openSession(http())
    if (userId !== undefined) await s.signIn(userId)
    for (const [key, value] of Object.entries(write ?? { visited: true })) s.set(key, value)
    s.namespace('flash').set('notice', 'hi')
    await s.commit()
    return s.id!
  }

  it("lists a user's sessions newest first and marks the current one", async () => {
    const first = await session('ana')
    // Sign-in times are in ms: make sure the second one is later.
    await new Promise((resolve) => setTimeout(resolve, 5))
    const second = await session('ana')
    const { sessions, skipped } = await admin.listSessions('ana', first)
    expect(sessions.map((s) => s.id)).toEqual([second, first])
    expect(sessions.map((s) => s.current)).toEqual([false, true])
    expect(sessions[0]).toMatchObject({ userId: 'ana', browser: 'Chrome', os: 'Windows' })
    expect(skipped).toEqual({ count: 0, keys: [] })
  })

  it('shows a session as plain JSON with namespaces grouped; a malformed or unknown id is missing', async () => {
    const id = await session('ben', { cart: [1, 2] })
    const shown = await admin.showSession(id)
    expect(shown.status).toBe('found')
    if (shown.status !== 'found') return
    expect(shown.session).toMatchObject({ id, userId: 'ben', anonymous: false, validMetadata: true })
    expect({ ...shown.session.data }).toEqual({ cart: [1, 2] })
    expect({ ...shown.session.namespaces.flash }).toEqual({ notice: 'hi' })
    expect(JSON.parse(JSON.stringify(shown.session))).toEqual({
      ...shown.session,
      data: { cart: [1, 2] },
      namespaces: { flash: { notice: 'hi' } },
    })
    expect(await admin.showSession('nope')).toEqual({ status: 'missing' })
    expect(await admin.showSession(`abc.${'0'.repeat(27)}`)).toEqual({ status: 'missing' })
  })

  it('revokes one session by id, signed-in (finding its owner) or anonymous, once', async () => {
    const signedIn = await session('cleo')
    const anonymous = await session()
    expect(await admin.revokeSession(signedIn)).toEqual({ status: 'revoked', userId: 'cleo' })
    expect(await admin.revokeSession(anonymous)).toEqual({ status: 'revoked', userId: null })
    expect(await admin.revokeSession(signedIn)).toEqual({ status: 'missing' })
    expect(await admin.revokeSession(anonymous)).toEqual({ status: 'missing' })
    expect((await admin.listSessions('cleo')).sessions).toEqual([])
  })

  it("with a user id, revokes only that user's session", async () => {
    const hers = await session('dina')
    expect(await admin.revokeSession(hers, { userId: 'eve' })).toEqual({ status: 'missing' })
    expect((await admin.listSessions('dina')).sessions).toHaveLength(1)
    expect(await admin.revokeSession(hers, { userId: 'dina' })).toEqual({ status: 'revoked', userId: 'dina' })
  })

  it("revokes all of a user's sessions but one, and refuses to when the one to keep is not theirs", async () => {
    const keep = await session('finn')
    await session('finn')
    const other = await session('gus')
    expect(await admin.revokeUserSessions('finn', { except: other })).toEqual({ status: 'except-not-theirs' })
    expect((await admin.listSessions('finn')).sessions).toHaveLength(2)
    expect(await admin.revokeUserSessions('finn', { except: keep })).toEqual({
      status: 'revoked',
      revoked: 1,
    })
    expect((await admin.listSessions('finn')).sessions.map((s) => s.id)).toEqual([keep])
    expect(await admin.revokeUserSessions('finn')).toEqual({ status: 'revoked', revoked: 1 })
    expect((await admin.listSessions('gus')).sessions.map((s) => s.id)).toEqual([other])
  })

  it('cleans up one user or all, with the policy cap by default or a given one, dry run first', async () => {
    for (let i = 0; i < 3; i++) await session('hugo')
    await session('ivy')
    const dry = await admin.cleanup({ dryRun: true, maxSessions: 1 })
    expect(dry).toEqual({
      dryRun: true,
      maxSessions: 1,
      users: 2,
      pruned: 0,
      evicted: 2,
      skipped: { count: 0, keys: [] },
    })
    expect((await admin.listSessions('hugo')).sessions).toHaveLength(3)
    expect(await admin.cleanup({ userId: 'hugo' })).toMatchObject({ maxSessions: 5, users: 1, evicted: 0 })
    const progress: number[] = []
    const real = await admin.cleanup({ maxSessions: 1, onProgress: (p) => progress.push(p.users) })
    expect(real).toMatchObject({ dryRun: false, users: 2, evicted: 2 })
    expect(progress.at(-1)).toBe(2)
    expect((await admin.listSessions('hugo')).sessions).toHaveLength(1)
  })

  it('stats count sessions, users and devices, reporting progress', async () => {
    await session('jo')
    await session('jo')
    await session()
    const progress: number[] = []
    const stats = await admin.stats({ onProgress: (n) => progress.push(n) })
    expect(stats).toMatchObject({
      sessions: 3,
      signedInSessions: 2,
      anonymousSessions: 1,
      signedInUsers: 1,
      byBrowser: [{ name: 'Chrome', count: 2 }],
      topUsers: [{ userId: 'jo', sessions: 2 }],
      skipped: { count: 0, keys: [] },
    })
    expect(progress.at(-1)).toBe(3)
  })

  it('refuses bad input with typed errors', async () => {
    await expect(admin.listSessions('')).rejects.toBeInstanceOf(InvalidUserIdError)
    await expect(admin.revokeUserSessions('')).rejects.toBeInstanceOf(InvalidUserIdError)
    await expect(admin.cleanup({ maxSessions: 0 })).rejects.toBeInstanceOf(InvalidOptionsError)
    await expect(admin.cleanup({ maxSessions: 1.5 })).rejects.toBeInstanceOf(InvalidOptionsError)
  })
})

describe('SessionAdmin.of', () => {
  it('refuses a store that cannot be inspected or walked, naming what it needs', () => {
    const memory = new MemoryStore()
    try {
      // A store with only the request-path port.
      const requestPathOnly = {
        load: memory.load.bind(memory),
        create: memory.create.bind(memory),
        save: memory.save.bind(memory),
        claim: memory.claim.bind(memory),
        destroy: memory.destroy.bind(memory),
        list: memory.list.bind(memory),
        revoke: memory.revoke.bind(memory),
        cleanup: memory.cleanup.bind(memory),
        snapshot: memory.snapshot.bind(memory),
        peek: memory.peek.bind(memory),
        countAnonymous: memory.countAnonymous.bind(memory),
        anonymousCount: memory.anonymousCount.bind(memory),
        clearAnonymous: memory.clearAnonymous.bind(memory),
      }
      const kit = createSessionkit({ store: requestPathOnly, deviceParser: false })
      expect(() => SessionAdmin.of(kit)).toThrow(InvalidOptionsError)
      expect(() => SessionAdmin.of(kit)).toThrow(/inspected and scanned/)
    } finally {
      memory.close()
    }
  })
})
