/**
 * Foreign data in the keyspace: keys of the wrong type, names or fields sessionkit never writes, planted next to
 * real sessions on the run's private single Redis and Cluster. Every admin command and the admin view must keep
 * working, report each such key as skipped, and leave it alone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Sessionkit } from '../../src/index.js'
import { tagForUser } from '../../src/core/token.js'
import { toUserRef } from '../../src/core/user-id.js'
import { cleanupCommand } from '../../src/cli/commands/cleanup.js'
import { listCommand } from '../../src/cli/commands/list.js'
import { revokeCommand } from '../../src/cli/commands/revoke.js'
import { showCommand } from '../../src/cli/commands/show.js'
import { statsCommand } from '../../src/cli/commands/stats.js'
import type { CliContext, Connection } from '../../src/cli/connect.js'
import { CliError } from '../../src/cli/errors.js'
import { call, cookiePair } from '../helpers/http.js'
import { startUi } from '../ui/apps.js'
import {
  USER_AGENTS,
  anonymousSession,
  appKit,
  connectTo,
  deployments,
  runCli,
  signIn,
  uniquePrefix,
} from './helpers.js'

/** A slot tag no test user maps to. */
const STRAY_TAG = ['f0f', 'e1e', 'd2d'].find(
  (tag) => !['alice', 'carol', 'victim', 'mallory', 'admin'].some((u) => tagForUser(u) === tag),
)!
const HASH = (c: string): string => c.repeat(27)
const NOW = (): string => String(Date.now())

interface Planted {
  /** Every planted key with the reason the report must give. */
  readonly expected: ReadonlyMap<string, RegExp>
  /** Keys in the session family, by the id a user would pass to show/revoke. */
  readonly stringSessionId: string
  readonly undecodableOwnerId: string
  readonly malformedCarolKey: string
}

describe.each(deployments())('foreign keys on $name Redis', (deployment) => {
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

  /** Runs a raw command on the node that holds `key`, and gives the key a TTL as every test write must. */
  async function write(key: string, ...args: string[]): Promise<void> {
    await connection.store.redis.send(key, [args[0] ?? '', key, ...args.slice(1)])
    await connection.store.redis.send(key, ['PEXPIRE', key, '600000'])
  }

  async function exists(key: string): Promise<boolean> {
    return Number(await connection.store.redis.send(key, ['EXISTS', key])) === 1
  }

  /** Real sessions (alice ×2, carol, an anonymous one), then one foreign key of each kind. */
  async function plant(): Promise<Planted> {
    await signIn(kit, 'alice', USER_AGENTS.chromeWindows, '192.0.2.1')
    await signIn(kit, 'alice', USER_AGENTS.safariIphone, '192.0.2.2')
    await signIn(kit, 'carol', USER_AGENTS.firefoxLinux, '192.0.2.3')
    await anonymousSession(kit, ['book'])
    const s = (tag: string, hash: string): string => `${prefix}{${tag}}:s:${hash}`
    const u = (tag: string, encoded: string): string => `${prefix}{${tag}}:u:${encoded}`
    const carol = toUserRef('carol')
    const mallory = toUserRef('mallory')
    const meta = ['_c', NOW(), '_ls', NOW(), '_si', NOW(), '_ab', String(Date.now() + 3_600_000)]
    const keys = {
      string: s(STRAY_TAG, HASH('A')),
      badName: s(STRAY_TAG, 'short'),
      undecodableOwner: s(STRAY_TAG, HASH('B')),
      noMetadata: s(STRAY_TAG, HASH('C')),
      wrongSlot: s(STRAY_TAG, HASH('D')),
      malformedCarol: s(carol.tag, HASH('E')),
      listIndex: u(mallory.tag, mallory.encoded),
      undecodableIndex: u(STRAY_TAG, '%ZZ'),
      strayIndex: u(STRAY_TAG, 'victim'),
    }
    await write(keys.string, 'SET', 'not a session')
    await write(keys.badName, 'HSET', '_u', 'alice')
    await write(keys.undecodableOwner, 'HSET', '_u', '%ZZ', ...meta)
    await write(keys.noMetadata, 'HSET', 'd:x', '1')
    // A complete session of "victim", but under a slot that is not victim's: planted, never served.
    await write(keys.wrongSlot, 'HSET', '_u', 'victim', ...meta)
    // In carol's slot and index, owned by carol, but with a creation time the library refuses.
    await write(keys.malformedCarol, 'HSET', '_u', 'carol', ...meta, '_c', 'yesterday')
    await write(u(carol.tag, carol.encoded), 'ZADD', String(Date.now() + 3_600_000), HASH('E'))
    await write(keys.listIndex, 'RPUSH', 'x')
    await write(keys.undecodableIndex, 'ZADD', '1', 'x')
    await write(keys.strayIndex, 'ZADD', String(Date.now() + 3_600_000), HASH('D'))
    const expected = new Map<string, RegExp>([
      [keys.string, /holds a string, not a hash/],
      [keys.badName, /not a session key name/],
      [keys.undecodableOwner, /metadata missing or malformed/],
      [keys.noMetadata, /a hash without session metadata/],
      [keys.wrongSlot, /not in its user's slot/],
      [keys.malformedCarol, /metadata missing or malformed/],
      [keys.listIndex, /holds a list, not a sorted set/],
      [keys.undecodableIndex, /user id in the key name does not decode/],
      [keys.strayIndex, /not in its user's slot/],
    ])
    return {
      expected,
      stringSessionId: `${STRAY_TAG}.${HASH('A')}`,
      undecodableOwnerId: `${STRAY_TAG}.${HASH('B')}`,
      malformedCarolKey: keys.malformedCarol,
    }
  }

  function expectReported(
    skipped: { count: number; keys: readonly { key: string; reason: string }[] },
    expected: ReadonlyMap<string, RegExp>,
  ): void {
    expect(skipped.count).toBe(expected.size)
    expect(skipped.keys.map((k) => k.key).sort()).toEqual([...expected.keys()].sort())
    for (const { key, reason } of skipped.keys) expect(reason, key).toMatch(expected.get(key)!)
  }

  it('stats counts only real sessions and lists every foreign key as skipped', async () => {
    const planted = await plant()
    const stats = await statsCommand(ctx, {})
    expect(stats).toMatchObject({
      sessions: 4,
      signedInSessions: 3,
      anonymousSessions: 1,
      signedInUsers: 2,
      topUsers: [
        { userId: 'alice', sessions: 2 },
        { userId: 'carol', sessions: 1 },
      ],
    })
    expect(stats.memory.sessions.keys).toBe(4)
    expect(stats.memory.userIndexes.keys).toBe(2)
    expectReported(stats.skipped, planted.expected)
    for (const key of planted.expected.keys()) expect(await exists(key)).toBe(true)
  })

  it("list skips an indexed session whose metadata the library refuses, and lists the user's real ones", async () => {
    const planted = await plant()
    const carol = await listCommand(ctx, { user: 'carol' })
    expect(carol.sessions).toHaveLength(1)
    expect(carol.sessions[0]).toMatchObject({ browser: 'Firefox', ipAddress: '192.0.2.3' })
    expect(carol.skipped).toEqual({
      count: 1,
      keys: [{ key: planted.malformedCarolKey, reason: 'session metadata missing or malformed' }],
    })
    expect((await listCommand(ctx, { user: 'alice' })).sessions).toHaveLength(2)
  })

  it('cleanup over all users skips foreign index keys and leaves them in place', async () => {
    const planted = await plant()
    const indexFamily = new Map([...planted.expected].filter(([key]) => key.includes('}:u:')))
    const dry = await cleanupCommand(ctx, { dryRun: true })
    expect(dry).toMatchObject({ users: 2, pruned: 0, evicted: 0 })
    expectReported(dry.skipped, indexFamily)
    const real = await cleanupCommand(ctx, {})
    expect(real).toMatchObject({ dryRun: false, users: 2, pruned: 0, evicted: 0 })
    expectReported(real.skipped, indexFamily)
    for (const key of indexFamily.keys()) expect(await exists(key)).toBe(true)
  })

  it('show and revoke refuse a key of another type (exit 1) and leave it alone', async () => {
    const planted = await plant()
    for (const work of [
      showCommand(ctx, { sessionId: planted.stringSessionId }),
      revokeCommand(ctx, { sessionId: planted.stringSessionId }),
    ]) {
      const error = await work.then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(CliError)
      expect((error as CliError).exitCode).toBe(1)
      expect((error as CliError).message).toMatch(/holds a string, not a hash .*left alone/)
    }
    expect(await exists([...planted.expected.keys()][0]!)).toBe(true)
  })

  it('show lists a user id that does not decode instead of failing or showing it raw as the user', async () => {
    const planted = await plant()
    const shown = await showCommand(ctx, { sessionId: planted.undecodableOwnerId })
    expect(shown).toMatchObject({ userId: null, anonymous: false, validMetadata: false })
    expect(shown.invalidValues).toEqual([
      { field: '_u', raw: '%ZZ', reason: 'not a user id sessionkit writes' },
    ])
  })

  it('the CLI process reports skipped keys in --json and in text, exit 0', async () => {
    const planted = await plant()
    const json = await runCli([...deployment.flags, '--prefix', prefix, '--json', 'stats'])
    expect(json.stderr).toBe('')
    expect(json.code).toBe(0)
    const parsed = JSON.parse(json.stdout) as { sessions: number; skipped: { count: number } }
    expect(parsed.sessions).toBe(4)
    expect(parsed.skipped.count).toBe(planted.expected.size)
    const text = await runCli([...deployment.flags, '--prefix', prefix, 'cleanup', '--dry-run'])
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^skipped 3 keys not written by sessionkit$/m)
    expect(text.stdout).toMatch(/:u:%ZZ\s+the user id in the key name does not decode$/m)
  })

  it('the admin view renders, counts only real sessions and lists the skipped keys', async () => {
    const planted = await plant()
    const ui = await startUi('express', appKit(connection))
    try {
      const login = await call(ui.url, 'POST', '/test/login?user=admin', {
        headers: { 'user-agent': USER_AGENTS.chromeWindows },
      })
      const cookie = cookiePair(login.setCookies, kit.cookieName)!
      const view = await call(ui.url, 'GET', '/admin/sessions?user=carol', { cookie })
      expect(view.status).toBe(200)
      // The admin's own session makes five.
      expect(view.text).toMatch(/data-stat="total">\s*<div class="value">5<\/div>/)
      expect(view.text).toContain(`data-skipped="${planted.expected.size - 3}"`)
      for (const [key, reason] of planted.expected) {
        if (key.includes('}:u:')) continue
        // Sessions the store scanned by name are reported under their key, the others as "session <id>".
        const name = /:s:short$|:s:A+$|:s:C+$/.test(key)
          ? key
          : `session ${key.replace(/^.*\{(\w+)\}:s:/, '$1.')}`
        expect(view.text, key).toContain(escapeHtml(name))
        expect(view.text).toContain(escapeHtml(reason.source))
      }
      // The look-up of carol lists her real session and reports the malformed one.
      expect(view.text).toContain('Skipped sessions of carol: 1')
      expect((view.text.match(/data-session-id="/g) ?? []).length).toBe(1)
    } finally {
      await ui.close()
    }
  })
})

function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
}
