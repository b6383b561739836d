/**
 * The near cache under random interleavings (fast-check): two app servers (a node-redis and an ioredis
 * RedisStore, near cache on, one prefix, one Redis) read, write and revoke one session, a few operations at a time
 * concurrently, with random gaps, and with a touch interval short enough that touches happen too.
 *
 * What must hold, with every time on the one local clock (nothing is compared with a fixed duration):
 * - a read never returns a value older than a write that THIS instance finished before the read began;
 * - a read that returns a value older than a write W another instance finished before the read began (a stale
 *   read) began before this instance received any invalidation of the session (or flush) after W finished; and
 *   such an invalidation does arrive: every stale read lies within the measured invalidation delay of W.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StorePolicy } from '../../src/core/store.js'
import { generateToken, refFromToken, tagForUser } from '../../src/core/token.js'
import { toUserRef } from '../../src/core/user-id.js'
import type { NearCacheEvent } from '../../src/index.js'
import { openBackend, randomPrefix, type Backend } from '../helpers/backends.js'
import { NearCacheWatch, nearCacheState, now, until } from '../helpers/near-cache.js'

const POLICY: StorePolicy = {
  idleTimeoutMs: 60_000,
  anonymousTimeoutMs: 60_000,
  absoluteTimeoutMs: 600_000,
  touchIntervalMs: 40,
  maxStoredBytes: 65_536,
  maxSessionsPerUser: 100,
}

type Op = { readonly kind: 'read' | 'write' | 'revoke'; readonly on: 0 | 1 }
type Step = { readonly ops: readonly Op[]; readonly gap: 'none' | 'immediate' | 'timer' }

interface Write {
  /** Infinity for the revocation. */
  readonly version: number
  readonly on: 0 | 1
  readonly end: number
}

interface Read {
  readonly on: 0 | 1
  readonly start: number
  /** The version read; Infinity when the session was gone. */
  readonly version: number
}

const steps = fc.array(
  fc.record({
    ops: fc.array(
      fc.record({
        kind: fc.constantFrom<Op['kind']>('read', 'read', 'read', 'read', 'write', 'write', 'revoke'),
        on: fc.constantFrom<0 | 1>(0, 1),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    gap: fc.constantFrom<Step['gap']>('none', 'immediate', 'timer'),
  }),
  { minLength: 4, maxLength: 30 },
)

describe('near cache: random interleavings of reads, writes and revocations on two instances', () => {
  let instances: [Backend, Backend]
  let watches: [NearCacheWatch, NearCacheWatch]
  let run = 0

  beforeAll(async () => {
    const prefix = randomPrefix()
    const store = { prefix, nearCache: { maxEntries: 1000 } }
    instances = [
      await openBackend('node-redis single', { store }),
      await openBackend('ioredis single', { store }),
    ]
    watches = [new NearCacheWatch(instances[0].redis!), new NearCacheWatch(instances[1].redis!)]
    await nearCacheState(instances[0].redis!, 'up')
    await nearCacheState(instances[1].redis!, 'up')
  })
  afterAll(async () => {
    for (const watch of watches) watch.dispose()
    for (const instance of instances) await instance.close()
  })

  it('no read returns a session the instance was already told had changed; every stale read lies within the invalidation delay', async () => {
    let staleReads = 0
    await fc.assert(
      fc.asyncProperty(steps, async (plan) => {
        const outcome = await execute(plan)
        staleReads += await check(outcome)
      }),
      { numRuns: 40 },
    )
    const hits = instances.map((i) => i.redis!.nearCacheStats()!.hits)
    // The runs did exercise the cache, and the invalidations between the two instances.
    expect(hits[0]! + hits[1]!).toBeGreaterThan(0)
    expect(watches.every((w) => w.events.some((e) => e.type === 'invalidated'))).toBe(true)
    console.info(`near-cache property: ${staleReads} stale reads, each within its invalidation delay`)
  })

  async function execute(plan: readonly Step[]): Promise<{
    readonly key: string
    readonly index: string
    readonly writes: Write[]
    readonly reads: Read[]
  }> {
    const userId = `prop-${process.pid}-${++run}`
    const user = toUserRef(userId)
    const ref = refFromToken(generateToken(tagForUser(userId)))
    const [first, second] = instances
    await first.store.create({ ref, user, fields: [['d:v', '0']] }, POLICY)
    const writes: Write[] = [{ version: 0, on: 0, end: now() }]
    const reads: Read[] = []
    let version = 0
    let chain = Promise.resolve()
    for (const step of plan) {
      const started = step.ops.map((op) => {
        const store = (op.on === 0 ? first : second).store
        if (op.kind === 'read') {
          const start = now()
          return store.load(ref, POLICY, undefined).then((result) => {
            let value = Infinity
            if (result.status === 'found') {
              const i = result.fields.indexOf('d:v')
              value = Number(JSON.parse(result.fields[i + 1]!))
            }
            reads.push({ on: op.on, start, version: value })
          })
        }
        // Writes run one after the other, so their order is the order Redis applied them in.
        chain = chain.then(async () => {
          if (op.kind === 'write') {
            const next = ++version
            const saved = await store.save(
              { ref, owner: user.encoded, forwarded: false },
              { set: [['d:v', String(next)]], del: [] },
            )
            if (saved.status === 'applied') writes.push({ version: next, on: op.on, end: now() })
          } else {
            const revoked = await store.revoke(user, { kind: 'ids', hashes: [ref.hash] })
            if (revoked === 1) writes.push({ version: Infinity, on: op.on, end: now() })
          }
        })
        return chain
      })
      await Promise.all(started)
      if (step.gap === 'immediate') await new Promise((resolve) => setImmediate(resolve))
      else if (step.gap === 'timer') await new Promise((resolve) => setTimeout(resolve, 1))
    }
    await chain
    const key = instances[0].redis!.keys.session(ref)
    const index = instances[0].redis!.keys.userIndex(user)
    return { key, index, writes, reads }
  }

  /** Checks one run; returns how many of its reads were stale (within the invalidation delay). */
  async function check(outcome: Awaited<ReturnType<typeof execute>>): Promise<number> {
    const { key, index, writes, reads } = outcome
    const relevant = (e: NearCacheEvent): boolean =>
      e.type === 'flushed' ||
      (e.type === 'invalidated' && (e.keys === null || e.keys.includes(key) || e.keys.includes(index)))
    let stale = 0
    for (const read of reads) {
      // The first write that replaced what the read returned, if it had finished before the read began.
      const replaced = writes.find((w) => w.version > read.version)
      if (!replaced || replaced.end >= read.start) continue
      // A stale read. Never of this instance's own write...
      expect(replaced.on, "a read missed its own instance's finished write").not.toBe(read.on)
      stale++
      const events = watches[read.on].events
      // ...never after this instance was told (after the write finished) that the session changed...
      const told = events.filter((e) => relevant(e) && e.at > replaced.end && e.at < read.start)
      expect(told, 'a read served a session after its invalidation had arrived').toEqual([])
      // ...and the invalidation does come, after the read began: the read lies within the delay.
      await until(
        () => events.some((e) => relevant(e) && e.at > replaced.end),
        'the invalidation of a stale read',
      )
      const arrival = events.find((e) => relevant(e) && e.at > replaced.end)!.at
      expect(read.start - replaced.end).toBeLessThan(arrival - replaced.end)
    }
    return stale
  }
})
