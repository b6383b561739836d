/**
 * Session statistics over a whole store, for the CLI's `stats` command and the admin view.
 *
 * {@link collectStats} needs only an {@link AdminStore}: one `scanSessions` walk (SCAN on every master, metadata
 * fields only, never session data) and plain data out. Memory per key family is Redis-specific and lives with the
 * CLI (`cli/memory.ts`).
 *
 * @module
 */
import { decodeDevice, deviceCategory } from '../core/device.js'
import { META } from '../core/stored-fields.js'
import { decodeStoredUserId } from '../core/user-id.js'
import type { AdminStore, ScannedSession } from './admin-store.js'

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
  store: AdminStore,
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
    for (const session of batch.sessions) {
      if (seen.has(session.ref.id)) continue
      seen.add(session.ref.id)
      options.onSession?.(session)
      sessions++
      const fields = new Map(session.fields)
      const encodedUser = fields.get(META.userId)
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
  return decodeStoredUserId(encoded)
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
