/**
 * `waitForReplicas`: a sign-out, a revocation, or the end of the old token at a sign-in or rotation resolves only once a replica has
 * it, so promoting that replica (a failover) cannot bring the session back; when no replica confirms in time the
 * call fails with StoreUnavailableError instead of reporting a revocation that may be lost. A primary and a
 * replica, started here, on both clients; and a 3+3 Cluster, where WAIT must reach the master that ran the write.
 */
import { spawnSync } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionkit, StoreUnavailableError, type Sessionkit } from '../../src/index.js'
import { openBackend, type Backend, type BackendName } from '../helpers/backends.js'
import { Browser, sleep } from '../helpers/browser.js'
import { startCluster, startRedis, type RedisCluster, type RedisProcess } from '../helpers/redis-server.js'

function redisCli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout
}

async function replicaInSync(replica: RedisProcess): Promise<void> {
  const deadline = Date.now() + 15_000
  while (!redisCli(replica.port, 'info', 'replication').includes('master_link_status:up')) {
    if (Date.now() > deadline) throw new Error('the replica did not sync')
    await sleep(50)
  }
}

describe.each<BackendName>(['node-redis single', 'ioredis single'])('waitForReplicas: %s', (name) => {
  let primary: RedisProcess
  let replica: RedisProcess
  let backend: Backend
  let kit: Sessionkit
  let seq = 0
  const newUser = (): string => `wait-${++seq}-${Math.random().toString(36).slice(2, 6)}`

  beforeAll(async () => {
    primary = await startRedis()
    replica = await startRedis(['--replicaof', '127.0.0.1', String(primary.port)])
    await replicaInSync(replica)
    backend = await openBackend(name, {
      url: primary.url,
      // WAIT gets a second: on a busy machine (the whole suite runs in parallel) a replica can take 200 ms.
      timeoutMs: 2000,
      store: { waitForReplicas: { replicas: 1, timeoutMs: 1000 }, circuitBreaker: false },
    })
    kit = createSessionkit({ store: backend.store, cookie: { secure: false }, deviceParser: false })
  })
  afterAll(async () => {
    if (replica.child.exitCode === null) process.kill(replica.child.pid!, 'SIGCONT')
    await backend.close()
    await Promise.all([primary.stop(), replica.stop()])
  })

  it('confirmed revocations, sign-outs and rotations are on the replica when they resolve', async () => {
    const user = newUser()
    const [a, b, c] = [new Browser(kit), new Browser(kit), new Browser(kit)]
    for (const browser of [a, b, c]) await browser.request((s) => s.signIn(user))
    const rotatedAway = c.cookie!
    await c.request((s) => s.rotate())
    await a.request((s) => s.signOut())
    expect(await kit.revokeOtherSessions(user, undefined)).toBe(2)
    // Read the replica directly: what the primary confirmed is there, nothing of the user is left.
    const keys = redisCli(replica.port, '--scan', '--pattern', `${backend.prefix}*`).trim()
    expect(keys.split('\n').filter((key) => key.includes(':s:') || key.includes(':u:'))).toEqual([])
    expect((await new Browser(kit, { cookie: rotatedAway }).open()).session.isNew).toBe(true)
  })

  it('without a replica to confirm, they fail with StoreUnavailableError (never reported as done)', async () => {
    const user = newUser()
    const browser = new Browser(kit)
    await browser.request((s) => s.signIn(user))
    const anonymous = new Browser(kit)
    await anonymous.request((s) => s.set('cart', [1]))
    process.kill(replica.child.pid!, 'SIGSTOP')
    try {
      const revoke = await kit.revokeAllSessions(user).catch((e: unknown) => e)
      expect(revoke).toBeInstanceOf(StoreUnavailableError)
      expect(String(revoke)).toContain('replicas')
      // A sign-in ends the old token too: unconfirmed, it fails (and the visitor keeps the cookie it has).
      const token = anonymous.cookie
      await expect(anonymous.request((s) => s.signIn(newUser()))).rejects.toBeInstanceOf(
        StoreUnavailableError,
      )
      expect(anonymous.cookie).toBe(token)
    } finally {
      process.kill(replica.child.pid!, 'SIGCONT')
    }
  })

  it('"nothing to end" and "no session" are confirmed too: a primary its replicas left answers 503', async () => {
    // A primary Sentinel has just replaced answers from stale data: its "not found" must not end anything.
    const user = newUser()
    const missing = new Browser(kit)
    await missing.request((s) => s.set('cart', [1]))
    // This primary lost the session (the replica has it: the stale answer is the primary's).
    for (const { key } of await backend.keys()) await backend.send(key, ['DEL', key])
    process.kill(replica.child.pid!, 'SIGSTOP')
    try {
      const revoke = await kit.revokeAllSessions(user).catch((e: unknown) => e)
      expect(revoke).toBeInstanceOf(StoreUnavailableError)
      expect(String(revoke)).toContain('(waitForReplicas)')
      // The cookie names a session this primary does not have: not "no session", a 503 (the cookie stays).
      const token = missing.cookie
      await expect(missing.request((s) => s.signOut())).rejects.toBeInstanceOf(StoreUnavailableError)
      expect(missing.cookie).toBe(token)
    } finally {
      process.kill(replica.child.pid!, 'SIGCONT')
    }
    // With the replica back, the same answers count: nothing to revoke, and the visitor starts afresh.
    expect(await kit.revokeAllSessions(user)).toBe(0)
    expect((await missing.open()).session.isNew).toBe(true)
  })

  it('a replica (a demoted primary still serving old data) refuses even a load: never a stale session', async () => {
    const user = newUser()
    const browser = new Browser(kit)
    await browser.request((s) => s.signIn(user))
    await sleep(50)
    const onReplica = await openBackend(name, {
      url: replica.url,
      timeoutMs: 1000,
      store: { circuitBreaker: false },
    })
    try {
      const replicaKit = createSessionkit({
        store: onReplica.store,
        cookie: { secure: false },
        deviceParser: false,
      })
      const error = await new Browser(replicaKit, { cookie: browser.cookie }).open().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StoreUnavailableError)
      expect(String(error)).toContain('READONLY')
    } finally {
      await onReplica.close()
    }
  })
})

describe.each<BackendName>(['node-redis cluster', 'ioredis cluster'])('waitForReplicas: %s', (name) => {
  let cluster: RedisCluster
  let backend: Backend
  let kit: Sessionkit

  beforeAll(async () => {
    cluster = await startCluster({ replicas: 1 })
    backend = await openBackend(name, {
      cluster: cluster.addresses,
      timeoutMs: 2000,
      store: { waitForReplicas: { replicas: 1, timeoutMs: 1000 }, circuitBreaker: false },
    })
    kit = createSessionkit({ store: backend.store, cookie: { secure: false }, deviceParser: false })
  }, 60_000)
  afterAll(async () => {
    await backend.close()
    await cluster.stop()
  })

  it('WAIT reaches the master that ran the write: confirmed calls succeed on every slot', async () => {
    // Users spread over the three masters; each confirmed call's WAIT must go to its slot's master.
    const users = Array.from(
      { length: 6 },
      (_, i) => `cluster-wait-${i}-${Math.random().toString(36).slice(2, 6)}`,
    )
    for (const user of users) {
      const [a, b] = [new Browser(kit), new Browser(kit)]
      await a.request((s) => s.set('cart', [1]))
      await a.request((s) => s.signIn(user))
      await b.request((s) => s.signIn(user))
      await a.request((s) => s.rotate())
      await b.request((s) => s.signOut())
      expect(await kit.revokeAllSessions(user)).toBe(1)
      expect(await kit.revokeAllSessions(user)).toBe(0)
      expect((await a.open()).session.isNew).toBe(true)
    }
  })
})
