/**
 * One tracking link to one Redis node: a connection subscribed to `__redis__:invalidate`, and a connection with
 * `CLIENT TRACKING ON REDIRECT <the first> NOLOOP` that runs the loads the near cache may keep. Redis then
 * remembers every key a load read (also inside a Lua script, for the connection that called it) and sends the
 * key on the first connection when any other connection changes or deletes it, or when it expires or is evicted.
 * NOLOOP: a load's own touch sends no invalidation to its link (the load script reads what it wrote again, so
 * the keys stay tracked).
 *
 * A link is good for one life: when either connection is lost, or the node stops being a primary, it closes for
 * good (its tracking state is gone with the connection), and the owner builds a new one. While it lives, it is
 * "fresh" only as long as a PING sent through the invalidation connection at most `maxLagMs` ago has come back:
 * that reply comes after every invalidation Redis queued before it, so a fresh link has delivered everything but
 * the last `maxLagMs` at most.
 *
 * @module
 */
import { localNow } from './server-clock.js'
import type { ConnectionOrigin, DedicatedConnection } from './tracking-connection.js'
import type { RedisCommander } from './redis-client.js'

export interface LinkListener {
  /** Keys Redis invalidated (`null`: everything). */
  invalidated(link: TrackingLink, keys: readonly string[] | null): void
  /** The link closed for good (not called for `close()`). */
  lost(link: TrackingLink, reason: string): void
  /** No PING came back within `maxLagMs`: the link cannot vouch for the cache until one does. */
  lagging(link: TrackingLink): void
}

export interface LinkOptions {
  readonly maxLagMs: number
  /** Check at every tick that the node is still a primary (Cluster: a failover demotes it). */
  readonly checkRole: boolean
}

export class TrackingLink {
  /** The node, as diagnostics name it (`primary`, or the Cluster node id). */
  readonly node: string
  readonly dataClientId: number
  readonly invalidationClientId: number
  readonly #data: DedicatedConnection
  readonly #invalidations: DedicatedConnection
  readonly #options: LinkOptions
  readonly #listener: LinkListener
  #closed = false
  /** Until `open` returns, a failure rejects the open instead of reaching the listener. */
  #opening = true
  /** Local time until which the link is fresh. */
  #freshUntil = 0
  #pingSentAt: number | undefined
  #lagging = false
  #checkingRole = false

  private constructor(
    node: string,
    connections: { data: DedicatedConnection; invalidations: DedicatedConnection },
    ids: { data: number; invalidations: number },
    options: LinkOptions,
    listener: LinkListener,
  ) {
    this.node = node
    this.#data = connections.data
    this.#invalidations = connections.invalidations
    this.dataClientId = ids.data
    this.invalidationClientId = ids.invalidations
    this.#options = options
    this.#listener = listener
  }

  /** Opens both connections, turns tracking on and waits for a first PING. Rejects if any step fails. */
  static async open(
    origin: ConnectionOrigin,
    node: string,
    options: LinkOptions,
    listener: LinkListener,
  ): Promise<TrackingLink> {
    const invalidations = await origin.open('sessionkit:invalidations')
    let data: DedicatedConnection | undefined
    try {
      const invalidationId = Number(await invalidations.send(['CLIENT', 'ID']))
      // Messages can only arrive once tracking is on below; until the link exists, they are dropped (nothing
      // has been read through it yet).
      const created: { link?: TrackingLink } = {}
      await invalidations.subscribeInvalidations((keys) => {
        const target = created.link
        if (target) target.#receive(keys)
      })
      data = await origin.open('sessionkit:tracked-reads')
      const dataId = Number(await data.send(['CLIENT', 'ID']))
      await data.send(['CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(invalidationId), 'NOLOOP'])
      if (options.checkRole && !isPrimary(await data.send(['ROLE'])))
        throw new Error('the node is not a primary')
      const link = new TrackingLink(
        node,
        { data, invalidations },
        { data: dataId, invalidations: invalidationId },
        options,
        listener,
      )
      created.link = link
      invalidations.onLost((reason) => {
        link.#fail(`invalidation connection lost: ${reason}`)
      })
      data.onLost((reason) => {
        link.#fail(`tracked-read connection lost: ${reason}`)
      })
      await link.#ping()
      if (link.#closed) throw new Error('the link was lost while opening')
      link.#opening = false
      return link
    } catch (error) {
      invalidations.close()
      data?.close()
      throw error
    }
  }

  /** The connection tracked loads go through. */
  get commander(): RedisCommander {
    return this.#data.commander
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Whether the cache may serve entries filled through this link at local time `now`. */
  isFresh(now: number): boolean {
    return now < this.#freshUntil
  }

  /** Runs every `maxLagMs / 4`: keeps one PING (and, on a Cluster, one ROLE) in flight. */
  tick(now: number): void {
    if (this.#closed) return
    if (this.#pingSentAt !== undefined) {
      if (!this.#lagging && now - this.#pingSentAt > this.#options.maxLagMs) {
        this.#lagging = true
        this.#listener.lagging(this)
      }
      return
    }
    void this.#ping()
    if (this.#options.checkRole && !this.#checkingRole) this.#checkRole()
  }

  /** Closes both connections (no `lost` call). */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#freshUntil = 0
    this.#invalidations.close()
    this.#data.close()
  }

  #fail(reason: string): void {
    if (this.#closed) return
    this.close()
    if (!this.#opening) this.#listener.lost(this, reason)
  }

  #receive(keys: readonly string[] | null): void {
    if (!this.#closed) this.#listener.invalidated(this, keys)
  }

  #ping(): Promise<void> {
    const sentAt = localNow()
    this.#pingSentAt = sentAt
    return this.#invalidations.ping().then(
      () => {
        if (this.#closed) return
        this.#pingSentAt = undefined
        this.#lagging = false
        this.#freshUntil = sentAt + this.#options.maxLagMs
      },
      (error: unknown) => {
        this.#fail(`PING failed: ${error instanceof Error ? error.message : String(error)}`)
      },
    )
  }

  #checkRole(): void {
    this.#checkingRole = true
    this.#data.send(['ROLE']).then(
      (reply) => {
        this.#checkingRole = false
        if (!isPrimary(reply)) this.#fail('the node is no longer a primary')
      },
      (error: unknown) => {
        this.#checkingRole = false
        this.#fail(`ROLE failed: ${error instanceof Error ? error.message : String(error)}`)
      },
    )
  }
}

function isPrimary(role: unknown): boolean {
  return Array.isArray(role) && String(role[0]) === 'master'
}
