/**
 * Watching a RedisStore's near cache from a test: its diagnostics events (links up, flushes, invalidations, each
 * with the local time it happened) and waiting for a state. Nothing here asserts on durations; the waits are
 * bounded only so that a broken build fails instead of hanging.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { NEAR_CACHE_CHANNEL, type NearCacheEvent, type RedisStore } from '../../src/index.js'
import type { TrackingState } from '../../src/stores/redis/tracking.js'

/** Local time, as the near cache stamps its events. */
export function now(): number {
  return performance.timeOrigin + performance.now()
}

/** Records every near-cache event of one store, from now on. */
export class NearCacheWatch {
  readonly events: NearCacheEvent[] = []
  readonly #store: RedisStore
  readonly #listener = (message: unknown): void => {
    const event = message as NearCacheEvent
    if (event.store === this.#store) this.events.push(event)
  }

  constructor(store: RedisStore) {
    this.#store = store
    subscribe(NEAR_CACHE_CHANNEL, this.#listener)
  }

  /** Resolves with the first event of `type` recorded from index `after` on (already or to come) that matches. */
  next<T extends NearCacheEvent['type']>(
    type: T,
    after = 0,
    match: (event: Extract<NearCacheEvent, { type: T }>) => boolean = () => true,
  ): Promise<Extract<NearCacheEvent, { type: T }>> {
    return this.#first(
      (e): e is Extract<NearCacheEvent, { type: T }> =>
        e.type === type && match(e as Extract<NearCacheEvent, { type: T }>),
      after,
    )
  }

  /** The first invalidation of `key` (or flush of everything) at or after local time `since`. */
  invalidationOf(key: string, since: number): Promise<NearCacheEvent> {
    return this.#first(
      (e): e is NearCacheEvent =>
        e.at >= since &&
        (e.type === 'flushed' || (e.type === 'invalidated' && (e.keys === null || e.keys.includes(key)))),
      0,
    )
  }

  async #first<T extends NearCacheEvent>(
    match: (event: NearCacheEvent) => event is T,
    after: number,
    timeoutMs = 20_000,
  ): Promise<T> {
    const stop = Date.now() + timeoutMs
    for (;;) {
      const found = this.events.find((e, i): e is T => i >= after && match(e))
      if (found) return found
      if (Date.now() > stop) throw new Error(`no matching near-cache event within ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  }

  /** The latest link that came up, or `undefined`. */
  lastLinkUp(): Extract<NearCacheEvent, { type: 'link-up' }> | undefined {
    const ups = this.events.filter((e) => e.type === 'link-up')
    return ups[ups.length - 1]
  }

  dispose(): void {
    unsubscribe(NEAR_CACHE_CHANNEL, this.#listener)
  }
}

/** Waits until the store's near cache is in `state`. */
export async function nearCacheState(
  store: RedisStore,
  state: TrackingState,
  timeoutMs = 20_000,
): Promise<void> {
  const stop = Date.now() + timeoutMs
  while (store.nearCacheStats()?.state !== state) {
    if (Date.now() > stop) {
      throw new Error(`near cache state is ${String(store.nearCacheStats()?.state)}, not ${state}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** Waits until `condition()` holds (polled). */
export async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const stop = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > stop) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}
