/**
 * The near cache's parts: the memory (tickets against racing invalidations, deadlines, LRU, dependents), the
 * slot of a tag against a real Cluster's CLUSTER KEYSLOT, and the Redis client-tracking behaviour the design
 * rests on, checked on the Redis these tests run.
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { StorePolicy } from '../../src/core/store.js'
import { crc16, slotOfTag, tagAt, TAG_COUNT } from '../../src/stores/redis/cluster-slots.js'
import { NearCacheEntries, type TrackedLoad } from '../../src/stores/redis/near-cache-entries.js'

const POLICY: StorePolicy = {
  idleTimeoutMs: 10_000,
  anonymousTimeoutMs: 5_000,
  absoluteTimeoutMs: 100_000,
  touchIntervalMs: 1_000,
  maxStoredBytes: 65_536,
  maxSessionsPerUser: 100,
}
const LINK = {}
const KEY = 'sk:{abc}:s:hash1'
const INDEX_PREFIX = 'sk:{abc}:u:'

function load(fields: Record<string, string>, serverNow: number, touched = false): TrackedLoad {
  return { result: { status: 'found', fields: Object.entries(fields).flat() }, now: serverNow, touched }
}

const SIGNED_IN = { 'd:x': '1', _c: '1000', _ls: '1000', _ab: '50000', _u: 'alice', _si: '1000' }

describe('near cache memory', () => {
  it('caches a load unless an invalidation in its slot tag, or a flush, came between its sending and its reply', () => {
    const entries = new NearCacheEntries(10, 'sk:')
    const attempt = (between: () => void): boolean => {
      const ticket = entries.ticket('abc', LINK, 0)
      between()
      const candidate = entries.candidate(
        ticket,
        KEY,
        INDEX_PREFIX,
        load(SIGNED_IN, 1500),
        POLICY,
        undefined,
      )!
      return entries.admit(ticket, candidate)
    }
    expect(attempt(() => undefined)).toBe(true)
    // The reply may have been read before these changes: not cached.
    expect(attempt(() => entries.invalidate('sk:{abc}:s:other'))).toBe(false)
    expect(attempt(() => entries.invalidate('sk:{abc}:u:bob'))).toBe(false)
    expect(attempt(() => entries.flush())).toBe(false)
    // Another slot tag's change does not concern it.
    expect(attempt(() => entries.invalidate('sk:{abd}:s:other'))).toBe(true)
    expect(entries.get(KEY, POLICY, LINK, 1, undefined)).toMatchObject({ status: 'found' })
  })

  it('serves an entry until its touch is due, its idle deadline or its absolute deadline, whichever is first, counted from the sending', () => {
    const entries = new NearCacheEntries(10, 'sk:')
    const served = (fields: Record<string, string>, serverNow: number, touched = false): number => {
      const sentAt = 10_000
      const ticket = entries.ticket('abc', LINK, sentAt)
      const candidate = entries.candidate(
        ticket,
        KEY,
        INDEX_PREFIX,
        load(fields, serverNow, touched),
        POLICY,
        undefined,
      )
      return candidate === undefined ? 0 : candidate.expiresAt - sentAt
    }
    // Last seen at 1000, server time 1500: the touch (every 1000) is due at 2000, 500 from now.
    expect(served(SIGNED_IN, 1500)).toBe(500)
    // Touched by this very load: due again a whole interval later.
    expect(served(SIGNED_IN, 1500, true)).toBe(1000)
    // The absolute deadline comes first.
    expect(served({ ...SIGNED_IN, _ab: '1700' }, 1500)).toBe(200)
    // Already due, or past the absolute deadline: not cached at all.
    expect(served(SIGNED_IN, 2000)).toBe(0)
    expect(served({ ...SIGNED_IN, _ab: '1500' }, 1500)).toBe(0)
    // An idle timeout shorter than the touch interval (anonymous: 5000 here, with a 9000 interval).
    const anonymous = { 'd:x': '1', _c: '1000', _ls: '1000', _ab: '50000' }
    const longTouch = { ...POLICY, touchIntervalMs: 9_000 }
    const ticket = entries.ticket('abc', LINK, 0)
    expect(
      entries.candidate(ticket, KEY, INDEX_PREFIX, load(anonymous, 1000), longTouch, undefined)!.expiresAt,
    ).toBe(5_000)
    const entry = entries.candidate(ticket, KEY, INDEX_PREFIX, load(SIGNED_IN, 1500), POLICY, undefined)!
    entries.admit(ticket, entry)
    expect(entries.get(KEY, POLICY, LINK, 499, undefined)).toBeDefined()
    expect(entries.get(KEY, POLICY, LINK, 500, undefined)).toBeUndefined()
  })

  it('holds what the store holds after a touch: last seen and IP of the touching load', () => {
    const entries = new NearCacheEntries(10, 'sk:')
    const ticket = entries.ticket('abc', LINK, 0)
    const touched = entries.candidate(
      ticket,
      KEY,
      INDEX_PREFIX,
      load(SIGNED_IN, 1500, true),
      POLICY,
      '192.0.2.1',
    )!
    const fields = new Map<string, string>()
    const flat = touched.result.fields
    for (let i = 0; i < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!)
    expect(fields.get('_ls')).toBe('1500')
    expect(fields.get('_ip')).toBe('192.0.2.1')
    expect(fields.get('d:x')).toBe('1')
    expect(Object.isFrozen(touched.result.fields)).toBe(true)
    const untouched = entries.candidate(
      ticket,
      KEY,
      INDEX_PREFIX,
      load(SIGNED_IN, 1500),
      POLICY,
      '192.0.2.1',
    )!
    expect(untouched.result.fields).toEqual(Object.entries(SIGNED_IN).flat())
  })

  it('does not cache what is not a found session with deadlines', () => {
    const entries = new NearCacheEntries(10, 'sk:')
    const ticket = entries.ticket('abc', LINK, 0)
    const candidate = (reply: TrackedLoad): unknown =>
      entries.candidate(ticket, KEY, INDEX_PREFIX, reply, POLICY, undefined)
    expect(candidate({ result: { status: 'missing' }, now: 1, touched: false })).toBeUndefined()
    expect(
      candidate({ result: { status: 'invalid', reason: 'corrupt' }, now: 1, touched: false }),
    ).toBeUndefined()
    expect(candidate(load({ 'd:x': '1', _ab: '50000' }, 1500))).toBeUndefined()
    expect(candidate(load({ ...SIGNED_IN, _u: '' }, 1500))).toBeUndefined()
    expect(candidate(load(SIGNED_IN, Number.NaN))).toBeUndefined()
  })

  it('an invalidated user index drops the entries that read it; another policy or link is a miss', () => {
    const entries = new NearCacheEntries(10, 'sk:')
    const put = (key: string, link: object = LINK): void => {
      const ticket = entries.ticket('abc', link, 0)
      entries.admit(
        ticket,
        entries.candidate(ticket, key, INDEX_PREFIX, load(SIGNED_IN, 1500), POLICY, undefined)!,
      )
    }
    put(KEY)
    put('sk:{abc}:s:hash2')
    expect(entries.indexOf(KEY)).toBe('sk:{abc}:u:alice')
    expect(entries.size).toBe(2)
    entries.invalidate('sk:{abc}:u:alice')
    expect(entries.size).toBe(0)
    put(KEY)
    expect(entries.get(KEY, { ...POLICY }, LINK, 1, undefined)).toBeUndefined()
    put(KEY)
    expect(entries.get(KEY, POLICY, {}, 1, undefined)).toBeUndefined()
  })

  it('keeps at most maxEntries, least recently used out first; a key outside the layout flushes everything', () => {
    const entries = new NearCacheEntries(2, 'sk:')
    const put = (key: string): void => {
      const ticket = entries.ticket('abc', LINK, 0)
      entries.admit(
        ticket,
        entries.candidate(ticket, key, INDEX_PREFIX, load(SIGNED_IN, 1500), POLICY, undefined)!,
      )
    }
    put('sk:{abc}:s:1')
    put('sk:{abc}:s:2')
    expect(entries.get('sk:{abc}:s:1', POLICY, LINK, 1, undefined)).toBeDefined()
    put('sk:{abc}:s:3')
    expect(entries.size).toBe(2)
    expect(entries.get('sk:{abc}:s:2', POLICY, LINK, 1, undefined)).toBeUndefined()
    expect(entries.get('sk:{abc}:s:1', POLICY, LINK, 1, undefined)).toBeDefined()
    entries.invalidate('something-else')
    expect(entries.size).toBe(0)
  })

  it('sweeps expired entries', () => {
    const entries = new NearCacheEntries(10, 'sk:')
    const ticket = entries.ticket('abc', LINK, 0)
    entries.admit(
      ticket,
      entries.candidate(ticket, KEY, INDEX_PREFIX, load(SIGNED_IN, 1500), POLICY, undefined)!,
    )
    entries.sweep(100, 10)
    expect(entries.size).toBe(1)
    entries.sweep(500, 10)
    expect(entries.size).toBe(0)
  })
})

describe('cluster slots', () => {
  let node: Redis
  beforeAll(() => {
    const [host, port] = inject('clusterAddresses')[0]!.split(':')
    node = new Redis({ host, port: Number(port) })
  })
  afterAll(() => {
    node.disconnect()
  })

  it('computes the slot of every tag as the Cluster does', async () => {
    expect(crc16('123456789')).toBe(0x31c3) // the reference value of the Redis Cluster specification
    const pipeline = node.pipeline()
    for (let i = 0; i < TAG_COUNT; i++) pipeline.call('CLUSTER', 'KEYSLOT', `sk:{${tagAt(i)}}:s:x`)
    const replies = (await pipeline.exec())!
    const mismatches = replies.filter(([, slot], i) => Number(slot) !== slotOfTag(tagAt(i)))
    expect(mismatches).toEqual([])
  })
})

describe('client tracking on this Redis', () => {
  let data: Redis
  let invalidations: Redis
  let other: Redis
  const received: (string[] | null)[] = []

  beforeAll(async () => {
    const url = inject('redisUrl')
    data = new Redis(url)
    other = new Redis(url)
    invalidations = new Redis(url, { protocol: 2 })
    invalidations.on('messageBuffer', (_channel: Buffer, message: Buffer[] | null) => {
      received.push(message === null ? null : message.map(String))
    })
    const id = String(await invalidations.call('CLIENT', 'ID'))
    await invalidations.subscribe('__redis__:invalidate')
    await data.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', id, 'NOLOOP')
  })
  afterAll(() => {
    for (const c of [data, other, invalidations]) c.disconnect()
  })

  async function invalidated(key: string): Promise<boolean> {
    await invalidations.ping() // its reply comes after every invalidation sent before it
    return received.some((keys) => keys?.includes(key) ?? false)
  }

  it("tracks a script's declared KEYS for its caller, not a key it reads by name (so the near cache reads the user index itself)", async () => {
    const [declared, byName] = [`nc-t-${process.pid}-declared`, `nc-t-${process.pid}-by-name`]
    await other.hset(declared, 'a', '1')
    await other.zadd(byName, 1, 'm')
    await data.eval(
      "redis.call('HGETALL', KEYS[1]); return redis.call('ZSCORE', ARGV[1], 'm')",
      1,
      declared,
      byName,
    )
    await other.hset(declared, 'a', '2')
    await other.zadd(byName, 2, 'm')
    expect(await invalidated(declared)).toBe(true)
    expect(await invalidated(byName)).toBe(false)
    await other.del(declared, byName)
  })

  it("with NOLOOP, the caller's own write inside a script ends the tracking silently, and a read after it restores it (load.lua's keep_tracked)", async () => {
    const [plain, kept] = [`nc-t-${process.pid}-plain`, `nc-t-${process.pid}-kept`]
    await other.hset(plain, 'a', '1')
    await other.hset(kept, 'a', '1')
    const touch = "redis.call('HGETALL', KEYS[1]); redis.call('HSET', KEYS[1], 'b', '1')"
    await data.eval(`${touch}; return 1`, 1, plain)
    await data.eval(`${touch}; redis.call('EXISTS', KEYS[1]); return 1`, 1, kept)
    expect(await invalidated(plain)).toBe(false) // NOLOOP: not for its own write
    await other.hset(plain, 'a', '2')
    await other.hset(kept, 'a', '2')
    expect(await invalidated(plain)).toBe(false)
    expect(await invalidated(kept)).toBe(true)
    await other.del(plain, kept)
  })
})
