/**
 * The five store backends every store test runs against: the memory store, and the Redis store over node-redis
 * and ioredis, each on a single node and on a 3-master Cluster. Every backend gets its own random key prefix, so
 * tests never see (or touch) keys they did not create.
 */
import { Cluster, Redis } from 'ioredis'
import { createClient, createCluster } from 'redis'
import { inject } from 'vitest'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { RedisStore, type RedisStoreOptions } from '../../src/stores/redis/redis-store.js'
import type { AdminStore } from '../../src/admin/admin-store.js'
import type { RedisClientLike } from '../../src/stores/redis/redis-client.js'
import type { SessionStore } from '../../src/core/store.js'
import { keysWithTtl } from './keys-with-ttl.js'

export type BackendName =
  'memory' | 'node-redis single' | 'ioredis single' | 'node-redis cluster' | 'ioredis cluster'

export interface Backend {
  readonly name: BackendName
  readonly store: SessionStore & AdminStore
  /** The Redis store, for Redis backends (raw access through `redis.send`). */
  readonly redis: RedisStore | undefined
  /** The Redis client itself (node-redis or ioredis, single or Cluster); `undefined` for memory. */
  readonly client: RedisClientLike | undefined
  readonly prefix: string
  /** Every key under this backend's prefix with its PTTL (Redis backends; `[]` for memory). */
  keys(): Promise<{ key: string; pttl: number }[]>
  /** Sends a raw command, routed by `key` on a Cluster. Redis backends only. */
  send(key: string, args: string[]): Promise<unknown>
  close(): Promise<void>
}

export const ALL_BACKENDS: readonly BackendName[] = [
  'memory',
  'node-redis single',
  'ioredis single',
  'node-redis cluster',
  'ioredis cluster',
]

/** Memory, one single-node client and one Cluster client: for the slower suites. */
export const CORE_BACKENDS: readonly BackendName[] = ['memory', 'node-redis single', 'ioredis cluster']

export function randomPrefix(): string {
  return `t${Math.random().toString(36).slice(2, 10)}:`
}

function clusterNodes(
  addresses: readonly string[] = inject('clusterAddresses'),
): { host: string; port: number }[] {
  return addresses.map((address) => {
    const [host, port] = address.split(':')
    return { host: host!, port: Number(port) }
  })
}

/**
 * Opens a backend. `url` overrides the single-node server and `cluster` the Cluster's seed nodes (`host:port`),
 * for tests that start their own.
 */
export async function openBackend(
  name: BackendName,
  options: {
    url?: string
    cluster?: readonly string[]
    timeoutMs?: number
    store?: Omit<RedisStoreOptions, 'client'>
  } = {},
): Promise<Backend> {
  const prefix = randomPrefix()
  if (name === 'memory') {
    const store = new MemoryStore()
    return {
      name,
      store,
      redis: undefined,
      client: undefined,
      prefix,
      keys: () => Promise.resolve([]),
      send: () => Promise.reject(new Error('the memory backend has no Redis')),
      close: () => {
        store.close()
        return Promise.resolve()
      },
    }
  }
  const url = options.url ?? inject('redisUrl')
  let client: ConstructorParameters<typeof RedisStore>[0]['client']
  let close: () => Promise<void>
  switch (name) {
    case 'node-redis single': {
      const c = createClient({ url })
      c.on('error', () => undefined)
      await c.connect()
      client = c
      close = async () => {
        c.destroy()
        await Promise.resolve()
      }
      break
    }
    case 'ioredis single': {
      const c = new Redis(url, { lazyConnect: true })
      c.on('error', () => undefined)
      await c.connect()
      client = c
      close = async () => {
        c.disconnect()
        await Promise.resolve()
      }
      break
    }
    case 'node-redis cluster': {
      const c = createCluster({
        rootNodes: clusterNodes(options.cluster).map((n) => ({ url: `redis://${n.host}:${n.port}` })),
      })
      c.on('error', () => undefined)
      await c.connect()
      client = c
      close = async () => {
        c.destroy()
        await Promise.resolve()
      }
      break
    }
    case 'ioredis cluster': {
      const c = new Cluster(clusterNodes(options.cluster), { lazyConnect: true })
      c.on('error', () => undefined)
      await c.connect()
      client = c
      close = async () => {
        c.disconnect()
        await Promise.resolve()
      }
      break
    }
  }
  const store = new RedisStore({ client, prefix, timeoutMs: options.timeoutMs ?? 5000, ...options.store })
  return {
    name,
    store,
    redis: store,
    client,
    prefix,
    keys: () => keysWithTtl(store, prefix),
    send: (key, args) => store.redis.send(key, args),
    async close() {
      await store.close()
      await close()
    },
  }
}

/** Wraps a store so that every call is recorded (and may be intercepted). */
export function instrumentStore(
  store: SessionStore,
  intercept?: (method: keyof SessionStore, args: unknown[], call: () => Promise<unknown>) => Promise<unknown>,
): { store: SessionStore; calls: string[] } {
  const calls: string[] = []
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver)
      if (typeof value !== 'function') return value
      return (...args: unknown[]) => {
        calls.push(String(prop))
        const call = () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
        return intercept ? intercept(prop as keyof SessionStore, args, call) : call()
      }
    },
  })
  return { store: proxy, calls }
}
