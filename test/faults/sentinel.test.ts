/**
 * Redis Sentinel: 1 primary + 2 replicas + 3 Sentinels started here; a forced `SENTINEL FAILOVER` and a SIGKILL of
 * the primary, under HTTP load with revokers racing the failover, on ioredis's Sentinel client
 * (`new Redis({ sentinels, name })`) and node-redis's `createSentinel()`.
 *
 * The store confirms revocations, sign-outs and rotations on every replica (`waitForReplicas: { replicas: 2 }`):
 * whichever replica Sentinel promotes then holds every acknowledged revocation, so none is undone. Writes are not
 * confirmed (a forced failover may lose the last ones acknowledged by the old primary): that is measured, not
 * asserted.
 */
import { afterEach, describe, it } from 'vitest'
import { startRedis } from '../helpers/redis-server.js'
import type { ClientKind, Framework } from './harness/app-process.js'
import { expectGuarantees } from './harness/guarantees.js'
import { pick, sleep } from './harness/profile.js'
import { runScenario, type FaultContext } from './harness/scenario.js'
import { cli, role, startSentinelGroup, until, type SentinelGroup } from './harness/topology.js'

const TIMEOUT_MS = 1000
const REPLICAS = 2

interface Fault {
  readonly name: string
  run(group: SentinelGroup, ctx: FaultContext): Promise<void>
}

/** Waits until every Sentinel names a primary other than `old`, and that node says it is one. */
async function untilNewPrimary(group: SentinelGroup, old: number): Promise<number> {
  let next = 0
  await until('a new primary', async () => {
    const port = await group.primaryPort()
    if (port === undefined || port === old || (await role(port)) !== 'master') return false
    next = port
    return true
  })
  return next
}

/** Waits until the new primary has its full set of replicas back (WAIT needs them). */
async function untilReplicated(primary: number): Promise<void> {
  let info = ''
  try {
    await until(
      'every replica to follow the new primary',
      async () => {
        info = await cli(primary, 'INFO', 'replication')
        return (
          new RegExp(`connected_slaves:${REPLICAS}\\b`).test(info) &&
          !/state=(wait_bgsave|send_bulk)/.test(info)
        )
        // A full resync under load on a busy 2-core machine can take a while.
      },
      120_000,
    )
  } catch (error) {
    throw new Error(`${(error as Error).message}; the primary on ${primary} says: ${info}`, { cause: error })
  }
}

const FAULTS: readonly Fault[] = [
  {
    name: 'SENTINEL FAILOVER',
    async run(group, ctx) {
      const old = (await group.primaryPort())!
      await cli(group.sentinels[0]!.port, 'SENTINEL', 'FAILOVER', group.name)
      ctx.begin()
      const next = await untilNewPrimary(group, old)
      // The old primary keeps taking writes until Sentinel demotes it: revocations must not be confirmed there.
      await until('the old primary to be demoted', async () => (await role(old)).startsWith('slave'))
      await untilReplicated(next)
      await ctx.sampleMemory()
    },
  },
  {
    name: 'primary SIGKILLed',
    async run(group, ctx) {
      const old = (await group.primaryPort())!
      const index = group.nodes.findIndex((n) => n.port === old)
      await group.nodes[index]!.kill()
      ctx.begin()
      const next = await untilNewPrimary(group, old)
      await ctx.sampleMemory()
      // An operator brings the dead node back, as a replica of the new primary (its data is gone).
      await sleep(1000)
      group.nodes[index] = await startRedis(['--replicaof', '127.0.0.1', String(next)], old)
      await untilReplicated(next)
    },
  },
]

interface Case {
  readonly fault: Fault
  readonly client: ClientKind
  readonly framework: Framework
  readonly ci?: boolean
}

const CASES: readonly Case[] = [
  { fault: FAULTS[0]!, client: 'ioredis-sentinel', framework: 'express5', ci: true },
  { fault: FAULTS[0]!, client: 'node-redis-sentinel', framework: 'fastify', ci: true },
  { fault: FAULTS[1]!, client: 'ioredis-sentinel', framework: 'fastify' },
  { fault: FAULTS[1]!, client: 'node-redis-sentinel', framework: 'express5' },
]

describe('Redis Sentinel failover', () => {
  let group: SentinelGroup | undefined
  afterEach(async () => {
    await group?.stop()
    group = undefined
  })

  for (const { fault, client, framework } of pick(CASES)) {
    it(`${fault.name} on ${client} + ${framework}: no acknowledged revocation is undone`, async () => {
      const started = await startSentinelGroup(REPLICAS)
      group = started
      const report = await runScenario({
        name: `Sentinel: ${fault.name} — ${client} + ${framework}`,
        app: {
          framework,
          client,
          target: { sentinels: started.sentinels, name: started.name },
          store: { timeoutMs: TIMEOUT_MS, waitForReplicas: { replicas: REPLICAS, timeoutMs: 300 } },
        },
        // Revokers race the failover: more of them than elsewhere.
        load: { revokers: 3 },
        durable: false,
        fault: (ctx) => fault.run(started, ctx),
      })
      expectGuarantees(report, {
        timeoutMs: TIMEOUT_MS,
        durable: false,
        revocationsDurable: true,
        noReplays: false,
      })
    })
  }
})
