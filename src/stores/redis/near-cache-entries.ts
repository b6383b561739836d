/**
 * The near cache's memory: loaded sessions by key, least recently used first out, and the bookkeeping that keeps
 * them honest against invalidations that race the loads filling them. No I/O here; `near-cache.ts` feeds it.
 *
 * - An entry holds the `found` result of a load (the flat fields, already checked by the load script and the
 *   reply reader, frozen), and is served until the session's touch is due or its idle or absolute deadline
 *   passes, whichever comes first — computed in the Redis server's clock, then turned into a local time from
 *   when the load was SENT, so clock offsets and the round trip can only shorten it.
 * - A load records a ticket when it is sent: the cache epoch and its slot tag's generation. An invalidation (or
 *   a write of this process) bumps the generation of the key's tag; a flush bumps the epoch. A reply whose ticket
 *   no longer matches is not cached: it may have been read before a change whose invalidation already arrived
 *   (the invalidation and the reply travel on different connections, so either can come first).
 * - The load script also reads the user's index (a signed-in session must be in it), so an entry depends on that
 *   key as well: its invalidation drops every entry that read it. (A script's reads are tracked only for its
 *   declared KEYS, and the index is not one: `near-cache.ts` reads it through the link after the load.)
 *
 * @module
 */
import type { FlatFields, LoadResult, StorePolicy } from '../../core/store.js'
import { META, toTime } from '../../core/stored-fields.js'
import { TAG_COUNT, tagIndex } from './cluster-slots.js'

/** A load script reply, as the near cache needs it. */
export interface TrackedLoad {
  readonly result: LoadResult
  /** The Redis server's time when the script ran (ms). */
  readonly now: number
  /** Whether the script touched the session (`_ls` and `_ip` now hold this load's values). */
  readonly touched: boolean
}

/** What a load carries from its sending to its reply (see the module notes). */
export interface Ticket {
  readonly epoch: number
  readonly tag: number
  readonly generation: number
  /** Local time (`localNow`) when the load was sent. */
  readonly sentAt: number
  /** The tracking link the load went through: an entry is only served while that link is the slot's. */
  readonly link: object
}

type Found = Extract<LoadResult, { status: 'found' }>

/** What a load would cache. */
export interface Candidate {
  readonly key: string
  /** The user index the load read, if the session is signed in. */
  readonly index: string | undefined
  readonly result: Found
  readonly policy: StorePolicy
  /** Local time (`localNow`) from which the entry must not be served. */
  readonly expiresAt: number
  /** The client IP the load was made for (with `uniqueIpsPerUser`, only a request from it is served). */
  readonly ipAddress: string | undefined
}

interface Entry extends Candidate {
  readonly link: object
}

export class NearCacheEntries {
  readonly #maxEntries: number
  readonly #prefixLength: number
  /** Insertion order is use order: the first entry is the least recently used. */
  readonly #entries = new Map<string, Entry>()
  /** Index key → key(s) of the entries that read it (most users have one session: a plain key, no Set). */
  readonly #dependents = new Map<string, string | Set<string>>()
  readonly #generations = new Uint32Array(TAG_COUNT)
  #epoch = 0

  /** @param prefix the store's key prefix: every key is `<prefix>{<tag>}:...` */
  constructor(maxEntries: number, prefix: string) {
    this.#maxEntries = maxEntries
    this.#prefixLength = prefix.length
  }

  get size(): number {
    return this.#entries.size
  }

  /**
   * The cached result for `key`, if it may be served now under `policy` through `link`. An expired entry stays
   * (until it is replaced or swept) so that {@link indexOf} can still name the index it read.
   */
  get(
    key: string,
    policy: StorePolicy,
    link: object,
    now: number,
    ipAddress: string | undefined,
  ): LoadResult | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.policy !== policy || entry.link !== link) {
      this.#remove(entry)
      return undefined
    }
    if (now >= entry.expiresAt) return undefined
    // The load script checks each new address against uniqueIpsPerUser: another address must go to Redis.
    if (policy.uniqueIpsPerUser !== undefined && ipAddress !== entry.ipAddress) return undefined
    // Most recently used goes last.
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry.result
  }

  /** The user index the entry of `key` (if any, even expired) read. */
  indexOf(key: string): string | undefined {
    return this.#entries.get(key)?.index
  }

  /** Call when sending a load that may fill the cache. */
  ticket(tag: string, link: object, now: number): Ticket {
    const index = tagIndex(tag)
    return { epoch: this.#epoch, tag: index, generation: this.#generations[index] ?? 0, sentAt: now, link }
  }

  /**
   * What a load's reply would put in the cache, or `undefined` when it cannot be served from memory at all (not
   * found, or its touch already due).
   *
   * @param indexPrefix the user index key prefix of the key's slot (`<prefix>{<tag>}:u:`)
   * @param ipAddress what the load passed as the client IP (a touch stores it; see {@link get})
   */
  candidate(
    ticket: Ticket,
    key: string,
    indexPrefix: string,
    load: TrackedLoad,
    policy: StorePolicy,
    ipAddress: string | undefined,
  ): Candidate | undefined {
    const { result } = load
    if (result.status !== 'found' || !Number.isFinite(load.now)) return undefined
    const meta = servingMeta(result.fields)
    if (!meta) return undefined
    const lastSeen = load.touched ? load.now : meta.lastSeen
    const idle = meta.user === undefined ? policy.anonymousTimeoutMs : policy.idleTimeoutMs
    const until = Math.min(lastSeen + policy.touchIntervalMs, lastSeen + idle, meta.absolute)
    const remaining = until - load.now
    if (!(remaining > 0)) return undefined
    const fields = load.touched ? afterTouch(result.fields, load.now, ipAddress) : [...result.fields]
    for (let i = 0; i < fields.length; i++) fields[i] = detached(fields[i] as string)
    return {
      key,
      index: meta.user === undefined ? undefined : indexPrefix + meta.user,
      result: Object.freeze({ status: 'found', fields: Object.freeze(fields) }),
      policy,
      expiresAt: ticket.sentAt + remaining,
      ipAddress,
    }
  }

  /** Caches a candidate, unless its load's ticket was voided meanwhile. Returns whether it was cached. */
  admit(ticket: Ticket, candidate: Candidate): boolean {
    if (ticket.tag < 0 || ticket.epoch !== this.#epoch) return false
    if (this.#generations[ticket.tag] !== ticket.generation) return false
    this.#add({ ...candidate, link: ticket.link })
    return true
  }

  /**
   * A key changed (an invalidation from Redis, or a write of this process): drops the entry of that key and
   * every entry that read it, and voids the loads in flight in its slot tag. A key outside the store's layout
   * flushes everything (it cannot be placed, so nothing can be trusted).
   */
  invalidate(key: string): void {
    const p = this.#prefixLength
    const tag =
      key.charCodeAt(p) === 123 && key.charCodeAt(p + 4) === 125 ? tagIndex(key.slice(p + 1, p + 4)) : -1
    if (tag < 0) {
      this.flush()
      return
    }
    this.#generations[tag] = ((this.#generations[tag] ?? 0) + 1) >>> 0
    const entry = this.#entries.get(key)
    if (entry) this.#remove(entry)
    const dependents = this.#dependents.get(key)
    if (dependents === undefined) return
    for (const dependent of typeof dependents === 'string' ? [dependents] : [...dependents]) {
      const other = this.#entries.get(dependent)
      if (other) this.#remove(other)
    }
  }

  /** Drops everything and voids every load in flight. */
  flush(): void {
    this.#epoch++
    this.#entries.clear()
    this.#dependents.clear()
  }

  /** Removes expired entries, visiting at most `budget` of them from the least recently used. */
  sweep(now: number, budget: number): void {
    let visited = 0
    for (const entry of this.#entries.values()) {
      if (++visited > budget) break
      if (now >= entry.expiresAt) this.#remove(entry)
    }
  }

  #add(entry: Entry): void {
    const previous = this.#entries.get(entry.key)
    if (previous) this.#remove(previous)
    this.#entries.set(entry.key, entry)
    if (entry.index !== undefined) {
      const keys = this.#dependents.get(entry.index)
      if (keys === undefined) this.#dependents.set(entry.index, entry.key)
      else if (typeof keys === 'string') this.#dependents.set(entry.index, new Set([keys, entry.key]))
      else keys.add(entry.key)
    }
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.values().next()
      if (!oldest.done) this.#remove(oldest.value)
    }
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.key)
    if (entry.index === undefined) return
    const keys = this.#dependents.get(entry.index)
    if (keys === entry.key) this.#dependents.delete(entry.index)
    else if (typeof keys === 'object') {
      keys.delete(entry.key)
      if (keys.size === 0) this.#dependents.delete(entry.index)
    }
  }
}

/** The metadata that decides how long a loaded session may be served: last seen, absolute deadline, owner. */
function servingMeta(
  fields: FlatFields,
): { lastSeen: number; absolute: number; user: string | undefined } | undefined {
  let lastSeen: number | undefined
  let absolute: number | undefined
  let user: string | undefined
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i] as string
    if (name.charCodeAt(0) !== 95) continue // '_': metadata; data fields never start with it
    if (name === META.lastSeenAt) lastSeen = toTime(fields[i + 1])
    else if (name === META.absoluteExpiresAt) absolute = toTime(fields[i + 1])
    else if (name === META.userId) user = fields[i + 1]
  }
  if (lastSeen === undefined || absolute === undefined || user === '') return undefined
  return { lastSeen, absolute, user }
}

/** The fields as Redis holds them after a touch (load.lua returns them as read, before its HSET). */
function afterTouch(fields: FlatFields, now: number, ipAddress: string | undefined): string[] {
  const out = [...fields]
  let ipSet = ipAddress === undefined
  for (let i = 0; i + 1 < out.length; i += 2) {
    if (out[i] === META.lastSeenAt) out[i + 1] = String(now)
    else if (!ipSet && out[i] === META.ipAddress) {
      out[i + 1] = ipAddress as string
      ipSet = true
    }
  }
  if (!ipSet) out.push(META.ipAddress, ipAddress as string)
  return out
}

/**
 * A copy of `text` that holds no reference to the string it was cut from. The load reply is one joined string
 * split into fields, and V8 keeps the pieces as slices of it, so an entry would keep the whole reply alive too
 * (measured: ~1.86 KB per entry with slices, ~1.55 KB with copies, for ~200 B of app data). Fills are rare (once
 * per touch interval), so the copy's cost does not matter.
 */
function detached(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string
}
