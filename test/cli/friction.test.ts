/**
 * What a new user of the CLI ran into (issue 10, item 7; issue 9, item 7's `--json` finding), on the run's private
 * single Redis and Cluster: a Cluster node given to `--redis`, how ids are described, error prefixes, hostile
 * stored text in `--json`, the Redis client that happens to be installed, and progress with totals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionkit, type DeviceInfo, type Sessionkit } from '../../src/index.js'
import { run } from '../../src/cli/program.js'
import type { Connection } from '../../src/cli/connect.js'
import { freePort } from '../helpers/redis-server.js'
import {
  REPO_ROOT,
  USER_AGENTS,
  anonymousSession,
  appKit,
  connectTo,
  deployments,
  runCli,
  signIn,
  uniquePrefix,
  type CliRun,
} from './helpers.js'
import { inject } from 'vitest'

/** Exactly one line on stderr, prefixed like every CLI error, no stack trace. */
function expectOneLineError(result: CliRun, pattern: RegExp): void {
  expect(result.stdout).toBe('')
  const lines = result.stderr.trimEnd().split('\n')
  expect(lines, result.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^sessionkit: \S/)
  expect(lines[0]).toMatch(pattern)
  expect(result.stderr).not.toMatch(/\n\s+at /)
}

/** The CLI with some packages made unresolvable, as in a project that does not have them installed. */
function runWithout(modules: readonly string[], args: readonly string[]): Promise<CliRun> {
  return runCli(args, {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${REPO_ROOT}test/cli/hide-modules.mjs`.trim(),
    SESSIONKIT_TEST_HIDE_MODULES: modules.join(','),
  })
}

// Characters a terminal acts on that JSON.stringify leaves raw: DEL, C1 (8-bit CSI, NEL), bidi override and
// isolate, line separator; plus C0 (ESC, BEL), which JSON escapes but text output must too.
const HOSTILE = 'x\u001b]0;pwned\u0007\u009b31m\u0085\u007f\u202egnp.exe\u2066\u2028'
// The characters a terminal must never receive raw (all of the above, and every other C0 but tab and newline).
const TERMINAL_UNSAFE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/

describe('a Cluster node given to --redis', () => {
  const node = (): string => `redis://${inject('clusterAddresses')[0]!}`

  it('is refused with a pointer to --cluster: exit 2, one line, with either client', async () => {
    for (const client of ['node-redis', 'ioredis']) {
      for (const command of [['stats'], ['list', '--user', 'alice']]) {
        const result = await runCli(['--redis', node(), ...command], { SESSIONKIT_REDIS_CLIENT: client })
        expect(result.code, `${client} ${command.join(' ')}`).toBe(2)
        expectOneLineError(
          result,
          /is a Redis Cluster node: use --cluster 127\.0\.0\.1:\d+ instead of --redis$/,
        )
        expect(result.stderr).not.toMatch(/MOVED/)
      }
    }
  })
})

describe('help and errors describe session ids as they are', () => {
  it('help of every command, and the error for a malformed id, say <tag>.<27 base64url>', async () => {
    const helps = await Promise.all(
      [['show'], ['revoke'], ['list'], ['cleanup'], ['stats'], []].map((command) =>
        runCli([...command, '--help']),
      ),
    )
    const all = helps.map((h) => h.stdout).join('\n')
    expect(all).not.toMatch(/64 hex/)
    expect(helps[0]!.stdout).toContain('<tag>.<27 base64url>')
    expect(helps[1]!.stdout).toContain('<tag>.<27 base64url>')
    const result = await runCli(['show', 'abc.123'])
    expect(result.code).toBe(2)
    expectOneLineError(result, /"abc\.123" is not a session id \(<tag>\.<27 base64url>, as list shows it\)$/)
  })

  it("commander's own usage errors get the same one-line sessionkit: prefix (exit 2)", async () => {
    const cases: [string[], RegExp][] = [
      [['lst'], /^sessionkit: unknown command 'lst' \(Did you mean list\?\)$/],
      [['list'], /^sessionkit: required option '-u, --user <id>' not specified$/],
      [['show'], /^sessionkit: missing required argument 'SESSION_ID'$/],
      [
        ['stats', '--top', 'x'],
        /^sessionkit: option '--top <n>' argument 'x' is invalid\. must be a non-negative/,
      ],
      [['list', '--user', 'a', '--bogus\u001b[2J'], /^sessionkit: unknown option '--bogus\\x1b\[2J'$/],
    ]
    for (const [args, pattern] of cases) {
      const result = await runCli(args)
      expect(result.code, args.join(' ')).toBe(2)
      expectOneLineError(result, pattern)
    }
  })
})

describe('the Redis client the project has installed', () => {
  it('runs on ioredis alone (no @redis/client, no redis), on a single node and a Cluster', async () => {
    for (const deployment of deployments()) {
      const prefix = uniquePrefix()
      const connection = await connectTo(deployment, prefix)
      try {
        const id = await signIn(appKit(connection), 'iris', USER_AGENTS.safariIphone, '192.0.2.40')
        const base = [...deployment.flags, '--prefix', prefix, '--json']
        const list = await runWithout(['@redis/client', 'redis'], [...base, 'list', '--user', 'iris'])
        expect(list.stderr).toBe('')
        expect(list.code).toBe(0)
        expect((JSON.parse(list.stdout) as { sessions: { id: string }[] }).sessions.map((s) => s.id)).toEqual(
          [id],
        )
        const stats = await runWithout(['@redis/client', 'redis'], [...base, 'stats'])
        expect(JSON.parse(stats.stdout)).toMatchObject({ sessions: 1, signedInUsers: 1 })
        const revoke = await runWithout(['@redis/client', 'redis'], [...base, 'revoke', id])
        expect(JSON.parse(revoke.stdout)).toEqual({ revoked: 1, userId: 'iris', sessionId: id, except: null })
      } finally {
        await connection.close()
      }
    }
  })

  it('with ioredis, an unreachable Redis is still exit 3 with the socket error', async () => {
    const port = await freePort()
    for (const flags of [
      ['--redis', `redis://127.0.0.1:${port}`],
      ['--cluster', `127.0.0.1:${port}`],
    ]) {
      const result = await runCli([...flags, 'stats'], { SESSIONKIT_REDIS_CLIENT: 'ioredis' })
      expect(result.code).toBe(3)
      expectOneLineError(
        result,
        /^sessionkit: cannot reach Redis at .*127\.0\.0\.1:\d+: .*(ECONNREFUSED|available)/,
      )
    }
  })

  it('without any Redis client: exit 3 and one line saying what to install', async () => {
    const result = await runWithout(
      ['@redis/client', 'redis', 'ioredis'],
      ['--redis', 'redis://127.0.0.1:1', 'stats'],
    )
    expect(result.code).toBe(3)
    expectOneLineError(
      result,
      /^sessionkit: no Redis client found \(looked for @redis\/client, redis, ioredis\): install one .*npm install @redis\/client$/,
    )
  })

  it('refuses an unknown SESSIONKIT_REDIS_CLIENT (exit 2)', async () => {
    const result = await runCli(['stats'], { SESSIONKIT_REDIS_CLIENT: 'valkey-glide' })
    expect(result.code).toBe(2)
    expectOneLineError(result, /SESSIONKIT_REDIS_CLIENT must be node-redis or ioredis/)
  })
})

describe.each(deployments())('hostile stored text on $name Redis', (deployment) => {
  let connection: Connection
  let prefix: string
  let id: string
  const hostileDevice: DeviceInfo = {
    browser: HOSTILE,
    os: `os${HOSTILE}`,
    deviceType: 'x',
    deviceName: HOSTILE,
  }
  const userId = `eve${HOSTILE}`

  beforeAll(async () => {
    prefix = uniquePrefix()
    connection = await connectTo(deployment, prefix)
    const kit: Sessionkit = createSessionkit({
      store: connection.store,
      cookie: { secure: false },
      deviceParser: () => hostileDevice,
    })
    id = await signIn(kit, userId, 'Mozilla/5.0 (evil)', '192.0.2.66', (s) => s.set(HOSTILE, HOSTILE))
  })

  afterAll(async () => {
    await connection.close()
  })

  const cli = (...args: string[]): Promise<CliRun> =>
    runCli([...deployment.flags, '--prefix', prefix, ...args])

  it('--json escapes every terminal control character and still parses back to the stored values', async () => {
    for (const args of [
      ['--json', 'list', '--user', userId],
      ['--json', 'show', id],
      ['--json', 'stats'],
      ['--json', 'revoke', '--user', userId, '--except', id],
    ]) {
      const result = await cli(...args)
      expect(result.code, args.join(' ')).toBe(0)
      expect(result.stdout, args.join(' ')).not.toMatch(TERMINAL_UNSAFE)
      expect(result.stdout).toMatch(/\\u009b31m\\u0085\\u007f\\u202egnp\.exe\\u2066\\u2028/)
    }
    const shown = JSON.parse((await cli('--json', 'show', id)).stdout) as Record<string, unknown>
    expect(shown).toMatchObject({
      userId,
      browser: HOSTILE,
      deviceName: HOSTILE,
      data: { [HOSTILE]: HOSTILE },
    })
    const stats = JSON.parse((await cli('--json', 'stats')).stdout) as { topUsers: { userId: string }[] }
    expect(stats.topUsers).toEqual([{ userId, sessions: 1 }])
  })

  it('text output escapes them too', async () => {
    for (const args of [['list', '--user', userId], ['show', id], ['stats']]) {
      const result = await cli(...args)
      expect(result.code, args.join(' ')).toBe(0)
      expect(result.stdout, args.join(' ')).not.toMatch(TERMINAL_UNSAFE)
      // Shown escaped (`\x1b`, or `\u001b` inside a quoted user id), never raw.
      expect(result.stdout).toMatch(/\\(x1b|u001b)\]0;pwned\\(x07|u0007)\\x9b31m\\x85\\x7f\\u202egnp\.exe/)
    }
  })
})

describe('progress with totals, when stderr is a terminal', () => {
  let connection: Connection
  let prefix: string
  const [single] = deployments()

  beforeAll(async () => {
    prefix = uniquePrefix()
    connection = await connectTo(single!, prefix)
    const kit = appKit(connection)
    for (const user of ['p1', 'p2', 'p3']) await signIn(kit, user, USER_AGENTS.chromeWindows, '192.0.2.70')
    await anonymousSession(kit, ['x'])
  })

  afterAll(async () => {
    await connection.close()
  })

  async function inProcess(
    args: string[],
    stderrIsTTY: boolean,
  ): Promise<{ stdout: string; stderr: string }> {
    let stdout = ''
    let stderr = ''
    const code = await run([...single!.flags, '--prefix', prefix, ...args], {
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      stderrIsTTY,
      env: {},
    })
    expect(code).toBe(0)
    return { stdout, stderr }
  }

  /** The progress lines as a terminal shows them, one per carriage return. */
  function lines(stderr: string): string[] {
    return (
      stderr
        .split('\r')
        // eslint-disable-next-line no-control-regex -- the erase-line escape after each progress line
        .map((l) => l.replace(/\u001b\[K\n?$/, ''))
        .filter((l) => l !== '')
    )
  }

  it('cleanup counts users first, then shows "N of ~TOTAL users"; the result stays on stdout', async () => {
    const { stdout, stderr } = await inProcess(['cleanup', '--dry-run'], true)
    const shown = lines(stderr)
    expect(shown.some((l) => /^cleanup: counting users… \d+$/.test(l))).toBe(true)
    expect(shown.at(-1)).toMatch(/^cleanup: 3 of ~[3-9] users, 0 pruned, 0 evicted$/)
    expect(stderr.endsWith('\n')).toBe(true)
    expect(stdout).toMatch(/^users checked\s+3$/m)
  })

  it('stats shows sessions and user indexes against their counted totals', async () => {
    const { stderr } = await inProcess(['stats'], true)
    const shown = lines(stderr)
    expect(shown).toContainEqual(expect.stringMatching(/^stats: 4 of ~[4-9] sessions$/))
    expect(shown).toContainEqual(expect.stringMatching(/^stats: 3 of ~[3-9] user indexes$/))
  })

  it('nothing on stderr when it is not a terminal', async () => {
    expect((await inProcess(['cleanup', '--dry-run'], false)).stderr).toBe('')
    expect((await inProcess(['stats'], false)).stderr).toBe('')
  })
})
