/**
 * Redis deployments the suite starts and breaks: a Sentinel group (1 primary, 2 replicas, 3 Sentinels, all on
 * loopback; the Debian redis-server binary runs Sentinel with `--sentinel`), and helpers to watch a Cluster's
 * roles. Every command goes through an async `redis-cli`, so the load generator in this process keeps running
 * while a fault is being injected.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort, startRedis, waitForPing, type RedisProcess } from '../../helpers/redis-server.js'
import { sleep } from './profile.js'

const run = promisify(execFile)

/** Runs `redis-cli -p <port> <args>` and returns its output ('' when the server does not answer). */
export async function cli(port: number, ...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('redis-cli', ['-p', String(port), ...args], { timeout: 5000 })
    return stdout.trim()
  } catch {
    return ''
  }
}

/** Polls `test` every 100 ms until it holds, or throws after `limitMs`. */
export async function until(what: string, test: () => Promise<boolean>, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

/** `master` or `slave` (with `connected` once its link is up), from ROLE. */
export async function role(port: number): Promise<string> {
  const lines = (await cli(port, 'ROLE')).split('\n')
  return lines[0] === 'slave' ? `slave ${lines[3] ?? ''}`.trim() : (lines[0] ?? '')
}

export interface SentinelGroup {
  readonly name: string
  /** The data nodes: the first one starts as primary. Replaced entries are restarted nodes. */
  readonly nodes: RedisProcess[]
  readonly sentinels: readonly { host: string; port: number }[]
  /** The port the Sentinels name as primary now (asks every Sentinel; undefined while they disagree). */
  primaryPort(): Promise<number | undefined>
  stop(): Promise<void>
}

interface SentinelProcess {
  readonly port: number
  readonly child: ChildProcess
  readonly dir: string
}

async function startSentinel(name: string, primaryPort: number): Promise<SentinelProcess> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-sentinel-'))
  const config = join(dir, 'sentinel.conf')
  writeFileSync(
    config,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 10000`,
      `sentinel parallel-syncs ${name} 2`,
      '',
    ].join('\n'),
  )
  const child = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' })
  if (!(await waitForPing(port, 5000))) throw new Error(`sentinel did not start on ${port}`)
  return { port, child, dir }
}

/** Field → value from a flat `redis-cli` reply of name/value lines. */
function fields(text: string): Map<string, string> {
  const lines = text.split('\n')
  const out = new Map<string, string>()
  for (let i = 0; i + 1 < lines.length; i += 2) out.set(lines[i]!, lines[i + 1]!)
  return out
}

/**
 * Starts a primary, `replicas` replicas and 3 Sentinels (quorum 2, a primary is down after 1 s of silence), and
 * waits until every Sentinel sees every replica and the other two Sentinels.
 */
export async function startSentinelGroup(replicas = 2): Promise<SentinelGroup> {
  const name = `sk${Math.random().toString(36).slice(2, 8)}`
  const primary = await startRedis()
  const nodes = [primary]
  for (let i = 0; i < replicas; i++) {
    nodes.push(await startRedis(['--replicaof', '127.0.0.1', String(primary.port)]))
  }
  await until('the replicas to sync', async () =>
    (await Promise.all(nodes.slice(1).map((n) => role(n.port)))).every((r) => r === 'slave connected'),
  )
  const sentinels = await Promise.all([0, 1, 2].map(() => startSentinel(name, primary.port)))
  await until('the Sentinels to see the whole group', async () => {
    const views = await Promise.all(sentinels.map((s) => cli(s.port, 'SENTINEL', 'MASTER', name)))
    return views.every((v) => {
      const f = fields(v)
      return f.get('num-slaves') === String(replicas) && f.get('num-other-sentinels') === '2'
    })
  })
  return {
    name,
    nodes,
    sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
    async primaryPort() {
      const answers = await Promise.all(
        sentinels.map((s) => cli(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name)),
      )
      const ports = new Set(answers.map((a) => a.split('\n')[1]))
      const [port] = ports
      return ports.size === 1 && port ? Number(port) : undefined
    },
    async stop() {
      for (const s of sentinels) {
        s.child.kill('SIGKILL')
        rmSync(s.dir, { recursive: true, force: true })
      }
      await Promise.all(nodes.map((n) => n.stop()))
    },
  }
}
