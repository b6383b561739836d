/**
 * Session statistics over a whole store, for the CLI's `stats` command and the admin view.
 *
 * {@link collectStats} needs only an {@link AdminStore}: one `scanSessions` walk (SCAN on every master, metadata
 * fields only, never session data) and plain data out. A key that is not a session sessionkit could have written
 * (another type, metadata the library would refuse, a session outside its user's slot) is counted under `skipped`
 * and left out of every other figure, exactly as the library leaves it out of every request. Memory per key family
 * is Redis-specific and lives with the CLI (`cli/memory.ts`).
 *
 * @module
 */
import { deviceCategory } from '../core/device.js'
import { decodeStoredPairs, type SessionMeta } from '../core/stored-fields.js'
import { tagForUser, type SessionRef } from '../core/token.js'
import type { AdminStore, ScannedSession } from './admin-store.js'
import { SkippedCollector, type SkippedKeys } from './skipped.js'

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
  /** Every session found (skipped keys not included). */
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
  /** Keys under the session layout that are not sessions sessionkit wrote: counted and listed, nothing else. */
  readonly skipped: SkippedKeys
}

export interface CollectStatsOptions {
  /** How many users `topUsers` holds. Default 10. */
  readonly topUsers?: number
  /** Called for every counted session, e.g. to sample keys on the same walk. */
  readonly onSession?: (session: ScannedSession) => void
  /** Called after every batch with the number of sessions counted so far. */
  readonly onProgress?: (sessions: number) => void
  /** Where skipped keys go; pass one to share it with another walk (the CLI's memory sample). */
  readonly skipped?: SkippedCollector
  /** The name a skipped session is reported under (its Redis key, for the CLI). Default `session <id>`. */
  readonly keyName?: (ref: SessionRef) => string
}

export const UNKNOWN_LABEL = 'unknown'

/**
 * The metadata of a scanned session the library would serve, or why it is skipped: metadata the library refuses
 * (an undecodable user id, a malformed time...), or a session outside its user's slot (planted, never served).
 */
export function checkScannedSession(
  session: ScannedSession,
): { readonly meta: SessionMeta } | { readonly problem: string } {
  const decoded = decodeStoredPairs(session.fields)
  if (!decoded) return { problem: 'session metadata missing or malformed' }
  const userId = decoded.meta.userId
  if (userId !== undefined && tagForUser(userId) !== session.ref.tag)
    return { problem: "not in its user's slot" }
  return { meta: decoded.meta }
}

/** Walks every session once (SCAN, never KEYS) and tallies them. */
export async function collectStats(
  store: AdminStore,
  options: CollectStatsOptions = {},
): Promise<SessionStats> {
  const tallies = new StatsTally()
  const skipped = options.skipped ?? new SkippedCollector()
  const keyName = options.keyName ?? defaultKeyName
  // SCAN may return a key twice: count each session once.
  const seen = new Set<string>()
  await store.scanSessions((batch) => {
    skipped.addAll(batch.foreign)
    for (const session of batch.sessions) {
      if (seen.has(session.ref.id)) continue
      seen.add(session.ref.id)
      const checked = checkScannedSession(session)
      if ('problem' in checked) {
        skipped.add({ key: keyName(session.ref), reason: checked.problem })
        continue
      }
      options.onSession?.(session)
      tallies.add(checked.meta)
    }
    options.onProgress?.(tallies.sessions)
  })
  return { ...tallies.result(options.topUsers ?? 10), skipped: skipped.report() }
}

/** How a session is named in a skipped-keys report when the store's key names are unknown. */
export function defaultKeyName(ref: SessionRef): string {
  return `session ${ref.id}`
}

/** The running counts of one walk. */
class StatsTally {
  sessions = 0
  #anonymous = 0
  #impersonated = 0
  readonly #perUser = new Map<string, number>()
  readonly #browsers = new Map<string, number>()
  readonly #systems = new Map<string, number>()
  readonly #types = new Map<string, number>()
  readonly #categories = new Map<string, number>()

  add(meta: SessionMeta): void {
    this.sessions++
    if (meta.userId === undefined) {
      this.#anonymous++
      return
    }
    this.#perUser.set(meta.userId, (this.#perUser.get(meta.userId) ?? 0) + 1)
    if (meta.impersonator !== undefined) this.#impersonated++
    const device = meta.device
    bump(this.#browsers, device?.browser)
    bump(this.#systems, device?.os)
    bump(this.#types, device?.deviceType)
    bump(this.#categories, deviceCategory(device?.deviceType ?? ''))
  }

  result(topCount: number): Omit<SessionStats, 'skipped'> {
    const topUsers = [...this.#perUser]
      .map(([userId, count]) => ({ userId, sessions: count }))
      .sort((a, b) => b.sessions - a.sessions || compare(a.userId, b.userId))
      .slice(0, topCount)
    return {
      sessions: this.sessions,
      signedInSessions: this.sessions - this.#anonymous,
      anonymousSessions: this.#anonymous,
      signedInUsers: this.#perUser.size,
      impersonatedSessions: this.#impersonated,
      byBrowser: tallies(this.#browsers),
      byOs: tallies(this.#systems),
      byDeviceType: tallies(this.#types),
      byDeviceCategory: tallies(this.#categories),
      topUsers,
    }
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
