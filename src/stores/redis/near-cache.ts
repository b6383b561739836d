/**
 * The near cache (`RedisStore({ client, nearCache: { maxEntries } })`): a session this process loaded is kept in
 * memory and served again with no Redis call until its touch is due, while Redis client-side caching keeps it
 * honest (see `tracking.ts` and `tracking-link.ts` for the links, `near-cache-entries.ts` for the memory).
 *
 * What it guarantees:
 * - an entry is served only while the link that tracked its load is fresh (a PING through the invalidation
 *   connection came back within `maxLagMs`); a lost, lagging or rebuilt link flushes the cache, and loads go
 *   through the user's client uncached until a link is fresh again: never a stale read after the link is known
 *   to be down;
 * - a change or deletion of a key a load read (by any app server, an expiry or an eviction) drops the entry when
 *   its invalidation arrives; a load whose reply may have crossed an invalidation is not cached;
 * - this process's own writes drop its entries when they settle, so the next request reads its own writes;
 * - an entry is served until the session's touch is due (then the normal load runs and refreshes it), and never
 *   past its idle or absolute deadline.
 *
 * Invalidation is asynchronous: a read on one app server racing a write on another can see the previous value
 * until the invalidation arrives (the delay the benchmark measures), never longer, and never after a revocation's
 * invalidation has been delivered.
 *
 * Instrumentation: events on the `diagnostics_channel` named {@link NEAR_CACHE_CHANNEL} (links coming up, flushes,
 * invalidations), published only while someone subscribes.
 *
 * @module
 */
import { channel } from 'node:diagnostics_channel'
import { InvalidOptionsError } from '../../core/errors.js'
import { rejectUnknownOptions } from '../../core/option-checks.js'
import { META } from '../../core/stored-fields.js'
import type { LoadResult, StorePolicy } from '../../core/store.js'
import type { SessionRef } from '../../core/token.js'
import type { KeyLayout } from './keys.js'
import { NearCacheEntries, type Candidate, type Ticket, type TrackedLoad } from './near-cache-entries.js'
import type { RedisClientLike, RedisCommander } from './redis-client.js'
import { localNow } from './server-clock.js'
import { connectionSource } from './tracking-connection.js'
import type { TrackingLink } from './tracking-link.js'
import { Tracking, type TrackingState } from './tracking.js'

export type { TrackedLoad } from './near-cache-entries.js'

/** `RedisStore`'s `nearCache` option. */
export interface NearCacheOptions {
  /** Most sessions kept in memory; beyond it the least recently used go first. */
  readonly maxEntries: number
  /**
   * How far behind the invalidation link may fall before the cache stops serving, in ms (default 1000): a PING
   * goes through it every quarter of this, and the cache serves only while one came back within it.
   */
  readonly maxLagMs?: number
}

/** What `RedisStore.nearCacheStats()` reports. */
export interface NearCacheStats {
  /**
   * `up`: every link is live; `partial`: some Cluster primaries have none; `starting`/`down`: none yet/now;
   * `closed`: after `store.close()`.
   */
  readonly state: TrackingState
  /** Sessions held in memory now (at most `maxEntries`). */
  readonly entries: number
  /** Loads served from memory. */
  readonly hits: number
  /** Loads that went to Redis through a tracking link (and may fill the cache). */
  readonly misses: number
  /** Loads that went through the user's client, uncached, because no fresh link served their slot. */
  readonly bypassed: number
  /** Keys Redis invalidated. */
  readonly invalidations: number
  /** Times the whole cache was dropped (a link lost or lagging, a topology change, FLUSHALL). */
  readonly flushes: number
}

/** What the near cache publishes on {@link NEAR_CACHE_CHANNEL}. `at` is `performance.timeOrigin + performance.now()`. */
export type NearCacheEvent =
  /** A tracking link to one node came up: its sessions can be cached from now on. */
  | {
      /** A link came up. */
      readonly type: 'link-up'
      /** The `RedisStore` it belongs to (tell several stores apart by identity). */
      readonly store: object
      /** The node: `primary` on a single node, the Cluster node id on a Cluster. */
      readonly node: string
      /** `CLIENT ID` of the link's tracked-reads connection (`sessionkit:tracked-reads`). */
      readonly dataClientId: number
      /** `CLIENT ID` of its invalidation connection (`sessionkit:invalidations`). */
      readonly invalidationClientId: number
      /** When, in epoch ms (fractional). */
      readonly at: number
    }
  /** The whole cache was dropped. */
  | {
      /** The cache was flushed. */
      readonly type: 'flushed'
      /** The `RedisStore` it belongs to. */
      readonly store: object
      /** Why, for people: `link to primary lost: ...`, `... lagging: no PING reply within 1000 ms`... */
      readonly reason: string
      /** When, in epoch ms (fractional). */
      readonly at: number
    }
  /** Redis invalidated keys: their entries were dropped. */
  | {
      /** Keys were invalidated. */
      readonly type: 'invalidated'
      /** The `RedisStore` it belongs to. */
      readonly store: object
      /** `null`: everything (FLUSHALL, FLUSHDB). */
      readonly keys: readonly string[] | null
      /** When, in epoch ms (fractional). */
      readonly at: number
    }

/** The `node:diagnostics_channel` name the near cache publishes its {@link NearCacheEvent}s on. */
export const NEAR_CACHE_CHANNEL = 'sessionkit:near-cache'

const diagnostics = channel(NEAR_CACHE_CHANNEL)
const DEFAULT_MAX_LAG_MS = 1000
/** Entries checked for expiry per tick, so that memory follows the working set without a full scan. */
const SWEEP_BUDGET = 1000

interface ResolvedOptions {
  readonly maxEntries: number
  readonly maxLagMs: number
}

/**
 * Reads the `nearCache` option: `undefined` or `false` is off.
 *
 * @throws {InvalidOptionsError}
 */
export function resolveNearCacheOptions(value: unknown): ResolvedOptions | undefined {
  if (value === undefined || value === false) return undefined
  if (value === null || typeof value !== 'object') {
    throw new InvalidOptionsError('RedisStore: nearCache must be { maxEntries, maxLagMs? } or false')
  }
  rejectUnknownOptions('RedisStore nearCache', value, ['maxEntries', 'maxLagMs'])
  const { maxEntries, maxLagMs } = value as NearCacheOptions
  return {
    maxEntries: integer('maxEntries', maxEntries, 1, 10_000_000),
    maxLagMs: integer('maxLagMs', maxLagMs ?? DEFAULT_MAX_LAG_MS, 20, 60_000),
  }
}

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionsError(
      `RedisStore: nearCache.${name} must be an integer between ${min} and ${max}, got ${String(value)}`,
    )
  }
  return value
}

/** Runs one load script: through `via` (a tracking link) or, when `undefined`, through the user's client. */
export type RunLoad = (via: RedisCommander | undefined) => Promise<TrackedLoad>

export class NearCache {
  readonly #entries: NearCacheEntries
  readonly #tracking: Tracking
  readonly #keys: KeyLayout
  readonly #owner: object
  #hits = 0
  #misses = 0
  #bypassed = 0
  #invalidations = 0
  #flushes = 0

  /**
   * @param user the user's client, behind the store's port (for `CLUSTER SLOTS`)
   * @param owner the store, as diagnostics events name it
   * @throws {InvalidOptionsError} for a client the near cache cannot open its connections from
   */
  constructor(
    client: RedisClientLike,
    user: RedisCommander,
    keys: KeyLayout,
    options: ResolvedOptions,
    owner: object,
  ) {
    const source = connectionSource(client)
    this.#entries = new NearCacheEntries(options.maxEntries, keys.prefix)
    this.#keys = keys
    this.#owner = owner
    this.#tracking = new Tracking(source, user, options.maxLagMs, {
      invalidated: (keys) => {
        this.#invalidated(keys)
      },
      flush: (reason) => {
        this.#flush(reason)
      },
      linkUp: (link) => {
        this.#publish({
          type: 'link-up',
          store: this.#owner,
          node: link.node,
          dataClientId: link.dataClientId,
          invalidationClientId: link.invalidationClientId,
          at: localNow(),
        })
      },
      tick: (now) => {
        this.#entries.sweep(now, SWEEP_BUDGET)
      },
    })
  }

  /**
   * Loads the session stored at `key`: from memory when an entry may be served, else with `run` — through the
   * slot's tracking link (and then cached), or through the user's client when the slot has no fresh link.
   */
  load(
    key: string,
    ref: SessionRef,
    policy: StorePolicy,
    ipAddress: string | undefined,
    run: RunLoad,
  ): Promise<LoadResult> {
    const now = localNow()
    const link = this.#tracking.linkFor(ref.tag)
    if (link === undefined || !link.isFresh(now)) {
      this.#bypassed++
      return run(undefined).then(resultOf)
    }
    const cached = this.#entries.get(key, policy, link, now, ipAddress)
    if (cached !== undefined) {
      this.#hits++
      return Promise.resolve(cached)
    }
    this.#misses++
    const ticket = this.#entries.ticket(ref.tag, link, now)
    return run(link.commander).then(
      (load) => {
        this.#loaded(link, ticket, key, ref, load, policy, ipAddress)
        return load.result
      },
      (error: unknown) => {
        // The link's connection broke under this call, or the slot moved: the user's client can still answer
        // (it follows redirects and reconnects). A timeout or an error reply is the caller's to see.
        const cause = error instanceof Error ? error.cause : undefined
        if (cause === undefined) throw error
        const message = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : ''
        const redirected = /^(MOVED|ASK) /.test(message)
        if (!redirected && /^[A-Z][A-Z_]+ /.test(message)) throw error
        if (redirected) this.#tracking.moved()
        return run(undefined).then(resultOf)
      },
    )
  }

  /**
   * Call with every script that may change sessions, with the keys it names: when it settles (also when it
   * failed: it may have run), the entries of those keys and of the sessions that read them are dropped and the
   * loads in flight in their slot are not cached, so this process reads its own writes. (Redis also sends their
   * invalidation, as for any other client's write, but asynchronously.)
   */
  afterWrite<T>(work: Promise<T>, keys: readonly string[]): Promise<T> {
    return work.then(
      (value) => {
        this.#wrote(keys)
        return value
      },
      (error: unknown) => {
        this.#wrote(keys)
        throw error
      },
    )
  }

  stats(): NearCacheStats {
    return {
      state: this.#tracking.state,
      entries: this.#entries.size,
      hits: this.#hits,
      misses: this.#misses,
      bypassed: this.#bypassed,
      invalidations: this.#invalidations,
      flushes: this.#flushes,
    }
  }

  /** Closes the tracking connections; later loads go through the user's client, uncached. */
  close(): void {
    this.#tracking.close()
    this.#entries.flush()
  }

  /**
   * A load through `link` answered. An anonymous session is cached at once. A signed-in one is cached once a
   * ZSCORE through the same link has found it in its user's index: the load script read the index too, but Redis
   * tracks a script's reads only for its declared KEYS (checked on Redis 7.0), so the ZSCORE is what tracks it,
   * and a change of the index between the two is caught by the ticket. It is sent after every load of a signed-in
   * session (the request does not wait for it), since a touch writes the index, which ends its tracking (NOLOOP)
   * for the other cached sessions of the user too.
   */
  #loaded(
    link: TrackingLink,
    ticket: Ticket,
    key: string,
    ref: SessionRef,
    load: TrackedLoad,
    policy: StorePolicy,
    ipAddress: string | undefined,
  ): void {
    const indexPrefix = this.#keys.userIndexPrefix(ref.tag)
    const candidate = this.#entries.candidate(ticket, key, indexPrefix, load, policy, ipAddress)
    if (load.result.status !== 'found') {
      // A load past the absolute deadline deletes the session and writes its index, which ends the index's
      // tracking for this link: the entries that depend on it must go (their index is known if this key's was).
      const index = this.#entries.indexOf(key)
      if (index !== undefined) this.#entries.invalidate(index)
      return
    }
    const index = candidate?.index ?? indexOfFields(indexPrefix, load.result.fields)
    if (index === undefined) {
      if (candidate) this.#admit(link, ref.tag, ticket, candidate)
      return
    }
    link.commander.send(undefined, ['ZSCORE', index, ref.hash]).then(
      (score) => {
        if (candidate && score !== null && score !== undefined) this.#admit(link, ref.tag, ticket, candidate)
      },
      () => {
        // The link failed (and reports it): nothing is cached, its entries go with it.
      },
    )
  }

  #admit(link: TrackingLink, tag: string, ticket: Ticket, candidate: Candidate): void {
    if (!link.isFresh(localNow()) || this.#tracking.linkFor(tag) !== link) return
    this.#entries.admit(ticket, candidate)
  }

  #wrote(keys: readonly string[]): void {
    for (const key of keys) this.#entries.invalidate(key)
  }

  #invalidated(keys: readonly string[] | null): void {
    if (keys === null) {
      this.#flush('Redis invalidated every key (FLUSHALL or FLUSHDB)')
    } else {
      this.#invalidations += keys.length
      for (const key of keys) this.#entries.invalidate(key)
    }
    this.#publish({ type: 'invalidated', store: this.#owner, keys, at: localNow() })
  }

  #flush(reason: string): void {
    this.#entries.flush()
    this.#flushes++
    this.#publish({ type: 'flushed', store: this.#owner, reason, at: localNow() })
  }

  #publish(event: NearCacheEvent): void {
    if (diagnostics.hasSubscribers) diagnostics.publish(event)
  }
}

function resultOf(load: TrackedLoad): LoadResult {
  return load.result
}

/** The user index key of a loaded session (from its `_u` field), or `undefined` for an anonymous one. */
function indexOfFields(indexPrefix: string, fields: readonly string[]): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === META.userId) return indexPrefix + (fields[i + 1] as string)
  }
  return undefined
}
