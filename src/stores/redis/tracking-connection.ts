/**
 * The connections the near cache opens for client tracking, made from the user's client with its own
 * `duplicate()` (so they get the same address, credentials, TLS and database): per Redis node, one connection
 * that runs the tracked loads and one subscribed to `__redis__:invalidate`. The user's client itself is used as
 * it is for everything else.
 *
 * They differ from the user's client on purpose:
 * - RESP2: invalidations must arrive as Pub/Sub messages on the redirect target (a RESP3 connection would get
 *   them as push frames, which ioredis drops);
 * - no reconnection and no offline queue: a lost connection is a lost link (its tracking state died with it), so
 *   the near cache must notice, flush and build a new link, never carry on over a silent reconnect;
 * - unreferenced: they never keep the process alive; `RedisStore.close()` ends them.
 *
 * @module
 */
import { InvalidOptionsError } from '../../core/errors.js'
import { toRedisCommander, type RedisClientLike, type RedisCommander } from './redis-client.js'

/** One connection the near cache owns. */
export interface DedicatedConnection {
  /** The connection as a command runner (tracked loads go through it). */
  readonly commander: RedisCommander
  send(args: readonly string[]): Promise<unknown>
  /** Subscribes to `__redis__:invalidate`: `onKeys` gets the invalidated keys, `null` for "everything". */
  subscribeInvalidations(onKeys: (keys: readonly string[] | null) => void): Promise<void>
  /** PING. On a subscribed connection its reply comes after every message Redis queued before it. */
  ping(): Promise<unknown>
  /** `listener` is called (once) when the connection is lost. */
  onLost(listener: (reason: string) => void): void
  close(): void
}

/** A Redis node dedicated connections can be opened to: the user's server, or one Cluster primary. */
export interface ConnectionOrigin {
  /** The user's connection to that node (for `CLUSTER MYID`). */
  readonly commander: RedisCommander
  /** The object that stands for the node in the user's client (stable while the client knows the node). */
  readonly identity: object
  /** Opens a dedicated connection, named `name` in `CLIENT LIST`. */
  open(name: string): Promise<DedicatedConnection>
}

export interface ConnectionSource {
  readonly isCluster: boolean
  /** The node (single) or the primaries (Cluster) as the user's client knows them now. */
  origins(): Promise<ConnectionOrigin[]>
}

const INVALIDATION_CHANNEL = '__redis__:invalidate'

/** The parts of a node-redis client the near cache uses to make its connections. */
interface NodeRedisDuplicable {
  duplicate(overrides: Record<string, unknown>): NodeRedisConnection
  readonly options?: { readonly socket?: object } | undefined
}

interface NodeRedisConnection {
  connect(): Promise<unknown>
  sendCommand(args: string[]): Promise<unknown>
  subscribe(channel: string, listener: (message: unknown) => void): Promise<unknown>
  on(event: string, listener: (arg: unknown) => void): unknown
  destroy(): void
  unref?(): void
}

/** The parts of an ioredis client (or Cluster node) the near cache uses to make its connections. */
interface IoRedisDuplicable {
  duplicate(overrides: Record<string, unknown>): IoRedisConnection
}

interface IoRedisConnection {
  connect(): Promise<unknown>
  call(command: string, ...args: string[]): Promise<unknown>
  subscribe(channel: string): Promise<unknown>
  ping(): Promise<unknown>
  on(event: string, listener: (...args: unknown[]) => void): unknown
  disconnect(): void
  readonly stream?: { unref?(): void } | undefined
}

/**
 * Where the near cache's connections come from, for a client `RedisStore` accepts.
 *
 * @throws {InvalidOptionsError} for a client the near cache cannot duplicate (node-redis Sentinel)
 */
export function connectionSource(client: RedisClientLike): ConnectionSource {
  const c = client as unknown as Record<string, unknown>
  if (typeof c.call === 'function') {
    if (c.isCluster === true && typeof c.nodes === 'function') {
      const nodes = c.nodes as (role: 'master') => IoRedisDuplicable[]
      return {
        isCluster: true,
        origins: () => Promise.resolve(nodes.call(client, 'master').map(ioredisOrigin)),
      }
    }
    requireDuplicate(client)
    return single(ioredisOrigin(client as unknown as IoRedisDuplicable))
  }
  if ('masters' in c && typeof c.nodeClient === 'function') {
    const cluster = client as unknown as {
      readonly masters: readonly unknown[]
      nodeClient(node: unknown): Promise<NodeRedisDuplicable> | NodeRedisDuplicable
    }
    return {
      isCluster: true,
      origins: async () =>
        Promise.all(cluster.masters.map(async (node) => nodeRedisOrigin(await cluster.nodeClient(node)))),
    }
  }
  if (typeof c.use === 'function') {
    throw new InvalidOptionsError(
      'RedisStore: nearCache does not support node-redis Sentinel clients (createSentinel); use ioredis with sentinels, or leave nearCache off',
    )
  }
  requireDuplicate(client)
  return single(nodeRedisOrigin(client as unknown as NodeRedisDuplicable))
}

function single(origin: ConnectionOrigin): ConnectionSource {
  return { isCluster: false, origins: () => Promise.resolve([origin]) }
}

function requireDuplicate(client: RedisClientLike): void {
  if (typeof (client as { duplicate?: unknown }).duplicate !== 'function') {
    throw new InvalidOptionsError(
      'RedisStore: nearCache needs a client with duplicate() (node-redis or ioredis)',
    )
  }
}

/** Calls `listener` once, on the first `fire`. */
class LostSignal {
  #listener: ((reason: string) => void) | undefined
  #reason: string | undefined

  fire(reason: string): void {
    if (this.#reason !== undefined) return
    this.#reason = reason
    this.#listener?.(reason)
  }

  listen(listener: (reason: string) => void): void {
    this.#listener = listener
    if (this.#reason !== undefined) listener(this.#reason)
  }
}

function nodeRedisOrigin(client: NodeRedisDuplicable): ConnectionOrigin {
  return {
    commander: toRedisCommander(client as unknown as RedisClientLike),
    identity: client,
    async open(name) {
      const connection = client.duplicate({
        RESP: 2,
        socket: { ...client.options?.socket, reconnectStrategy: false },
        disableOfflineQueue: true,
        maintNotifications: 'disabled',
        clientSideCache: undefined,
        emitInvalidate: undefined,
        pingInterval: undefined,
      })
      const lost = new LostSignal()
      connection.on('error', (error) => {
        lost.fire(messageOf(error))
      })
      connection.on('end', () => {
        lost.fire('the connection was closed')
      })
      try {
        await connection.connect()
        connection.unref?.()
        await connection.sendCommand(['CLIENT', 'SETNAME', name])
      } catch (error) {
        connection.destroy()
        throw error
      }
      return {
        commander: toRedisCommander(connection),
        send: (args) => connection.sendCommand([...args]),
        async subscribeInvalidations(onKeys) {
          await connection.subscribe(INVALIDATION_CHANNEL, (message) => {
            onKeys(toKeys(message))
          })
        },
        ping: () => connection.sendCommand(['PING']),
        onLost: (listener) => {
          lost.listen(listener)
        },
        close: () => {
          lost.fire('closed by sessionkit')
          connection.destroy()
        },
      }
    },
  }
}

/** A link connection never reconnects, queues or resends: when it breaks, the link is rebuilt, never resumed. */
const IOREDIS_LINK_OPTIONS = {
  protocol: 2,
  lazyConnect: true,
  retryStrategy: () => null,
  reconnectOnError: () => false,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  autoResubscribe: false,
  maxRetriesPerRequest: 0,
  enableAutoPipelining: false,
} as const

function ioredisOrigin(client: IoRedisDuplicable): ConnectionOrigin {
  return {
    commander: toRedisCommander(client as unknown as RedisClientLike),
    identity: client,
    async open(name) {
      const connection = client.duplicate({ ...IOREDIS_LINK_OPTIONS, connectionName: name })
      const lost = new LostSignal()
      connection.on('error', (error) => {
        lost.fire(messageOf(error))
      })
      connection.on('close', () => {
        lost.fire('the connection was closed')
      })
      try {
        await connection.connect()
        connection.stream?.unref?.()
      } catch (error) {
        connection.disconnect()
        throw error
      }
      return {
        commander: toRedisCommander(connection),
        send: (args) => {
          const [command, ...rest] = args
          return connection.call(command ?? '', ...rest)
        },
        async subscribeInvalidations(onKeys) {
          connection.on('messageBuffer', (channel, message) => {
            if (String(channel) === INVALIDATION_CHANNEL) onKeys(toKeys(message))
          })
          await connection.subscribe(INVALIDATION_CHANNEL)
        },
        ping: () => connection.ping(),
        onLost: (listener) => {
          lost.listen(listener)
        },
        close: () => {
          lost.fire('closed by sessionkit')
          connection.disconnect()
        },
      }
    },
  }
}

/** An invalidation message: the keys (strings or Buffers), or null for "everything" (FLUSHALL, FLUSHDB). */
function toKeys(message: unknown): readonly string[] | null {
  if (Array.isArray(message)) return (message as unknown[]).map(String)
  if (message === null || message === undefined) return null
  // Anything else is not an invalidation Redis sends: treat it as "everything", never as nothing.
  return null
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
