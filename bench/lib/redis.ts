/** The benchmark's own redis-server (free port, pinned, no persistence) and its statistics. */
import { mkdirSync } from 'node:fs'
import { createClient } from 'redis'
import { freePort, sleep, spawnPinned, type Pinned } from './proc.js'

/** The little of a node-redis client the harness uses. */
export interface RedisClient {
  sendCommand(args: string[]): Promise<unknown>
  quit(): Promise<unknown>
}

export interface BenchRedis {
  readonly port: number
  readonly url: string
  readonly proc: Pinned
  readonly client: RedisClient
  stop(): Promise<void>
}

export async function startRedis(cpu: number, dir: string): Promise<BenchRedis> {
  mkdirSync(dir, { recursive: true })
  let port = await freePort()
  while (port === 6379) port = await freePort()
  const proc = spawnPinned(cpu, 'redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ])
  const url = `redis://127.0.0.1:${port}`
  const raw = createClient({ url })
  raw.on('error', () => undefined)
  let client: RedisClient
  for (let attempt = 0; ; attempt++) {
    try {
      client = await raw.connect()
      break
    } catch (error) {
      if (attempt > 100) throw error
      await sleep(50)
    }
  }
  return {
    port,
    url,
    proc,
    client,
    async stop() {
      await client.quit().catch(() => undefined)
      await proc.stop()
    },
  }
}

export async function command(client: RedisClient, args: string[]): Promise<unknown> {
  return client.sendCommand(args)
}

/** `INFO commandstats` as command → calls. */
export async function commandStats(client: RedisClient): Promise<Map<string, number>> {
  const text = String(await command(client, ['INFO', 'commandstats']))
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim())
    if (match) out.set(match[1]!, Number(match[2]))
  }
  return out
}

/**
 * Commands the harness itself sends, left out of every delta. (PING is not one of them: the near cache's links
 * send it in the background, and it counts.)
 */
const HARNESS = new Set(['info', 'config|resetstat', 'flushall', 'memory|usage', 'dbsize'])

/** Script commands: each is one round trip whatever it runs inside. */
const SCRIPT_COMMANDS = new Set(['evalsha', 'eval', 'fcall', 'evalsha_ro', 'eval_ro', 'fcall_ro'])

export interface CommandDelta {
  /** Every command Redis executed (those run inside scripts included), by name. */
  readonly byCommand: Record<string, number>
  readonly commands: number
  /**
   * Commands the client sent (round trips when nothing is pipelined, as in all these servers): the script
   * calls, plus every other command when no script ran. Commands run inside scripts are not round trips.
   */
  readonly roundTrips: number
}

export function commandDelta(before: Map<string, number>, after: Map<string, number>): CommandDelta {
  const byCommand: Record<string, number> = {}
  let commands = 0
  let scriptCalls = 0
  for (const [name, calls] of after) {
    if (HARNESS.has(name)) continue
    const delta = calls - (before.get(name) ?? 0)
    if (delta <= 0) continue
    byCommand[name] = delta
    commands += delta
    if (SCRIPT_COMMANDS.has(name)) scriptCalls += delta
  }
  return { byCommand, commands, roundTrips: scriptCalls > 0 ? scriptCalls : commands }
}

export async function usedMemory(client: RedisClient): Promise<number> {
  const text = String(await command(client, ['INFO', 'memory']))
  const match = /used_memory:(\d+)/.exec(text)
  return match ? Number(match[1]) : Number.NaN
}

export async function memoryUsage(client: RedisClient, key: string): Promise<number> {
  return Number(await command(client, ['MEMORY', 'USAGE', key, 'SAMPLES', '0']))
}

export async function redisVersion(client: RedisClient): Promise<string> {
  const text = String(await command(client, ['INFO', 'server']))
  return /redis_version:(\S+)/.exec(text)?.[1] ?? 'unknown'
}
