/**
 * One small port over the client shapes sessionkit accepts: node-redis (`createClient`, `createCluster`,
 * `createSentinel`) and ioredis (`new Redis`, `new Redis({ sentinels })`, `new Redis.Cluster`). The store only
 * needs "send this command, routed by this key", "are you connected", "confirm my writes reached the replicas"
 * (WAIT on the connection that sent them) and "give me every master" (for SCAN), so that is all the port offers.
 *
 * The user's client is used as it is: sessionkit never creates, configures or closes it.
 *
 * @module
 */
import { InvalidOptionsError } from '../../core/errors.js'

/** A raw command runner, routed by key on a Cluster. */
export interface RedisCommander {
  /** Sends one command. `routeKey` picks the Cluster node; a single node ignores it. */
  send(routeKey: string | undefined, args: readonly string[]): Promise<unknown>
  /**
   * Whether the client is connected now. A call made while it is not would wait in the client's offline queue
   * for the length of the outage; the store fails it at once instead.
   */
  isReady(): boolean
  /**
   * `WAIT replicas timeoutMs` on the connection that serves `routeKey`, so it covers the writes just sent there.
   * Resolves with the number of replicas that acknowledged them.
   */
  wait(routeKey: string, replicas: number, timeoutMs: number): Promise<number>
  /** One commander per master node (just itself on a single node), for SCAN. */
  masters(): Promise<RedisCommander[]>
  /** `true` for a Redis Cluster client. */
  readonly isCluster: boolean
}

/** The parts of a node-redis client sessionkit uses. */
export interface NodeRedisClientLike {
  /** Sends one raw command; sessionkit passes `{ timeout: 0 }`, since the store enforces its own deadline. */
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>
  /** Whether the client is connected; while it is not, store calls fail at once instead of queueing. */
  readonly isReady?: boolean
}

/** The parts of a node-redis cluster client sessionkit uses. */
export interface NodeRedisClusterLike {
  /** Sends one raw command to the node that serves `firstKey`; sessionkit passes `{ timeout: 0 }`. */
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
    options?: { timeout?: number },
  ): Promise<unknown>
  /** The master nodes (for SCAN, which must visit each). */
  readonly masters: readonly unknown[]
  /** The client of one of `masters`. */
  nodeClient(node: never): Promise<NodeRedisClientLike> | NodeRedisClientLike
  /** Whether the client is connected; while it is not, store calls fail at once instead of queueing. */
  readonly isReady?: boolean
}

/** The parts of a node-redis Sentinel client (`createSentinel()`) sessionkit uses. */
export interface NodeRedisSentinelLike {
  /** Sends one raw command to the current master; sessionkit passes `{ timeout: 0 }`. */
  sendCommand(
    isReadonly: boolean | undefined,
    args: string[],
    options?: { timeout?: number },
  ): Promise<unknown>
  /** Leases one master connection for the duration of `fn` (how a Sentinel client is told apart). */
  use<T>(fn: (client: NodeRedisSentinelLeaseLike) => Promise<T>): Promise<T>
  /** Whether the client is connected; while it is not, store calls fail at once instead of queueing. */
  readonly isReady?: boolean
}

/** A node-redis Sentinel lease: one master connection, for the duration of `use()`. */
export interface NodeRedisSentinelLeaseLike {
  /** Sends one raw command on the leased connection. */
  sendCommand(
    isReadonly: boolean | undefined,
    args: string[],
    options?: { timeout?: number },
  ): Promise<unknown>
}

/** The parts of an ioredis client (single, Sentinel or Cluster) sessionkit uses. */
export interface IoRedisLike {
  /** Sends one raw command (on a Cluster, routed by its key). */
  call(command: string, ...args: string[]): Promise<unknown>
  /** The connection status; while `reconnecting`, `close` or `end`, store calls fail at once instead of queueing. */
  readonly status?: string
  /** `true` for an ioredis `Cluster`. */
  readonly isCluster?: boolean
  /** A Cluster's master nodes (for SCAN, which must visit each). */
  nodes?(role: 'master'): IoRedisLike[]
  /** Commands sent together to one node: on a Cluster, `WAIT` rides with a key so it reaches the right master. */
  pipeline?(commands: string[][]): {
    /** Sends the commands; resolves with `[error, reply]` per command. */
    exec(): Promise<[Error | null, unknown][] | null>
  }
}

/** Any client sessionkit accepts. */
export type RedisClientLike = NodeRedisClientLike | NodeRedisClusterLike | NodeRedisSentinelLike | IoRedisLike

export function toRedisCommander(client: RedisClientLike): RedisCommander {
  if (client === null || typeof client !== 'object') throw unsupported()
  if ('call' in client && typeof client.call === 'function') return ioredisCommander(client)
  if ('masters' in client && 'nodeClient' in client && typeof client.sendCommand === 'function') {
    return nodeRedisClusterCommander(client)
  }
  if ('use' in client && typeof client.use === 'function' && typeof client.sendCommand === 'function') {
    return nodeRedisSentinelCommander(client)
  }
  if ('sendCommand' in client && typeof client.sendCommand === 'function') {
    return nodeRedisCommander(client as NodeRedisClientLike)
  }
  throw unsupported()
}

function unsupported(): InvalidOptionsError {
  return new InvalidOptionsError(
    'client must be a node-redis client (createClient, createCluster or createSentinel) or an ioredis client (Redis or Cluster)',
  )
}

/**
 * node-redis 6 gives every command a 5 s timeout by default, which costs an AbortSignal and a timer per command.
 * RedisStore enforces its own (shorter, configurable) deadline on every call, so it turns that one off.
 */
const NO_CLIENT_TIMEOUT = Object.freeze({ timeout: 0 })

function waitArgs(replicas: number, timeoutMs: number): string[] {
  return ['WAIT', String(replicas), String(timeoutMs)]
}

function nodeRedisCommander(client: NodeRedisClientLike): RedisCommander {
  const commander: RedisCommander = {
    isCluster: false,
    send: (_routeKey, args) => client.sendCommand(args as string[], NO_CLIENT_TIMEOUT),
    isReady: () => client.isReady !== false,
    wait: async (_routeKey, replicas, timeoutMs) =>
      Number(await client.sendCommand(waitArgs(replicas, timeoutMs), NO_CLIENT_TIMEOUT)),
    masters: () => Promise.resolve([commander]),
  }
  return commander
}

function nodeRedisClusterCommander(cluster: NodeRedisClusterLike): RedisCommander {
  return {
    isCluster: true,
    send: (routeKey, args) => cluster.sendCommand(routeKey, false, args as string[], NO_CLIENT_TIMEOUT),
    isReady: () => cluster.isReady !== false,
    // Routed by the key, so it lands on the connection of the master that ran the script.
    wait: async (routeKey, replicas, timeoutMs) =>
      Number(await cluster.sendCommand(routeKey, false, waitArgs(replicas, timeoutMs), NO_CLIENT_TIMEOUT)),
    masters: async () =>
      Promise.all(
        cluster.masters.map(async (node) => nodeRedisCommander(await cluster.nodeClient(node as never))),
      ),
  }
}

function nodeRedisSentinelCommander(sentinel: NodeRedisSentinelLike): RedisCommander {
  const commander: RedisCommander = {
    isCluster: false,
    send: (_routeKey, args) => sentinel.sendCommand(false, args as string[], NO_CLIENT_TIMEOUT),
    isReady: () => sentinel.isReady !== false,
    // With the default masterPoolSize of 1 every command shares one master connection, so WAIT covers the
    // writes sent before it; a larger pool would need the writes and the WAIT in one lease.
    wait: async (_routeKey, replicas, timeoutMs) =>
      Number(await sentinel.sendCommand(false, waitArgs(replicas, timeoutMs), NO_CLIENT_TIMEOUT)),
    masters: () => Promise.resolve([commander]),
  }
  return commander
}

const DOWN_STATUSES = new Set(['reconnecting', 'close', 'end'])

function ioredisCommander(client: IoRedisLike): RedisCommander {
  const isCluster = client.isCluster === true
  const send = (_routeKey: string | undefined, args: readonly string[]): Promise<unknown> => {
    const [command, ...rest] = args
    return client.call(command ?? '', ...rest)
  }
  return {
    isCluster,
    send,
    // Not while it waits to reconnect or after it closed; during the first connection, ioredis queues (apps
    // rarely await it), and the deadline bounds the wait.
    isReady: () => client.status === undefined || !DOWN_STATUSES.has(client.status),
    wait: async (routeKey, replicas, timeoutMs) => {
      if (!isCluster || !client.pipeline) return Number(await send(routeKey, waitArgs(replicas, timeoutMs)))
      // A keyless command would go to a random node: a pipeline goes to the node of its first key. Its batch
      // form calls each command by method name, which ioredis spells in lower case.
      const wait = ['wait', String(replicas), String(timeoutMs)]
      const results = await client.pipeline([['exists', routeKey], wait]).exec()
      const [error, value] = results?.[1] ?? [new Error('WAIT got no reply'), 0]
      if (error) throw error
      return Number(value)
    },
    masters: () =>
      Promise.resolve(
        isCluster && client.nodes ? client.nodes('master').map(ioredisCommander) : [ioredisCommander(client)],
      ),
  }
}
