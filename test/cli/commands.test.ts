/**
 * The CLI's command functions, called directly, on the run's private single Redis and on its 3-master Cluster.
 * Sessions are created through the library exactly as an app creates them.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Sessionkit } from '../../src/index.js'
import { toUserRef } from '../../src/core/user-id.js'
import { parseSessionId } from '../../src/core/token.js'
import { cleanupCommand } from '../../src/cli/commands/cleanup.js'
import { listCommand } from '../../src/cli/commands/list.js'
import { revokeCommand } from '../../src/cli/commands/revoke.js'
import { showCommand } from '../../src/cli/commands/show.js'
import { statsCommand } from '../../src/cli/commands/stats.js'
import type { CliContext, Connection } from '../../src/cli/connect.js'
import { CliError } from '../../src/cli/errors.js'
import { collectStats } from '../../src/admin/stats.js'
import {
  USER_AGENTS,
  anonymousSession,
  appKit,
  connectTo,
  deployments,
  signIn,
  uniquePrefix,
} from './helpers.js'

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
const NONE = { count: 0, keys: [] }

async function expectCliError(work: Promise<unknown>, exitCode: number, message: RegExp): Promise<void> {
  const error: unknown = await work.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(CliError)
  expect((error as CliError).exitCode).toBe(exitCode)
  expect((error as CliError).message).toMatch(message)
}

describe.each(deployments())('CLI commands on $name Redis', (deployment) => {
  let connection: Connection
  let ctx: CliContext
  let kit: Sessionkit
  let prefix: string

  beforeEach(async () => {
    prefix = uniquePrefix()
    connection = await connectTo(deployment, prefix)
    ctx = { store: connection.store }
    kit = appKit(connection)
  })

  afterEach(async () => {
    await connection.close()
  })

  /** Runs a raw command on the node that holds `key`. */
  function redis(key: string, ...args: string[]): Promise<unknown> {
    return connection.store.redis.send(key, [args[0] ?? '', key, ...args.slice(1)])
  }

  function indexKey(userId: string): string {
    return connection.store.keys.userIndex(toUserRef(userId))
  }

  function sessionKey(id: string): string {
    const ref = parseSessionId(id)
    if (!ref) throw new Error(`bad id ${id}`)
    return connection.store.keys.session(ref)
  }

  describe('list', () => {
    it("lists a user's sessions with the API's fields, ISO times, current always false", async () => {
      const before = Date.now()
      const desktop = await signIn(kit, 'alice', USER_AGENTS.chromeWindows, '203.0.113.5')
      const phone = await signIn(kit, 'alice', USER_AGENTS.safariIphone, '2001:db8::7')
      await signIn(kit, 'bob', USER_AGENTS.firefoxLinux, '203.0.113.99')

      const result = await listCommand(ctx, { user: 'alice' })

      expect(result.userId).toBe('alice')
      expect(result.sessions.map((s) => s.id).sort()).toEqual([desktop, phone].sort())
      const byId = new Map(result.sessions.map((s) => [s.id, s]))
      expect(byId.get(desktop)).toMatchObject({
        userId: 'alice',
        current: false,
        browser: 'Chrome',
        os: 'Windows',
        deviceType: 'desktop',
        ipAddress: '203.0.113.5',
        impersonated: false,
        rememberMe: false,
      })
      expect(byId.get(phone)).toMatchObject({
        browser: 'Mobile Safari',
        os: 'iOS',
        deviceType: 'smartphone',
        deviceName: 'iPhone',
        ipAddress: '2001:db8::7',
      })
      for (const s of result.sessions) {
        for (const time of [s.signedInAt, s.lastSeenAt, s.expiresAt, s.absoluteExpiresAt]) {
          expect(time).toMatch(ISO)
          expect(Date.parse(time)).toBeGreaterThanOrEqual(before - 1000)
        }
      }
    })

    it('shows impersonated sessions, flagged', async () => {
      await signIn(kit, 'carol', USER_AGENTS.chromeWindows, '203.0.113.5', undefined, {
        impersonator: 'admin',
      })
      const [session] = (await listCommand(ctx, { user: 'carol' })).sessions
      expect(session?.impersonated).toBe(true)
    })

    it('returns an empty list for a user without sessions', async () => {
      expect(await listCommand(ctx, { user: 'nobody' })).toEqual({
        userId: 'nobody',
        sessions: [],
        skipped: { count: 0, keys: [] },
      })
    })

    it('refuses a missing or invalid user id (exit 2)', async () => {
      await expectCliError(listCommand(ctx, {}), 2, /--user/)
      await expectCliError(listCommand(ctx, { user: '' }), 2, /empty/)
    })
  })

  describe('show', () => {
    it('shows metadata, TTL, data and namespaced keys grouped, decoded as plain JSON', async () => {
      const id = await signIn(kit, 'dave', USER_AGENTS.safariIphone, '192.0.2.1', (s) => {
        s.set('theme', 'dark')
        s.set('cart', { items: [1, 2], note: null })
        s.namespace('flash').set('notice', 'Saved')
        s.namespace('flash').set('alert', 'Careful')
        s.namespace('oauth').set('state', 'xyz')
      })

      const shown = await showCommand(ctx, { sessionId: id })

      expect(shown).toMatchObject({
        id,
        userId: 'dave',
        anonymous: false,
        impersonated: false,
        impersonator: null,
        ipAddress: '192.0.2.1',
        browser: 'Mobile Safari',
        os: 'iOS',
        deviceType: 'smartphone',
        deviceName: 'iPhone',
        rememberMe: false,
        validMetadata: true,
        invalidValues: [],
      })
      expect({ ...shown.data }).toEqual({ theme: 'dark', cart: { items: [1, 2], note: null } })
      expect(Object.keys(shown.namespaces).sort()).toEqual(['flash', 'oauth'])
      expect({ ...shown.namespaces.flash }).toEqual({ notice: 'Saved', alert: 'Careful' })
      expect({ ...shown.namespaces.oauth }).toEqual({ state: 'xyz' })
      // Default idle timeout: a week.
      expect(shown.ttlSeconds).toBeGreaterThan(7 * 86400 - 60)
      expect(shown.ttlSeconds).toBeLessThanOrEqual(7 * 86400)
      for (const time of [shown.createdAt, shown.signedInAt, shown.lastSeenAt, shown.expiresAt]) {
        expect(time).toMatch(ISO)
      }
    })

    it('reads without touching: the TTL and last-seen stay as they were', async () => {
      const id = await signIn(kit, 'erin', USER_AGENTS.chromeWindows, '192.0.2.2')
      await redis(sessionKey(id), 'PEXPIRE', '50000')
      const first = await showCommand(ctx, { sessionId: id })
      const second = await showCommand(ctx, { sessionId: id })
      expect(second.ttlSeconds).toBeLessThanOrEqual(50)
      expect(second.lastSeenAt).toBe(first.lastSeenAt)
    })

    it('decodes safely: prototype keys stay inert, invalid JSON is shown raw, never evaluated', async () => {
      const id = await anonymousSession(kit, ['book'])
      const key = sessionKey(id)
      await redis(
        key,
        'HSET',
        'd:__proto__',
        '{"polluted":true}',
        'd:evil',
        '{"__proto__":{"admin":true},"a":1}',
        'd:broken',
        'function(){}',
      )
      const shown = await showCommand(ctx, { sessionId: id })
      expect(shown.anonymous).toBe(true)
      expect(shown.userId).toBeNull()
      expect(shown.data.cart).toEqual(['book'])
      expect(Object.getOwnPropertyDescriptor(shown.data, '__proto__')?.value).toEqual({ polluted: true })
      expect(shown.data.evil).toEqual({ a: 1 })
      expect(({} as Record<string, unknown>).admin).toBeUndefined()
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      expect(shown.invalidValues).toEqual([
        { field: 'd:broken', raw: 'function(){}', reason: 'not valid JSON' },
      ])
    })

    it('exits 1 for an unknown session and 2 for a malformed id', async () => {
      await expectCliError(showCommand(ctx, { sessionId: `abc.${'0'.repeat(27)}` }), 1, /not found/)
      await expectCliError(showCommand(ctx, { sessionId: 'abc.123' }), 2, /not a session id/)
      await expectCliError(showCommand(ctx, { sessionId: `{x}.${'0'.repeat(27)}` }), 2, /not a session id/)
    })
  })

  describe('revoke', () => {
    it("revokes one signed-in session by id, finding its owner, and removes it from the user's index", async () => {
      const keep = await signIn(kit, 'frank', USER_AGENTS.chromeWindows, '192.0.2.3')
      const gone = await signIn(kit, 'frank', USER_AGENTS.safariIphone, '192.0.2.4')

      expect(await revokeCommand(ctx, { sessionId: gone })).toEqual({
        revoked: 1,
        userId: 'frank',
        sessionId: gone,
        except: null,
      })

      expect(await redis(sessionKey(gone), 'EXISTS')).toBe(0)
      expect(await redis(indexKey('frank'), 'ZRANGE', '0', '-1')).toEqual([parseSessionId(keep)?.hash])
      expect((await listCommand(ctx, { user: 'frank' })).sessions.map((s) => s.id)).toEqual([keep])
    })

    it('destroys an anonymous session by id', async () => {
      const id = await anonymousSession(kit, ['x'])
      expect(await revokeCommand(ctx, { sessionId: id })).toMatchObject({ revoked: 1, userId: null })
      expect(await redis(sessionKey(id), 'EXISTS')).toBe(0)
    })

    it('exits 1 for a session that does not exist (or is already revoked)', async () => {
      const id = await signIn(kit, 'gina', USER_AGENTS.chromeWindows, '192.0.2.5')
      await revokeCommand(ctx, { sessionId: id })
      await expectCliError(revokeCommand(ctx, { sessionId: id }), 1, /not found/)
    })

    it('with --user and an id, revokes only a session of that user', async () => {
      const hers = await signIn(kit, 'hana', USER_AGENTS.chromeWindows, '192.0.2.6')
      await expectCliError(revokeCommand(ctx, { sessionId: hers, user: 'ivan' }), 1, /not found/)
      expect(await redis(sessionKey(hers), 'EXISTS')).toBe(1)
      expect(await revokeCommand(ctx, { sessionId: hers, user: 'hana' })).toMatchObject({ revoked: 1 })
    })

    it('--user revokes every session of the user, impersonated ones too, and no one else', async () => {
      await signIn(kit, 'jack', USER_AGENTS.chromeWindows, '192.0.2.7')
      await signIn(kit, 'jack', USER_AGENTS.safariIphone, '192.0.2.8')
      await signIn(kit, 'jack', USER_AGENTS.firefoxLinux, '192.0.2.9', undefined, { impersonator: 'root' })
      const other = await signIn(kit, 'kate', USER_AGENTS.chromeWindows, '192.0.2.10')

      expect(await revokeCommand(ctx, { user: 'jack' })).toEqual({
        revoked: 3,
        userId: 'jack',
        sessionId: null,
        except: null,
      })
      expect((await listCommand(ctx, { user: 'jack' })).sessions).toEqual([])
      expect(await redis(indexKey('jack'), 'EXISTS')).toBe(0)
      expect((await listCommand(ctx, { user: 'kate' })).sessions.map((s) => s.id)).toEqual([other])
      expect(await revokeCommand(ctx, { user: 'jack' })).toMatchObject({ revoked: 0 })
    })

    it('--user --except keeps that session', async () => {
      const keep = await signIn(kit, 'liam', USER_AGENTS.chromeWindows, '192.0.2.11')
      await signIn(kit, 'liam', USER_AGENTS.safariIphone, '192.0.2.12')
      expect(await revokeCommand(ctx, { user: 'liam', except: keep })).toEqual({
        revoked: 1,
        userId: 'liam',
        sessionId: null,
        except: keep,
      })
      expect((await listCommand(ctx, { user: 'liam' })).sessions.map((s) => s.id)).toEqual([keep])
    })

    it("--except naming another user's session revokes nothing (exit 1)", async () => {
      await signIn(kit, 'mia', USER_AGENTS.chromeWindows, '192.0.2.13')
      const foreign = await signIn(kit, 'noah', USER_AGENTS.chromeWindows, '192.0.2.14')
      await expectCliError(revokeCommand(ctx, { user: 'mia', except: foreign }), 1, /not a session of user/)
      expect((await listCommand(ctx, { user: 'mia' })).sessions).toHaveLength(1)
    })

    it('refuses bad combinations (exit 2)', async () => {
      const id = `abc.${'1'.repeat(27)}`
      await expectCliError(revokeCommand(ctx, {}), 2, /SESSION_ID or --user/)
      await expectCliError(revokeCommand(ctx, { except: id }), 2, /--except needs --user/)
      await expectCliError(revokeCommand(ctx, { sessionId: id, user: 'a', except: id }), 2, /not both/)
      await expectCliError(revokeCommand(ctx, { sessionId: 'nope' }), 2, /not a session id/)
    })
  })

  describe('cleanup', () => {
    it('prunes index entries whose session is gone, for one user', async () => {
      const live = await signIn(kit, 'olga', USER_AGENTS.chromeWindows, '192.0.2.15')
      const dead = await signIn(kit, 'olga', USER_AGENTS.safariIphone, '192.0.2.16')
      // The session key expired (or was deleted) behind the index's back.
      await redis(sessionKey(dead), 'DEL')
      expect(await redis(indexKey('olga'), 'ZCARD')).toBe(2)

      const dry = await cleanupCommand(ctx, { user: 'olga', dryRun: true })
      expect(dry).toEqual({ dryRun: true, maxSessions: 100, users: 1, pruned: 1, evicted: 0, skipped: NONE })
      expect(await redis(indexKey('olga'), 'ZCARD')).toBe(2)

      const real = await cleanupCommand(ctx, { user: 'olga' })
      expect(real).toEqual({
        dryRun: false,
        maxSessions: 100,
        users: 1,
        pruned: 1,
        evicted: 0,
        skipped: NONE,
      })
      expect(await redis(indexKey('olga'), 'ZRANGE', '0', '-1')).toEqual([parseSessionId(live)?.hash])
    })

    it('enforces --max-sessions, evicting the least recently active', async () => {
      const ids: string[] = []
      for (const ua of [USER_AGENTS.chromeWindows, USER_AGENTS.safariIphone, USER_AGENTS.firefoxLinux]) {
        ids.push(await signIn(kit, 'pete', ua, '192.0.2.17'))
      }
      const dry = await cleanupCommand(ctx, { user: 'pete', maxSessions: 1, dryRun: true })
      expect(dry).toMatchObject({ evicted: 2, pruned: 0 })
      expect((await listCommand(ctx, { user: 'pete' })).sessions).toHaveLength(3)

      expect(await cleanupCommand(ctx, { user: 'pete', maxSessions: 1 })).toMatchObject({ evicted: 2 })
      const left = (await listCommand(ctx, { user: 'pete' })).sessions.map((s) => s.id)
      expect(left).toHaveLength(1)
      for (const id of ids) {
        expect(await redis(sessionKey(id), 'EXISTS')).toBe(left.includes(id) ? 1 : 0)
      }
    })

    it('over all users, walks every master with SCAN and reports totals and progress', async () => {
      const users = Array.from({ length: 12 }, (_, i) => `user-${i}@example.com`)
      for (const user of users) {
        await signIn(kit, user, USER_AGENTS.chromeWindows, '192.0.2.18')
        await signIn(kit, user, USER_AGENTS.safariIphone, '192.0.2.19')
      }
      const dead = await signIn(kit, users[0]!, USER_AGENTS.firefoxLinux, '192.0.2.20')
      await redis(sessionKey(dead), 'DEL')
      if (deployment.name === 'cluster') {
        // The users really are spread over several masters.
        const nodes = await connection.store.redis.masters()
        const perNode = await Promise.all(nodes.map((n) => n.send(undefined, ['DBSIZE'])))
        expect(perNode.filter((n) => Number(n) > 0).length).toBeGreaterThan(1)
      }
      const progress: string[] = []
      const withProgress: CliContext = { store: connection.store, progress: (line) => progress.push(line) }

      const dry = await cleanupCommand(withProgress, { dryRun: true, maxSessions: 1 })
      expect(dry).toEqual({ dryRun: true, maxSessions: 1, users: 12, pruned: 1, evicted: 12, skipped: NONE })
      // The total comes from a counting SCAN before the walk (SCAN may return a key twice: "~", at least 12).
      expect(progress.filter((line) => line.startsWith('cleanup: counting users… ')).length).toBeGreaterThan(
        0,
      )
      const last = /^cleanup: 12 of ~(\d+) users, 1 pruned, 12 evicted$/.exec(progress.at(-1) ?? '')
      expect(Number(last?.[1])).toBeGreaterThanOrEqual(12)

      const real = await cleanupCommand(ctx, { maxSessions: 1 })
      expect(real).toEqual({
        dryRun: false,
        maxSessions: 1,
        users: 12,
        pruned: 1,
        evicted: 12,
        skipped: NONE,
      })
      for (const user of users) expect((await listCommand(ctx, { user })).sessions).toHaveLength(1)
      expect(await cleanupCommand(ctx, { maxSessions: 1 })).toMatchObject({
        users: 12,
        pruned: 0,
        evicted: 0,
      })
    })

    it('refuses an invalid cap (exit 2)', async () => {
      await expectCliError(cleanupCommand(ctx, { maxSessions: 0 }), 2, /--max-sessions/)
    })
  })

  describe('stats', () => {
    it('totals, device breakdowns, top users and sampled memory', async () => {
      await signIn(kit, 'quinn', USER_AGENTS.chromeWindows, '192.0.2.21')
      await signIn(kit, 'quinn', USER_AGENTS.safariIphone, '192.0.2.22')
      await signIn(kit, 'quinn', USER_AGENTS.chromeWindows, '192.0.2.23', undefined, {
        impersonator: 'admin',
      })
      await signIn(kit, 'rosa', USER_AGENTS.chromeAndroidTablet, '192.0.2.24')
      await anonymousSession(kit, ['a'])
      await anonymousSession(kit, ['b'])

      const stats = await statsCommand(ctx, {})

      expect(stats).toMatchObject({
        sessions: 6,
        signedInSessions: 4,
        anonymousSessions: 2,
        signedInUsers: 2,
        impersonatedSessions: 1,
        topUsers: [
          { userId: 'quinn', sessions: 3 },
          { userId: 'rosa', sessions: 1 },
        ],
      })
      // Most frequent first, ties by name.
      expect(stats.byBrowser).toEqual([
        { name: 'Chrome', count: 3 },
        { name: 'Mobile Safari', count: 1 },
      ])
      expect(stats.byOs).toEqual([
        { name: 'Windows', count: 2 },
        { name: 'Android', count: 1 },
        { name: 'iOS', count: 1 },
      ])
      expect(stats.byDeviceType).toEqual([
        { name: 'desktop', count: 2 },
        { name: 'smartphone', count: 1 },
        { name: 'tablet', count: 1 },
      ])
      expect(stats.byDeviceCategory).toEqual([
        { name: 'desktop', count: 2 },
        { name: 'phone', count: 1 },
        { name: 'tablet', count: 1 },
      ])
      expect(stats.memory.sessions).toMatchObject({ keys: 6, sampled: 6 })
      expect(stats.memory.sessions.averageBytes).toBeGreaterThan(50)
      expect(stats.memory.sessions.estimatedBytes).toBe(stats.memory.sessions.averageBytes * 6)
      expect(stats.memory.userIndexes).toMatchObject({ keys: 2, sampled: 2 })
      expect(stats.memory.userIndexes.averageBytes).toBeGreaterThan(0)

      const sampled = await statsCommand(ctx, { samples: 2, top: 1 })
      expect(sampled.memory.sessions).toMatchObject({ keys: 6, sampled: 2 })
      expect(sampled.topUsers).toEqual([{ userId: 'quinn', sessions: 3 }])
    })

    it('collectStats works on any SessionStore and returns plain data', async () => {
      await signIn(kit, 'sam', USER_AGENTS.firefoxLinux, '192.0.2.25')
      const stats = await collectStats(connection.store)
      expect(JSON.parse(JSON.stringify(stats))).toEqual(stats)
      expect(stats).toMatchObject({ sessions: 1, signedInUsers: 1, byOs: [{ name: 'GNU/Linux', count: 1 }] })
    })

    it('reports zeros on an empty prefix', async () => {
      const stats = await statsCommand(ctx, {})
      expect(stats).toMatchObject({ sessions: 0, signedInUsers: 0, topUsers: [], byBrowser: [] })
      expect(stats.memory.sessions).toEqual({ keys: 0, sampled: 0, averageBytes: 0, estimatedBytes: 0 })
    })
  })
})

describe('isolation by prefix', () => {
  let a: Connection
  let b: Connection
  const [single] = deployments()

  beforeAll(async () => {
    a = await connectTo(single!, uniquePrefix())
    b = await connectTo(single!, uniquePrefix())
  })

  afterAll(async () => {
    await a.close()
    await b.close()
  })

  it('a --prefix only ever sees its own keys', async () => {
    await signIn(appKit(a), 'tom', USER_AGENTS.chromeWindows, '192.0.2.26')
    expect((await listCommand({ store: b.store }, { user: 'tom' })).sessions).toEqual([])
    expect((await statsCommand({ store: b.store }, {})).sessions).toBe(0)
    expect((await statsCommand({ store: a.store }, {})).sessions).toBe(1)
  })
})
