/**
 * Outages: Redis down when the app starts (the app must start, answer 503s, and work once Redis comes up, without a
 * restart), and a long outage — Redis frozen for 60 s (15 s in the CI subset) under heavy load — during which the
 * store must shed load (bounded in-flight calls, circuit breaker) instead of piling up work: memory stays bounded
 * and nothing that failed is replayed when Redis thaws.
 */
import { afterEach, describe, it } from 'vitest'
import { freePort, startRedis, type RedisProcess } from '../helpers/redis-server.js'
import type { ClientKind, Framework } from './harness/app-process.js'
import { expectGuarantees } from './harness/guarantees.js'
import { duration, pick, sleep } from './harness/profile.js'
import { runScenario } from './harness/scenario.js'

const TIMEOUT_MS = 500
/** The long outage's deadline: short, so that even before a store fails fast, calls come thick and fast. */
const LONG_OUTAGE_TIMEOUT_MS = 250

/**
 * Heap + external growth allowed over a long outage. The store's in-flight cap (default 1000 calls) bounds what
 * can pile up to a few MB; without it, 60 s of this load piles up tens of MB of queued commands.
 */
const MAX_GROWTH_MB = 16

interface Case {
  readonly client: ClientKind
  readonly framework: Framework
  readonly ci?: boolean
}

describe('Redis down when the app starts', () => {
  let server: RedisProcess | undefined
  afterEach(async () => {
    await server?.stop()
    server = undefined
  })

  const cases: readonly Case[] = [
    { client: 'node-redis', framework: 'fastify', ci: true },
    { client: 'ioredis', framework: 'express5', ci: true },
  ]
  for (const { client, framework } of pick(cases)) {
    it(`${client} + ${framework}: starts, answers 503, works once Redis is up, replays nothing`, async () => {
      const port = await freePort()
      const report = await runScenario({
        name: `Redis down at start — ${client} + ${framework}`,
        app: {
          framework,
          client,
          target: { url: `redis://127.0.0.1:${port}` },
          store: { timeoutMs: TIMEOUT_MS },
        },
        downAtStart: true,
        durable: false,
        fault: async (ctx) => {
          await sleep(duration(5000, 4000))
          await ctx.sampleMemory()
          server = await startRedis([], port)
        },
      })
      expectGuarantees(report, {
        timeoutMs: TIMEOUT_MS,
        durable: false,
        revocationsDurable: true,
        noReplays: true,
      })
    })
  }
})

describe('a long outage', () => {
  let server: RedisProcess | undefined
  afterEach(async () => {
    if (server?.child.pid !== undefined && server.child.exitCode === null) {
      process.kill(server.child.pid, 'SIGCONT')
    }
    await server?.stop()
    server = undefined
  })

  const cases: readonly Case[] = [
    { client: 'node-redis', framework: 'express5', ci: true },
    { client: 'ioredis', framework: 'fastify' },
  ]
  const outageMs = duration(60_000, 15_000)
  for (const { client, framework } of pick(cases)) {
    it(`${client} + ${framework}: ${outageMs / 1000} s frozen under load, memory bounded, nothing replayed`, async () => {
      const started = await startRedis()
      server = started
      const report = await runScenario({
        name: `Redis frozen ${outageMs / 1000} s — ${client} + ${framework}`,
        app: {
          framework,
          client,
          target: { url: started.url },
          store: {
            timeoutMs: LONG_OUTAGE_TIMEOUT_MS,
            maxInFlight: 1000,
            circuitBreaker: { failures: 5, cooldownMs: 1000 },
          },
        },
        // Many users who click on when they get an error: ~800 calls/s while each call waits out its deadline,
        // thousands once the store fails fast.
        load: { users: 200, thinkMs: 20 },
        durable: true,
        fault: async (ctx) => {
          process.kill(started.child.pid!, 'SIGSTOP')
          ctx.begin()
          await sleep(outageMs)
          await ctx.sampleMemory()
          process.kill(started.child.pid!, 'SIGCONT')
        },
      })
      expectGuarantees(report, {
        timeoutMs: LONG_OUTAGE_TIMEOUT_MS,
        durable: true,
        revocationsDurable: true,
        noReplays: true,
        maxGrowthMb: MAX_GROWTH_MB,
      })
    })
  }
})
