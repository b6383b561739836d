/**
 * The near cache's tracking links: one to the Redis node, or on a Cluster one per primary, following the
 * topology. Links are (re)built in the background; a slot whose primary has no live link is simply not cached
 * (its loads go through the user's client), so a missing or broken link costs round trips, never correctness.
 *
 * Topology comes from `CLUSTER SLOTS` (asked through the user's client) and the primaries the user's client
 * knows (matched by `CLUSTER MYID`). It is read again when a link is lost (a primary died or was demoted by a
 * failover: links check `ROLE`), and when a tracked load is answered MOVED or ASK (a slot moved).
 *
 * @module
 */
import { parseClusterSlots, primariesByTag, tagIndex } from './cluster-slots.js'
import type { RedisCommander } from './redis-client.js'
import { localNow } from './server-clock.js'
import type { ConnectionOrigin, ConnectionSource } from './tracking-connection.js'
import { TrackingLink, type LinkListener } from './tracking-link.js'

/** How the links' news reaches the cache. */
export interface TrackingHandler {
  /** Redis invalidated these keys (`null`: everything). */
  invalidated(keys: readonly string[] | null): void
  /** The cache may have missed invalidations (a link was lost, lagged, or the topology changed): flush it. */
  flush(reason: string): void
  /** A link came up (for diagnostics). */
  linkUp(link: TrackingLink): void
  /** Runs with every tick (`maxLagMs / 4`). */
  tick(now: number): void
}

/**
 * How the near cache's links stand: `starting` (none up yet), `up` (every node has one), `partial` (some Cluster
 * primaries have none: their sessions are loaded uncached), `down` (none, after one was up), `closed` (the store
 * was closed). A session is served from memory only while the link of its node is up and fresh.
 */
export type TrackingState = 'starting' | 'up' | 'partial' | 'down' | 'closed'

/** The link id of a single node. */
const SINGLE = 'primary'
const MIN_RETRY_MS = 50
const MAX_RETRY_MS = 2000

export class Tracking implements LinkListener {
  readonly #source: ConnectionSource
  readonly #user: RedisCommander
  readonly #maxLagMs: number
  readonly #handler: TrackingHandler
  /** Live links by node id. */
  readonly #links = new Map<string, TrackingLink>()
  readonly #ids = new WeakMap<object, string>()
  /** Cluster: the primary id of each tag's slot. */
  #primaryByTag: readonly (string | undefined)[] = []
  #wanted = 0
  #everUp = false
  #closed = false
  #refreshing: Promise<void> | undefined
  /** A refresh was asked for while one was running: run another after it. */
  #again = false
  #retryTimer: NodeJS.Timeout | undefined
  #retryMs = MIN_RETRY_MS
  readonly #ticker: NodeJS.Timeout

  constructor(source: ConnectionSource, user: RedisCommander, maxLagMs: number, handler: TrackingHandler) {
    this.#source = source
    this.#user = user
    this.#maxLagMs = maxLagMs
    this.#handler = handler
    this.#ticker = setInterval(
      () => {
        this.#tick()
      },
      Math.max(5, Math.floor(maxLagMs / 4)),
    ).unref()
    this.#refreshSoon(0)
  }

  get state(): TrackingState {
    if (this.#closed) return 'closed'
    if (this.#links.size === 0) return this.#everUp ? 'down' : 'starting'
    return this.#links.size >= this.#wanted ? 'up' : 'partial'
  }

  /** The live link of the slot a tag is in, if there is one. */
  linkFor(tag: string): TrackingLink | undefined {
    if (!this.#source.isCluster) return this.#links.get(SINGLE)
    const id = this.#primaryByTag[tagIndex(tag)]
    return id === undefined ? undefined : this.#links.get(id)
  }

  /** A tracked load was redirected: the slot moved, read the topology again. */
  moved(): void {
    this.#refreshSoon(0)
  }

  /** The links of every node, for diagnostics and tests. */
  links(): TrackingLink[] {
    return [...this.#links.values()]
  }

  close(): void {
    this.#closed = true
    clearInterval(this.#ticker)
    clearTimeout(this.#retryTimer)
    for (const link of this.#links.values()) link.close()
    this.#links.clear()
  }

  // --- LinkListener --------------------------------------------------------------------------------------------

  invalidated(link: TrackingLink, keys: readonly string[] | null): void {
    if (this.#links.get(link.node) === link) this.#handler.invalidated(keys)
  }

  lost(link: TrackingLink, reason: string): void {
    if (this.#links.get(link.node) !== link) return
    this.#links.delete(link.node)
    this.#handler.flush(`link to ${link.node} lost: ${reason}`)
    this.#refreshSoon(MIN_RETRY_MS)
  }

  lagging(link: TrackingLink): void {
    if (this.#links.get(link.node) === link) {
      this.#handler.flush(`link to ${link.node} lagging: no PING reply within ${this.#maxLagMs} ms`)
    }
  }

  // --- topology ------------------------------------------------------------------------------------------------

  #tick(): void {
    const now = localNow()
    for (const link of this.#links.values()) link.tick(now)
    this.#handler.tick(now)
  }

  #refreshSoon(delayMs: number): void {
    if (this.#closed || this.#retryTimer) return
    if (this.#refreshing) {
      this.#again = true
      return
    }
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      this.#again = false
      this.#refreshing = this.#refresh().then(
        () => {
          this.#refreshing = undefined
          this.#retryMs = MIN_RETRY_MS
          if (this.#again) this.#refreshSoon(MIN_RETRY_MS)
        },
        () => {
          this.#refreshing = undefined
          this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2)
          this.#refreshSoon(this.#retryMs)
        },
      )
    }, delayMs).unref()
  }

  /** Opens the links the topology needs and closes those it no longer has. Rejects if any is still missing. */
  async #refresh(): Promise<void> {
    const wanted = await this.#wantedLinks()
    if (this.#closed) return
    this.#wanted = wanted.size
    for (const [id, link] of this.#links) {
      if (wanted.has(id)) continue
      this.#links.delete(id)
      link.close()
      this.#handler.flush(`${id} no longer serves any slot`)
    }
    const opening = [...wanted].filter(([id]) => !this.#links.has(id))
    const results = await Promise.allSettled(opening.map(([id, origin]) => this.#open(id, origin)))
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
    if (this.#source.isCluster && wanted.size < this.#primaryCount()) {
      throw new Error('the client does not know every primary yet')
    }
  }

  /** Node id → where to open its link. */
  async #wantedLinks(): Promise<Map<string, ConnectionOrigin>> {
    const origins = await this.#source.origins()
    if (!this.#source.isCluster) return new Map(origins.map((origin) => [SINGLE, origin]))
    const ranges = parseClusterSlots(await this.#user.send(undefined, ['CLUSTER', 'SLOTS']))
    const byId = new Map<string, ConnectionOrigin>()
    await Promise.all(
      origins.map(async (origin) => {
        byId.set(await this.#idOf(origin), origin)
      }),
    )
    this.#primaryByTag = primariesByTag(ranges)
    const wanted = new Map<string, ConnectionOrigin>()
    for (const { primary } of ranges) {
      const origin = byId.get(primary)
      if (origin) wanted.set(primary, origin)
    }
    return wanted
  }

  #primaryCount(): number {
    return new Set(this.#primaryByTag.filter((id) => id !== undefined)).size
  }

  async #idOf(origin: ConnectionOrigin): Promise<string> {
    let id = this.#ids.get(origin.identity)
    if (id === undefined) {
      id = String(await origin.commander.send(undefined, ['CLUSTER', 'MYID']))
      this.#ids.set(origin.identity, id)
    }
    return id
  }

  async #open(id: string, origin: ConnectionOrigin): Promise<void> {
    const link = await TrackingLink.open(
      origin,
      id,
      { maxLagMs: this.#maxLagMs, checkRole: this.#source.isCluster },
      this,
    )
    if (this.#closed) {
      link.close()
      return
    }
    this.#links.set(id, link)
    this.#everUp = true
    this.#handler.linkUp(link)
  }
}
