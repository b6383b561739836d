/**
 * Memory by key family for `sessionkit stats`: `MEMORY USAGE` over random samples of session keys and user index
 * keys. Redis-specific, so it lives with the CLI (which talks to Redis) rather than in the admin service.
 *
 * @module
 */
import { toUserRef } from '../core/user-id.js'
import type { RedisStore } from '../stores/redis/redis-store.js'
import type { SkippedCollector } from '../admin/skipped.js'
import { Reservoir } from '../admin/stats.js'
import { sendRaw } from './raw-redis.js'

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
  /** Where index keys that are not sessionkit's are reported. */
  readonly skipped: SkippedCollector
  /** Called after every batch of the index walk with the number of indexes seen so far. */
  readonly onProgress?: ((indexes: number) => void) | undefined
}

/**
 * Estimates the memory of session keys and user index keys with `MEMORY USAGE` over random samples. Index keys
 * are found with `scanUsers` (SCAN on every master); foreign ones are skipped and reported.
 */
export async function sampleMemory(store: RedisStore, options: SampleMemoryOptions): Promise<MemoryStats> {
  const indexKeys = new Reservoir<string>(options.samples ?? options.sessionKeys.size)
  const seenUsers = new Set<string>()
  await store.scanUsers((batch) => {
    options.skipped.addAll(batch.foreign)
    for (const userId of batch.users) {
      if (seenUsers.has(userId)) continue
      seenUsers.add(userId)
      indexKeys.offer(store.keys.userIndex(toUserRef(userId)))
    }
    options.onProgress?.(indexKeys.seen)
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
        .map((key) => sendRaw(store.redis, key, ['MEMORY', 'USAGE', key, 'SAMPLES', '0'])),
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
