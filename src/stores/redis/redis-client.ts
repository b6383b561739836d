/**
 * One small port over the four client shapes sessionkit accepts: node-redis (`createClient`, `createCluster`)
 * and ioredis (`new Redis`, `new Redis.Cluster`). The store only ever needs "send this command, routed by this
 * key" and "give me every master" (for SCAN), so that is all the port offers.
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
  /** One commander per master node (just itself on a single node), for SCAN. */
  masters(): Promise<RedisCommander[]>
  /** `true` for a Redis Cluster client. */
  readonly isCluster: boolean
}

/** The parts of a node-redis client sessionkit uses. */
export interface NodeRedisClientLike {
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>
}

/** The parts of a node-redis cluster client sessionkit uses. */
export interface NodeRedisClusterLike {
  sendCommand(
    firstKey: string | undefined,
    isReadonly: boolean | undefined,
    args: string[],
    options?: { timeout?: number },
  ): Promise<unknown>
  readonly masters: readonly unknown[]
  nodeClient(node: never): Promise<NodeRedisClientLike> | NodeRedisClientLike
}

/** The parts of an ioredis client (or Cluster) sessionkit uses. */
export interface IoRedisLike {
  call(command: string, ...args: string[]): Promise<unknown>
  readonly isCluster?: boolean
  nodes?(role: 'master'): IoRedisLike[]
}

/** Any client sessionkit accepts. */
export type RedisClientLike = NodeRedisClientLike | NodeRedisClusterLike | IoRedisLike

export function toRedisCommander(client: RedisClientLike): RedisCommander {
  if (client === null || typeof client !== 'object') {
    throw new InvalidOptionsError('client must be a node-redis or ioredis client (or cluster)')
  }
  if ('call' in client && typeof client.call === 'function') return ioredisCommander(client)
  if ('masters' in client && 'nodeClient' in client && typeof client.sendCommand === 'function') {
    return nodeRedisClusterCommander(client)
  }
  if ('sendCommand' in client && typeof client.sendCommand === 'function') {
    return nodeRedisCommander(client as NodeRedisClientLike)
  }
  throw new InvalidOptionsError('client must be a node-redis or ioredis client (or cluster)')
}

/**
 * node-redis 6 gives every command a 5 s timeout by default, which costs an AbortSignal and a timer per command.
 * RedisStore enforces its own (shorter, configurable) deadline on every call, so it turns that one off.
 */
const NO_CLIENT_TIMEOUT = Object.freeze({ timeout: 0 })

function nodeRedisCommander(client: NodeRedisClientLike): RedisCommander {
  return {
    isCluster: false,
    send: (_routeKey, args) => client.sendCommand(args as string[], NO_CLIENT_TIMEOUT),
    masters: () => Promise.resolve([nodeRedisCommander(client)]),
  }
}

function nodeRedisClusterCommander(cluster: NodeRedisClusterLike): RedisCommander {
  return {
    isCluster: true,
    send: (routeKey, args) => cluster.sendCommand(routeKey, false, args as string[], NO_CLIENT_TIMEOUT),
    masters: async () =>
      Promise.all(
        cluster.masters.map(async (node) => nodeRedisCommander(await cluster.nodeClient(node as never))),
      ),
  }
}

function ioredisCommander(client: IoRedisLike): RedisCommander {
  const isCluster = client.isCluster === true
  return {
    isCluster,
    send: (_routeKey, args) => {
      const [command, ...rest] = args
      return client.call(command ?? '', ...rest)
    },
    masters: () =>
      Promise.resolve(
        isCluster && client.nodes ? client.nodes('master').map(ioredisCommander) : [ioredisCommander(client)],
      ),
  }
}
