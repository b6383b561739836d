/**
 * Memory by key family for `sessionkit stats`: `MEMORY USAGE` over random samples of session keys and user index
 * keys. Redis-specific, so it lives with the CLI (which talks to Redis) rather than in the admin service.
 *
 * @module
 */
import { StoreUnavailableError } from '../core/errors.js'
import { toUserRef } from '../core/user-id.js'
import type { RedisStore } from '../stores/redis/redis-store.js'
import { Reservoir } from '../admin/stats.js'

/** Memory of one key family, estimated from a sample. */
export interface FamilyMemory {
  /** Keys of the family found by SCAN. */
  readonly keys: number
  /** Keys whose MEMORY USAGE was read. */
  readonly sampled: number
  /** Mean MEMORY USAGE of the sampled keys, in bytes (0 when none was sampled). */
  readonly averageBytes: number
  /** `averageBytes × keys`: an estimate, exact when every key was sampled. */
  readonly estimatedBytes: number
}

export interface MemoryStats {
  readonly sessions: FamilyMemory
  readonly userIndexes: FamilyMemory
}

export interface SampleMemoryOptions {
  /** Sampled session keys, e.g. gathered with {@link collectStats}'s `onSession`. */
  readonly sessionKeys: Reservoir<string>
  /** Most index keys to sample. Default: the session sample's size. */
  readonly samples?: number
}

/**
 * Estimates the memory of session keys and user index keys with `MEMORY USAGE` over random samples. Index keys
 * are found with `scanUsers` (SCAN on every master).
 */
export async function sampleMemory(store: RedisStore, options: SampleMemoryOptions): Promise<MemoryStats> {
  const indexKeys = new Reservoir<string>(options.samples ?? options.sessionKeys.size)
  const seenUsers = new Set<string>()
  await store.scanUsers((users) => {
    for (const userId of users) {
      if (seenUsers.has(userId)) continue
      seenUsers.add(userId)
      try {
        indexKeys.offer(store.keys.userIndex(toUserRef(userId)))
      } catch {
        // An index key whose user id the library would refuse: not one of ours.
      }
    }
  })
  return {
    sessions: await measure(store, options.sessionKeys),
    userIndexes: await measure(store, indexKeys),
  }
}

const MEMORY_BATCH = 50

async function measure(store: RedisStore, sample: Reservoir<string>): Promise<FamilyMemory> {
  let sampled = 0
  let total = 0
  for (let i = 0; i < sample.items.length; i += MEMORY_BATCH) {
    const replies = await Promise.all(
      sample.items
        .slice(i, i + MEMORY_BATCH)
        .map((key) => withDeadline(store.redis.send(key, ['MEMORY', 'USAGE', key, 'SAMPLES', '0']))),
    )
    for (const reply of replies) {
      // A key that expired between SCAN and now answers null.
      if (typeof reply === 'number') {
        sampled++
        total += reply
      }
    }
  }
  const averageBytes = sampled === 0 ? 0 : Math.round(total / sampled)
  return { keys: sample.seen, sampled, averageBytes, estimatedBytes: averageBytes * sample.seen }
}

const MEMORY_TIMEOUT_MS = 10_000

async function withDeadline<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(
            new StoreUnavailableError(`redis MEMORY USAGE did not answer within ${MEMORY_TIMEOUT_MS} ms`),
          )
        }, MEMORY_TIMEOUT_MS)
      }),
    ])
  } finally {
    clearTimeout(timer)
  }
}
