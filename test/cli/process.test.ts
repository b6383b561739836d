/**
 * The CLI as a real process (`node --import tsx src/cli/main.ts ...`): exit codes, stdout/stderr discipline and
 * the `--json` shapes, on the single Redis and on the Cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Sessionkit } from '../../src/index.js'
import type { Connection } from '../../src/cli/connect.js'
import { freePort } from '../helpers/redis-server.js'
import {
  USER_AGENTS,
  anonymousSession,
  appKit,
  connectTo,
  deployments,
  singleRedisUrl,
  runCli,
  signIn,
  uniquePrefix,
  type CliRun,
} from './helpers.js'

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

/** Exactly one line on stderr, no stack trace. */
function expectOneLineError(run: CliRun, pattern: RegExp): void {
  expect(run.stdout).toBe('')
  const lines = run.stderr.trimEnd().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(pattern)
  expect(run.stderr).not.toMatch(/\n\s+at /)
}

describe.each(deployments())('sessionkit CLI process on $name Redis', (deployment) => {
  let connection: Connection
  let kit: Sessionkit
  let prefix: string
  let desktop: string
  let phone: string
  let anonymous: string

  const cli = (...args: string[]): Promise<CliRun> =>
    runCli([...deployment.flags, '--prefix', prefix, ...args])

  beforeAll(async () => {
    prefix = uniquePrefix()
    connection = await connectTo(deployment, prefix)
    kit = appKit(connection)
    desktop = await signIn(kit, 'alice', USER_AGENTS.chromeWindows, '203.0.113.5', (s) => {
      s.set('theme', 'dark')
      s.namespace('flash').set('notice', 'Saved')
    })
    phone = await signIn(kit, 'alice', USER_AGENTS.safariIphone, '2001:db8::7')
    await signIn(kit, 'bob', USER_AGENTS.firefoxLinux, '198.51.100.1')
    anonymous = await anonymousSession(kit, ['book'])
  })

  afterAll(async () => {
    await connection.close()
  })

  it('list --json: the API fields, ISO times, exit 0', async () => {
    const run = await cli('list', '--user', 'alice', '--json')
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const parsed = JSON.parse(run.stdout) as { userId: string; sessions: Record<string, unknown>[] }
    expect(parsed.userId).toBe('alice')
    expect(parsed.sessions.map((s) => s.id).sort()).toEqual([desktop, phone].sort())
    for (const s of parsed.sessions) {
      expect(Object.keys(s).sort()).toEqual(
        [
          'absoluteExpiresAt',
          'browser',
          'current',
          'deviceName',
          'deviceType',
          'elevated',
          'expiresAt',
          'id',
          'impersonated',
          'ipAddress',
          'lastSeenAt',
          'os',
          'rememberMe',
          'signedInAt',
          'userId',
        ].sort(),
      )
      expect(s.current).toBe(false)
      expect(s.signedInAt).toMatch(ISO)
      expect(s.lastSeenAt).toMatch(ISO)
    }
  })

  it('list prints a table that fits 80 columns, without the always-false current column', async () => {
    const run = await cli('list', '--user', 'alice')
    expect(run.code).toBe(0)
    const lines = run.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^ID\s+LAST SEEN\s+IP ADDRESS\s+DEVICE$/)
    expect(lines).toHaveLength(4)
    const phoneLine = lines.find((l) => l.startsWith(phone))
    expect(phoneLine).toMatch(/\s(just now|\d+m ago)\s+2001:db8::7\s+Mobile Safari on iOS$/)
    // Columns line up: every row's DEVICE column starts where the header's does.
    const column = lines[0]!.indexOf('DEVICE')
    for (const line of lines.slice(1, 3)) expect(line.slice(column)).toMatch(/^(Chrome|Mobile Safari) on /)
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(80)
    expect(run.stdout).not.toMatch(/CURRENT|false/)
    expect(lines[3]).toBe('2 sessions of user "alice"')
  })

  it('show --json: metadata, grouped data, TTL', async () => {
    const run = await cli('show', desktop, '--json')
    expect(run.code).toBe(0)
    const parsed = JSON.parse(run.stdout) as Record<string, unknown>
    expect(parsed).toMatchObject({
      id: desktop,
      userId: 'alice',
      browser: 'Chrome',
      os: 'Windows',
      data: { theme: 'dark' },
      namespaces: { flash: { notice: 'Saved' } },
      invalidValues: [],
      validMetadata: true,
    })
    expect(parsed.ttlSeconds).toBeGreaterThan(0)
  })

  it('show prints metadata, TTL and data', async () => {
    const run = await cli('show', anonymous)
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^user\s+\(anonymous\)$/m)
    expect(run.stdout).toMatch(/^ttl\s+1h 59m \d+s \(\d+ s\)$|^ttl\s+2h 0s \(7200 s\)$/m)
    expect(run.stdout).toMatch(/^ {2}cart\s+\["book"\]$/m)
  })

  it('show of an unknown session: exit 1, one line on stderr', async () => {
    const run = await cli('show', `abc.${'0'.repeat(27)}`)
    expect(run.code).toBe(1)
    expectOneLineError(run, /^sessionkit: session abc\.0+ not found$/)
  })

  it('revoke SESSION_ID --json, then again: exit 0 then 1', async () => {
    const first = await cli('revoke', phone, '--json')
    expect(first.code).toBe(0)
    expect(JSON.parse(first.stdout)).toEqual({ revoked: 1, userId: 'alice', sessionId: phone, except: null })
    const second = await cli('revoke', phone)
    expect(second.code).toBe(1)
    expectOneLineError(second, /not found/)
  })

  it('cleanup --dry-run --json and stats --json', async () => {
    const cleanup = await cli('cleanup', '--dry-run', '--json', '--max-sessions', '5')
    expect(cleanup.code).toBe(0)
    // Not a terminal: no progress on stderr.
    expect(cleanup.stderr).toBe('')
    expect(JSON.parse(cleanup.stdout)).toEqual({
      dryRun: true,
      maxSessions: 5,
      users: 2,
      pruned: 0,
      evicted: 0,
      skipped: { count: 0, keys: [] },
    })

    const stats = await cli('stats', '--json')
    expect(stats.code).toBe(0)
    const parsed = JSON.parse(stats.stdout) as Record<string, unknown>
    expect(Object.keys(parsed).sort()).toEqual(
      [
        'anonymousSessions',
        'byBrowser',
        'byDeviceCategory',
        'byDeviceType',
        'byOs',
        'impersonatedSessions',
        'memory',
        'sessions',
        'signedInSessions',
        'signedInUsers',
        'skipped',
        'topUsers',
      ].sort(),
    )
    expect(parsed).toMatchObject({ anonymousSessions: 1, signedInUsers: 2 })
    expect((parsed.memory as { sessions: { sampled: number } }).sessions.sampled).toBe(parsed.sessions)
  })

  it('cleanup and stats print text too', async () => {
    const cleanup = await cli('cleanup', '--user', 'alice')
    expect(cleanup.code).toBe(0)
    expect(cleanup.stdout).toMatch(/^users checked\s+1$/m)
    const stats = await cli('stats')
    expect(stats.code).toBe(0)
    expect(stats.stdout).toMatch(/^anonymous sessions\s+1$/m)
    expect(stats.stdout).toMatch(/^FAMILY\s+KEYS\s+SAMPLED\s+AVERAGE\s+ESTIMATED TOTAL$/m)
    expect(stats.stdout).toMatch(/^top users by session count$/m)
  })

  it('revoke --user --json: exit 0', async () => {
    const run = await cli('revoke', '--user', 'bob', '--json')
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual({ revoked: 1, userId: 'bob', sessionId: null, except: null })
  })

  it('bad usage: exit 2 with one line on stderr, before touching Redis', async () => {
    for (const args of [
      ['list'],
      ['show', 'not-an-id'],
      ['revoke'],
      ['revoke', '--except', desktop],
      ['cleanup', '--max-sessions', 'lots'],
      ['frobnicate'],
      ['list', '--user', 'alice', '--bogus'],
    ]) {
      const run = await cli(...args)
      expect(run.code, args.join(' ')).toBe(2)
      expectOneLineError(run, /\S/)
    }
  })
})

describe('sessionkit CLI connection handling', () => {
  it('exits 3 (no reconnect loop: the process ends) when nothing listens on the port (single and cluster)', async () => {
    const port = await freePort()
    for (const flags of [
      ['--redis', `redis://127.0.0.1:${port}`],
      ['--cluster', `127.0.0.1:${port}`],
    ]) {
      const run = await runCli([...flags, '--json', 'list', '--user', 'alice'])
      expect(run.code).toBe(3)
      expectOneLineError(
        run,
        new RegExp(`^sessionkit: cannot reach Redis at .*127\\.0\\.0\\.1:${port}.*ECONNREFUSED`),
      )
    }
  })

  it('never prints the password of a URL', async () => {
    const port = await freePort()
    const run = await runCli(['--redis', `redis://admin:s3cret@127.0.0.1:${port}`, 'stats'])
    expect(run.code).toBe(3)
    expect(run.stderr).not.toContain('s3cret')
  })

  it('uses REDIS_URL when --redis is not given', async () => {
    const prefix = uniquePrefix()
    const run = await runCli(['--prefix', prefix, 'list', '--user', 'zed', '--json'], {
      REDIS_URL: singleRedisUrl(),
    })
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual({ userId: 'zed', sessions: [], skipped: { count: 0, keys: [] } })
  })

  it('refuses conflicting or malformed connection options (exit 2)', async () => {
    for (const args of [
      ['--redis', 'redis://127.0.0.1:1', '--cluster', '127.0.0.1:2', 'stats'],
      ['--redis', 'http://127.0.0.1:1', 'stats'],
      ['--cluster', 'nohostport', 'stats'],
      ['--prefix', 'bad*prefix', 'stats'],
    ]) {
      const run = await runCli(args)
      expect(run.code, args.join(' ')).toBe(2)
      expectOneLineError(run, /^sessionkit: /)
    }
  })

  it('--help exits 0', async () => {
    const run = await runCli(['--help'])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/Usage: sessionkit/)
  })
})
