/**
 * Redis Cluster, 3 masters + 3 replicas started here: a master SIGKILLed (its replica takes over after the node
 * timeout; the dead node comes back as a replica), and a graceful `CLUSTER FAILOVER` run on a replica, under HTTP
 * load, on ioredis's and node-redis's Cluster clients.
 *
 * Revocations, sign-outs and rotations are confirmed by the shard's replica (`waitForReplicas: { replicas: 1 }`),
 * so a promoted replica holds every acknowledged one. A graceful failover loses nothing at all.
 */
import { afterEach, describe, it } from 'vitest'
import { startCluster, startRedis, type RedisCluster, type RedisProcess } from '../helpers/redis-server.js'
import type { ClientKind, Framework } from './harness/app-process.js'
import { expectGuarantees } from './harness/guarantees.js'
import { pick, sleep } from './harness/profile.js'
import { runScenario, type FaultContext } from './harness/scenario.js'
import { cli, role, until } from './harness/topology.js'

const TIMEOUT_MS = 1000
const NODE_TIMEOUT_MS = 2000

interface Fault {
  readonly name: string
  /** Data survives it (a graceful failover), so everything acknowledged must be there after. */
  readonly durable: boolean
  run(cluster: RedisCluster, nodes: RedisProcess[], ctx: FaultContext): Promise<void>
}

/** The replica of the master on `port` (from CLUSTER NODES). */
async function replicaOf(masterPort: number, nodes: readonly RedisProcess[]): Promise<RedisProcess> {
  const table = await cli(masterPort, 'CLUSTER', 'NODES')
  const masterId = table
    .split('\n')
    .find((l) => l.includes(`:${masterPort}@`))
    ?.split(' ')[0]
  const line = table.split('\n').find((l) => l.split(' ')[3] === masterId)
  const port = Number(/:(\d+)@/.exec(line ?? '')?.[1])
  const replica = nodes.find((n) => n.port === port)
  if (!replica) throw new Error(`no replica found for the master on ${masterPort}`)
  return replica
}

/** Every node agrees the cluster is whole again, and every master has its replica. */
async function untilHealthy(nodes: readonly RedisProcess[]): Promise<void> {
  await until('the cluster to be whole again', async () => {
    const states = await Promise.all(nodes.map((n) => cli(n.port, 'CLUSTER', 'INFO')))
    const roles = await Promise.all(nodes.map((n) => role(n.port)))
    return (
      states.every((s) => s.includes('cluster_state:ok')) &&
      roles.filter((r) => r === 'slave connected').length === 3 &&
      roles.filter((r) => r === 'master').length === 3
    )
  })
}

const FAULTS: readonly Fault[] = [
  {
    name: 'master SIGKILLed',
    durable: false,
    async run(_cluster, nodes, ctx) {
      const victim = nodes[0]!
      const replica = await replicaOf(victim.port, nodes)
      await victim.kill()
      ctx.begin()
      await until('the replica to take over', async () => (await role(replica.port)) === 'master')
      await ctx.sampleMemory()
      // The dead node comes back with its cluster config and rejoins as the new master's replica.
      await sleep(1000)
      nodes[0] = await startRedis(clusterArgs(), victim.port, { dir: victim.dir })
      await untilHealthy(nodes)
    },
  },
  {
    name: 'CLUSTER FAILOVER on a replica',
    durable: true,
    async run(_cluster, nodes, ctx) {
      const replica = await replicaOf(nodes[1]!.port, nodes)
      await cli(replica.port, 'CLUSTER', 'FAILOVER')
      ctx.begin()
      await until('the replica to take over', async () => (await role(replica.port)) === 'master')
      await untilHealthy(nodes)
      await ctx.sampleMemory()
    },
  },
]

function clusterArgs(): string[] {
  return [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    String(NODE_TIMEOUT_MS),
  ]
}

interface Case {
  readonly fault: Fault
  readonly client: ClientKind
  readonly framework: Framework
  readonly ci?: boolean
}

const CASES: readonly Case[] = [
  { fault: FAULTS[0]!, client: 'ioredis-cluster', framework: 'fastify', ci: true },
  { fault: FAULTS[0]!, client: 'node-redis-cluster', framework: 'express5' },
  { fault: FAULTS[1]!, client: 'node-redis-cluster', framework: 'fastify', ci: true },
  { fault: FAULTS[1]!, client: 'ioredis-cluster', framework: 'express5' },
]

describe('Redis Cluster failover', () => {
  let cluster: RedisCluster | undefined
  let nodes: RedisProcess[] = []
  afterEach(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    await cluster?.stop()
    cluster = undefined
    nodes = []
  })

  for (const { fault, client, framework } of pick(CASES)) {
    it(`${fault.name} on ${client} + ${framework}: the guarantees hold`, async () => {
      cluster = await startCluster({ replicas: 1, nodeTimeoutMs: NODE_TIMEOUT_MS })
      nodes = [...cluster.nodes]
      const started = cluster
      const report = await runScenario({
        name: `Cluster: ${fault.name} — ${client} + ${framework}`,
        app: {
          framework,
          client,
          target: {
            nodes: started.addresses.map((a) => ({ host: '127.0.0.1', port: Number(a.split(':')[1]) })),
          },
          store: { timeoutMs: TIMEOUT_MS, waitForReplicas: { replicas: 1, timeoutMs: 300 } },
        },
        load: { revokers: 2 },
        durable: fault.durable,
        fault: (ctx) => fault.run(started, nodes, ctx),
      })
      expectGuarantees(report, {
        timeoutMs: TIMEOUT_MS,
        durable: fault.durable,
        revocationsDurable: true,
        noReplays: fault.durable,
      })
    })
  }
})
