/**
 * The near cache on a Redis Cluster with replicas (3 primaries, one replica each, started here): one link per
 * primary, following failovers and resharding. Two app servers (node-redis and ioredis Cluster clients, both
 * ways round) share a prefix; what one writes the other never serves stale once it knows its link is down, and it
 * links to the new primary afterwards.
 */
import { spawnSync } from 'node:child_process'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionkit, StoreUnavailableError, type Sessionkit } from '../../src/index.js'
import { refFromToken } from '../../src/core/token.js'
import { openBackend, randomPrefix, type Backend, type BackendName } from '../helpers/backends.js'
import { Browser, sleep } from '../helpers/browser.js'
import { NearCacheWatch, nearCacheState, now } from '../helpers/near-cache.js'
import { startRedis, type RedisProcess } from '../helpers/redis-server.js'

interface Node {
  readonly port: number
  readonly id: string
  readonly client: Redis
}

/** A 3-primary Cluster, each primary with one replica, every node answering `cluster_state:ok`. */
async function startClusterWithReplicas(): Promise<{ nodes: RedisProcess[]; stop(): Promise<void> }> {
  const nodes = await Promise.all(
    Array.from({ length: 6 }, () =>
      startRedis([
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        '3000',
      ]),
    ),
  )
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()))
  }
  const create = spawnSync(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ],
    { encoding: 'utf8', timeout: 60_000 },
  )
  if (create.status !== 0) {
    await stop()
    throw new Error(`redis-cli --cluster create failed: ${create.stderr || create.stdout}`)
  }
  const info = (port: number, what: string): string =>
    spawnSync('redis-cli', ['-p', String(port), ...what.split(' ')], { encoding: 'utf8' }).stdout
  const deadline = Date.now() + 30_000
  for (;;) {
    const ready = nodes.every((n) => {
      if (!info(n.port, 'cluster info').includes('cluster_state:ok')) return false
      const replication = info(n.port, 'info replication')
      if (!replication.includes('role:master') && !replication.includes('master_link_status:up')) return false
      // Every node lists every primary with its replica (one line per primary and per replica: 6 lines).
      return (
        info(n.port, 'cluster nodes')
          .split('\n')
          .filter((line) => /\b(master|slave)\b/.test(line) && !/fail|handshake|noaddr/.test(line)).length ===
          6 &&
        info(n.port, 'cluster slots')
          .split('\n')
          .filter((line) => /^\d+$/.test(line.trim())).length > 0
      )
    })
    if (ready) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error('the cluster did not get ready')
    }
    await sleep(100)
  }
  return { nodes, stop }
}

describe('near cache on a Cluster with replicas', () => {
  let cluster: Awaited<ReturnType<typeof startClusterWithReplicas>>
  const controls = new Map<number, Redis>()

  beforeAll(async () => {
    cluster = await startClusterWithReplicas()
    for (const node of cluster.nodes) {
      const client = new Redis({ port: node.port, host: '127.0.0.1' })
      client.on('error', () => undefined)
      controls.set(node.port, client)
    }
  }, 120_000)
  afterAll(async () => {
    for (const client of controls.values()) client.disconnect()
    await cluster.stop()
  })

  const control = (port: number): Redis => controls.get(port)!

  /** The primary serving `key`'s slot now (as the first node sees it), and the slot. */
  async function primaryOf(key: string): Promise<{ primary: Node; slot: number }> {
    const any = control(cluster.nodes[0]!.port)
    const slot = Number(await any.call('CLUSTER', 'KEYSLOT', key))
    const ranges = (await any.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][]
    const range = ranges.find(([start, end]) => start <= slot && slot <= end)
    if (!range) throw new Error(`no range for slot ${slot}: ${JSON.stringify(ranges)}`)
    const [, port, id] = range[2]
    return { primary: { port, id, client: control(port) }, slot }
  }

  /** A replica of `primaryId` (from CLUSTER NODES: CLUSTER SLOTS leaves out replicas that never synced). */
  async function replicaOf(primaryId: string): Promise<Node> {
    for (let attempt = 0; attempt < 400; attempt++) {
      const lines = String(await control(cluster.nodes[0]!.port).call('CLUSTER', 'NODES')).split('\n')
      const fields = lines
        .map((line) => line.split(' '))
        .find((f) => f[3] === primaryId && !f[2]!.includes('fail'))
      if (fields) {
        const port = Number(/:(\d+)@/.exec(fields[1]!)![1])
        return { port, id: fields[0]!, client: control(port) }
      }
      await sleep(25)
    }
    throw new Error(`no replica of ${primaryId}`)
  }

  /**
   * Promotes `replica` with `CLUSTER FAILOVER` until `key`'s slot is served by it, as the first node sees it. Redis
   * drops a manual failover that has not completed within 5 s (CLUSTER_MF_TIMEOUT), which a loaded machine can
   * take, so a lapsed attempt is sent again (each wait, at least 300 polls of 25 ms, outlasts one attempt).
   */
  async function failOverTo(replica: Node, key: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const role = (await replica.client.call('ROLE')) as unknown[]
      if (role[0] !== 'master') await replica.client.call('CLUSTER', 'FAILOVER')
      for (let i = 0; i < 300; i++) {
        if ((await primaryOf(key)).primary.id === replica.id) return
        await sleep(25)
      }
    }
  }

  async function whenAvailable<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn()
      } catch (error) {
        if (!(error instanceof StoreUnavailableError) || attempt > 400) throw error
        await sleep(25)
      }
    }
  }

  describe.each([
    ['node-redis cluster', 'ioredis cluster'],
    ['ioredis cluster', 'node-redis cluster'],
  ] as const)('B on %s, A on %s', (kindB: BackendName, kindA: BackendName) => {
    let a: Backend
    let b: Backend
    let kitA: Sessionkit
    let kitB: Sessionkit
    let watchB: NearCacheWatch
    let userSeq = 0
    const newUser = (): string => `ncc-${process.pid}-${kindB.slice(0, 2)}-${++userSeq}`

    beforeAll(async () => {
      const prefix = randomPrefix()
      // The clients are given one node: they discover the rest, as an app's would.
      const seeds = cluster.nodes.map((n) => `127.0.0.1:${n.port}`)
      const open = (kind: BackendName): Promise<Backend> =>
        openBackend(kind, {
          cluster: seeds,
          store: { prefix, nearCache: { maxEntries: 1000, maxLagMs: 400 } },
        })
      a = await open(kindA)
      b = await open(kindB)
      watchB = new NearCacheWatch(b.redis!)
      await nearCacheState(a.redis!, 'up')
      await nearCacheState(b.redis!, 'up')
      kitA = createSessionkit({ store: a.store, cookie: { secure: false }, deviceParser: false })
      kitB = createSessionkit({ store: b.store, cookie: { secure: false }, deviceParser: false })
    }, 60_000)
    afterAll(async () => {
      watchB.dispose()
      await a.close()
      await b.close()
    })

    async function signedIn(user = newUser()): Promise<Browser> {
      const browser = new Browser(kitA)
      await whenAvailable(() =>
        browser.request((s) => {
          s.set('v', 1)
          return s.signIn(user)
        }),
      )
      return browser
    }

    async function read(cookie: string | undefined): Promise<unknown> {
      const req = await whenAvailable(() => new Browser(kitB, { cookie }).open())
      return req.session.isNew ? null : req.session.get('v')
    }

    async function warm(cookie: string | undefined): Promise<void> {
      for (let i = 0; i < 1000; i++) {
        const before = b.redis!.nearCacheStats()!.hits
        expect(await read(cookie)).not.toBeNull()
        if (b.redis!.nearCacheStats()!.hits > before) return
        await sleep(5)
      }
      throw new Error('the session was never served from memory')
    }

    it('one link per primary', () => {
      const ups = watchB.events.filter((e) => e.type === 'link-up')
      expect(new Set(ups.map((e) => e.type === 'link-up' && e.node)).size).toBe(3)
    })

    it("a failover of the session's primary: once B knows its link is down it never serves the session revoked on A, and it links to the new primary", async () => {
      const user = newUser()
      const browser = await signedIn(user)
      const key = b.redis!.keys.session(refFromToken(browser.cookie!))
      await warm(browser.cookie)
      const { primary } = await primaryOf(key)
      const replica = await replicaOf(primary.id)
      const mark = watchB.events.length
      const before = now()
      await failOverTo(replica, key)
      expect((await primaryOf(key)).primary.id).toBe(replica.id)
      expect(await whenAvailable(() => kitA.revokeAllSessions(user))).toBe(1)
      // B learns that its link to the old primary is down (ROLE says replica), or gets the invalidation the
      // demoted node still sends as it applies the replicated revocation: either way, no stale read after it.
      await watchB.invalidationOf(key, before)
      expect(await read(browser.cookie)).toBeNull()
      const down = await watchB.next('flushed', mark, (e) => e.reason.includes(primary.id))
      expect(down.reason).toMatch(/no longer a primary|no longer serves any slot|lost/)
      await watchB.next('link-up', mark, (e) => e.node === replica.id)
      const again = await signedIn(user)
      await warm(again.cookie)
      // A failover may need a second attempt on a loaded machine (see failOverTo): more than the default 30 s.
    }, 120_000)

    it("a reshard of the session's slot: the migration invalidates it, the moved load is retried on the client, and B caches it again through the new primary's link", async () => {
      const browser = await signedIn()
      const key = b.redis!.keys.session(refFromToken(browser.cookie!))
      await warm(browser.cookie)
      const { primary, slot } = await primaryOf(key)
      const ranges = (await primary.client.call('CLUSTER', 'SLOTS')) as [
        number,
        number,
        [string, number, string],
      ][]
      const [, port, id] = ranges.map((r) => r[2]).find(([, , other]) => other !== primary.id)!
      const to: Node = { port, id, client: control(port) }
      const before = now()
      await to.client.call('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', primary.id)
      await primary.client.call('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', to.id)
      for (;;) {
        const keys = (await primary.client.call('CLUSTER', 'GETKEYSINSLOT', String(slot), '100')) as string[]
        if (keys.length === 0) break
        await primary.client.call('MIGRATE', '127.0.0.1', String(to.port), '', '0', '5000', 'KEYS', ...keys)
      }
      for (const node of cluster.nodes) {
        const role = (await control(node.port).call('ROLE')) as unknown[]
        if (role[0] === 'master')
          await control(node.port).call('CLUSTER', 'SETSLOT', String(slot), 'NODE', to.id)
      }
      await watchB.invalidationOf(key, before)
      expect(await read(browser.cookie)).toBe(1)
      await warm(browser.cookie)
      const since = now()
      await whenAvailable(() =>
        browser.request((s) => {
          s.set('v', 2)
        }),
      )
      await watchB.invalidationOf(key, since)
      expect(await read(browser.cookie)).toBe(2)
    })
  })
})
