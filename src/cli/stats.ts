/**
 * Session statistics over a whole store, for the CLI's `stats` command and (later) the admin web page.
 *
 * {@link collectStats} needs only a {@link SessionStore}: one `scanSessions` walk (SCAN on every master, metadata
 * fields only, never session data) and plain data out. {@link sampleMemory} is Redis-specific: it estimates memory
 * per key family from `MEMORY USAGE` over a random sample of keys.
 *
 * @module
 */
import { deviceCategory } from '../core/device.js'
import { META, decodeDevice } from '../core/fields.js'
import { StoreUnavailableError } from '../core/errors.js'
import { decodeUserId, toUserRef } from '../core/user-id.js'
import type { RedisStore } from '../stores/redis/redis-store.js'
import type { ScannedSession, SessionStore } from '../stores/store.js'

/** A label and how many sessions carry it. */
export interface Tally {
  readonly name: string
  readonly count: number
}

export interface UserTally {
  readonly userId: string
  readonly sessions: number
}

export interface SessionStats {
  /** Every session key found. */
  readonly sessions: number
  /** Sessions with a signed-in user. */
  readonly signedInSessions: number
  /** Sessions without a user (anonymous visitors with session data). */
  readonly anonymousSessions: number
  /** Distinct users with at least one session. */
  readonly signedInUsers: number
  /** Signed-in sessions opened by an admin impersonating the user. */
  readonly impersonatedSessions: number
  /** Signed-in sessions by browser, most frequent first (`unknown` when none was detected). */
  readonly byBrowser: readonly Tally[]
  readonly byOs: readonly Tally[]
  /** By the detector's device type (`desktop`, `smartphone`, `tablet`...). */
  readonly byDeviceType: readonly Tally[]
  /** By the Active Sessions page's icon family (`desktop`, `phone`, `tablet`, `other`). */
  readonly byDeviceCategory: readonly Tally[]
  /** Users with the most sessions, most first. */
  readonly topUsers: readonly UserTally[]
}

export interface CollectStatsOptions {
  /** How many users `topUsers` holds. Default 10. */
  readonly topUsers?: number
  /** Called for every scanned session, e.g. to sample keys on the same walk. */
  readonly onSession?: (session: ScannedSession) => void
}

export const UNKNOWN_LABEL = 'unknown'

/** Walks every session once (SCAN, never KEYS) and tallies them. */
export async function collectStats(
  store: SessionStore,
  options: CollectStatsOptions = {},
): Promise<SessionStats> {
  const topCount = options.topUsers ?? 10
  let sessions = 0
  let anonymous = 0
  let impersonated = 0
  const perUser = new Map<string, number>()
  const browsers = new Map<string, number>()
  const systems = new Map<string, number>()
  const types = new Map<string, number>()
  const categories = new Map<string, number>()
  // SCAN may return a key twice: count each session once.
  const seen = new Set<string>()
  await store.scanSessions((batch) => {
    for (const session of batch) {
      if (seen.has(session.ref.id)) continue
      seen.add(session.ref.id)
      options.onSession?.(session)
      sessions++
      const fields = new Map(session.fields)
      const encodedUser = fields.get(META.user)
      const userId = encodedUser === undefined ? undefined : safeDecodeUserId(encodedUser)
      if (userId === undefined) {
        anonymous++
        continue
      }
      perUser.set(userId, (perUser.get(userId) ?? 0) + 1)
      if (fields.has(META.impersonator)) impersonated++
      const device = decodeDevice(fields.get(META.device))
      bump(browsers, device?.browser)
      bump(systems, device?.os)
      bump(types, device?.deviceType)
      bump(categories, deviceCategory(device?.deviceType ?? ''))
    }
  })
  const topUsers = [...perUser]
    .map(([userId, count]) => ({ userId, sessions: count }))
    .sort((a, b) => b.sessions - a.sessions || compare(a.userId, b.userId))
    .slice(0, topCount)
  return {
    sessions,
    signedInSessions: sessions - anonymous,
    anonymousSessions: anonymous,
    signedInUsers: perUser.size,
    impersonatedSessions: impersonated,
    byBrowser: tallies(browsers),
    byOs: tallies(systems),
    byDeviceType: tallies(types),
    byDeviceCategory: tallies(categories),
    topUsers,
  }
}

function safeDecodeUserId(encoded: string): string | undefined {
  try {
    const id = decodeUserId(encoded)
    return id === '' ? undefined : id
  } catch {
    return undefined
  }
}

function bump(map: Map<string, number>, label: string | undefined): void {
  const name = label === undefined || label === '' ? UNKNOWN_LABEL : label
  map.set(name, (map.get(name) ?? 0) + 1)
}

function tallies(map: Map<string, number>): Tally[] {
  return [...map]
    .map(([name, count]) => ({ name, count }))
    .sort((a, b) => b.count - a.count || compare(a.name, b.name))
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** A uniform random sample of at most `size` items from a stream of unknown length (reservoir sampling). */
export class Reservoir<T> {
  readonly items: T[] = []
  seen = 0

  constructor(readonly size: number) {}

  offer(item: T): void {
    this.seen++
    if (this.items.length < this.size) {
      this.items.push(item)
      return
    }
    const slot = Math.floor(Math.random() * this.seen)
    if (slot < this.size) this.items[slot] = item
  }
}

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
