/**
 * Redis keyspace notifications for expired keys, for the `expire` event (`kit.watchExpirations()`).
 *
 * A subscribing connection can run nothing else, so this is the one place sessionkit opens connections of its
 * own: one per master (keyspace notifications are published only on the node whose key expired, never across a
 * Cluster), each duplicated from the application's client (same address, credentials and TLS) and closed by the
 * returned stop function. A node-redis Sentinel client subscribes through its own pub/sub connection instead.
 *
 * Redis publishes these only when `notify-keyspace-events` includes `E` (keyevent channels) and `x` (expired
 * events), e.g. `CONFIG SET notify-keyspace-events Ex`; sessionkit checks and warns, it never changes the
 * server's configuration. The watch follows the masters known when it starts: after a failover or resharding,
 * stop it and start it again.
 *
 * @module
 */
import { StoreUnavailableError } from '../../core/errors.js'
import type { RedisClientLike, RedisCommander } from './redis-client.js'

const PATTERN = '__keyevent@*__:expired'

/** A node-redis client, as far as subscribing goes. */
interface NodeRedisSubscriber {
  duplicate(): NodeRedisSubscriber
  connect(): Promise<unknown>
  pSubscribe(pattern: string, listener: (message: string, channel: string) => void): Promise<unknown>
  destroy?(): void
  disconnect?(): Promise<unknown>
  on?(event: 'error', listener: (error: unknown) => void): unknown
}

/** A node-redis Sentinel client, as far as subscribing goes (it owns a pub/sub connection). */
interface NodeRedisSentinelSubscriber {
  pSubscribe(pattern: string, listener: (message: string, channel: string) => void): Promise<unknown>
  pUnsubscribe(pattern: string, listener: (message: string, channel: string) => void): Promise<unknown>
}

/** An ioredis client (single node or a Cluster's node), as far as subscribing goes. */
interface IoRedisSubscriber {
  duplicate(): IoRedisSubscriber
  psubscribe(pattern: string): Promise<unknown>
  on(event: 'pmessage', listener: (pattern: string, channel: string, message: string) => void): unknown
  on(event: 'error', listener: (error: unknown) => void): unknown
  disconnect(): void
  nodes?(role: 'master'): IoRedisSubscriber[]
  readonly isCluster?: boolean
}

type Stop = () => Promise<void>

/**
 * Subscribes to expired-key events on every master and calls `onKey` with each expired key's name.
 *
 * @throws {StoreUnavailableError} a subscription could not be set up (the ones already made are closed)
 */
export async function watchKeyExpirations(
  client: RedisClientLike,
  commander: RedisCommander,
  onKey: (key: string) => void,
): Promise<Stop> {
  await warnIfNotificationsOff(commander)
  const stops: Stop[] = []
  try {
    for (const subscribe of subscribers(client, onKey)) stops.push(await subscribe())
  } catch (error) {
    await Promise.all(stops.map((stop) => stop()))
    const message = error instanceof Error ? error.message : String(error)
    throw new StoreUnavailableError(`cannot watch Redis expirations: ${message}`, { cause: error })
  }
  return async () => {
    await Promise.all(stops.map((stop) => stop()))
  }
}

/** One subscribe step per master connection to open. */
function subscribers(client: RedisClientLike, onKey: (key: string) => void): (() => Promise<Stop>)[] {
  if ('call' in client) {
    const io = client as unknown as IoRedisSubscriber
    const nodes = io.isCluster === true && io.nodes ? io.nodes('master') : [io]
    return nodes.map((node) => () => ioredisSubscribe(node, onKey))
  }
  if ('masters' in client && 'nodeClient' in client) {
    return client.masters.map((master) => async () => {
      const node = (await client.nodeClient(master as never)) as unknown as NodeRedisSubscriber
      return nodeRedisSubscribe(node, onKey)
    })
  }
  if ('use' in client) {
    const sentinel = client as unknown as NodeRedisSentinelSubscriber
    return [
      async () => {
        const listener = (message: string): void => {
          onKey(message)
        }
        await sentinel.pSubscribe(PATTERN, listener)
        return async () => {
          await sentinel.pUnsubscribe(PATTERN, listener)
        }
      },
    ]
  }
  return [() => nodeRedisSubscribe(client as unknown as NodeRedisSubscriber, onKey)]
}

async function nodeRedisSubscribe(node: NodeRedisSubscriber, onKey: (key: string) => void): Promise<Stop> {
  const subscriber = node.duplicate()
  // Without a listener, a connection error would be thrown as an uncaught exception.
  subscriber.on?.('error', () => undefined)
  const close = async (): Promise<void> => {
    if (subscriber.destroy) subscriber.destroy()
    else await subscriber.disconnect?.()
  }
  try {
    await subscriber.connect()
    await subscriber.pSubscribe(PATTERN, (message) => {
      onKey(message)
    })
  } catch (error) {
    await close()
    throw error
  }
  return close
}

async function ioredisSubscribe(node: IoRedisSubscriber, onKey: (key: string) => void): Promise<Stop> {
  const subscriber = node.duplicate()
  subscriber.on('error', () => undefined)
  subscriber.on('pmessage', (_pattern, _channel, message) => {
    onKey(message)
  })
  try {
    await subscriber.psubscribe(PATTERN)
  } catch (error) {
    subscriber.disconnect()
    throw error
  }
  return () => {
    subscriber.disconnect()
    return Promise.resolve()
  }
}

/** Warns when a master's `notify-keyspace-events` would publish no expired events. Silent when CONFIG is denied. */
async function warnIfNotificationsOff(commander: RedisCommander): Promise<void> {
  for (const node of await commander.masters()) {
    let flags: string
    try {
      const reply = await node.send(undefined, ['CONFIG', 'GET', 'notify-keyspace-events'])
      flags = configValue(reply)
    } catch {
      return
    }
    if (!flags.includes('E') || !(flags.includes('x') || flags.includes('A'))) {
      process.emitWarning(
        `Redis notify-keyspace-events is ${JSON.stringify(flags)}: expired sessions are not published. Set it to include "Ex" (e.g. CONFIG SET notify-keyspace-events Ex) for expire events from Redis.`,
        { code: 'SESSIONKIT_KEYSPACE_EVENTS_OFF' },
      )
      return
    }
  }
}

/** CONFIG GET's value: a flat list in RESP2, a map (Map or object, by client) in RESP3. */
function configValue(reply: unknown): string {
  let value: unknown
  if (Array.isArray(reply)) value = reply[1]
  else if (reply instanceof Map) value = [...(reply as Map<unknown, unknown>).values()][0]
  else if (reply !== null && typeof reply === 'object') value = Object.values(reply)[0]
  return typeof value === 'string' ? value : ''
}
