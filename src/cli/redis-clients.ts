/**
 * The CLI's Redis client: whichever one the project has installed — node-redis (`@redis/client`, or `redis`
 * which bundles it) or ioredis — so an app that uses ioredis is not made to install a second client for the CLI.
 * `SESSIONKIT_REDIS_CLIENT=node-redis|ioredis` picks one when both are there (node-redis is tried first).
 *
 * Both are opened to fail fast: a short connect timeout, no reconnect loop, no offline queue, so an unreachable
 * Redis ends the process with exit code 3 in about a second.
 *
 * @module
 */
import type { RedisClientLike } from '../stores/redis/redis-client.js'
import { CliError, EXIT, errorMessage, usageError } from './errors.js'

export type ClientLibrary = 'node-redis' | 'ioredis'

/** What to connect to: one node, or the seed nodes of a Cluster. */
export type ClientTarget =
  | { readonly kind: 'single'; readonly url: string }
  | { readonly kind: 'cluster'; readonly urls: readonly string[] }

/** A connected client, and how to close it. */
export interface OpenClient {
  readonly library: ClientLibrary
  readonly client: RedisClientLike
  /** Closes gracefully. */
  close(): Promise<void>
  /** Drops the connection at once. */
  destroy(): void
}

/** How long connecting may take before the CLI gives up (exit 3). */
export const CONNECT_TIMEOUT_MS = 2000

/** Opens a client on a target. Rejects with the client's own error when Redis cannot be reached. */
export type ClientOpener = (target: ClientTarget) => Promise<OpenClient>

interface Candidate {
  readonly library: ClientLibrary
  readonly name: string
  load(): Promise<ClientOpener>
}

const CANDIDATES: readonly Candidate[] = [
  {
    library: 'node-redis',
    name: '@redis/client',
    load: async () => nodeRedisOpener(await import('@redis/client')),
  },
  { library: 'node-redis', name: 'redis', load: async () => nodeRedisOpener(await import('redis')) },
  { library: 'ioredis', name: 'ioredis', load: async () => ioredisOpener(await import('ioredis')) },
]

/** The library to use: the first one installed (of the one `SESSIONKIT_REDIS_CLIENT` names, if set). */
export async function loadClient(
  env: Readonly<Record<string, string | undefined>>,
  candidates: readonly Candidate[] = CANDIDATES,
): Promise<ClientOpener> {
  const wanted = env.SESSIONKIT_REDIS_CLIENT
  if (wanted !== undefined && wanted !== '' && wanted !== 'node-redis' && wanted !== 'ioredis') {
    throw usageError(`SESSIONKIT_REDIS_CLIENT must be node-redis or ioredis, got ${JSON.stringify(wanted)}`)
  }
  const tried: string[] = []
  for (const candidate of candidates) {
    if (wanted && candidate.library !== wanted) continue
    tried.push(candidate.name)
    try {
      return await candidate.load()
    } catch (error) {
      // Not installed: try the next one. Installed but broken: say so.
      if (!isMissingModule(error, candidate.name)) {
        throw new CliError(EXIT.unavailable, `cannot load ${candidate.name}: ${errorMessage(error)}`, {
          cause: error,
        })
      }
    }
  }
  throw new CliError(
    EXIT.unavailable,
    `no Redis client found (looked for ${tried.join(', ')}): install one in your project, e.g. npm install @redis/client`,
  )
}

function isMissingModule(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    errorMessage(error).includes(`'${name}'`)
  )
}

/** The parts of a node-redis client (single or Cluster) the CLI drives. */
interface NodeRedisConnection {
  on(event: 'error', listener: (error: unknown) => void): unknown
  connect(): Promise<unknown>
  close(): Promise<void>
  destroy(): void
}

interface NodeRedisModule {
  readonly createClient: (options: object) => NodeRedisConnection
  readonly createCluster: (options: object) => NodeRedisConnection
}

function nodeRedisOpener(module: object): ClientOpener {
  const { createClient, createCluster } = module as NodeRedisModule
  const socket = { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: false as const }
  return async (target) => {
    // RESP2: flat array replies, the same shapes with every client version the CLI may meet.
    const client =
      target.kind === 'single'
        ? createClient({ url: target.url, socket, disableOfflineQueue: true, RESP: 2 })
        : createCluster({
            RESP: 2,
            rootNodes: target.urls.map((url) => ({ url })),
            defaults: { socket, disableOfflineQueue: true },
          })
    const reported: unknown[] = []
    client.on('error', (error) => reported.push(error))
    try {
      await client.connect()
    } catch (error) {
      client.destroy()
      throw mostTelling(reported, error)
    }
    return {
      library: 'node-redis',
      client: client as unknown as RedisClientLike,
      close: () => client.close(),
      destroy: () => {
        client.destroy()
      },
    }
  }
}

/** The parts of an ioredis client (single or Cluster) the CLI drives. */
interface IoRedisConnection {
  on(event: 'error', listener: (error: unknown) => void): unknown
  connect(): Promise<unknown>
  quit(): Promise<unknown>
  disconnect(): void
}

interface IoRedisModule {
  Redis: new (url: string, options: object) => IoRedisConnection
  Cluster: new (nodes: readonly { host: string; port: number }[], options: object) => IoRedisConnection
}

function ioredisOpener(module: object): ClientOpener {
  const { Redis, Cluster } = module as IoRedisModule
  const failFast = {
    connectTimeout: CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    // After a failed connect, ioredis waits this long for the dead socket to close before destroying it, which
    // kept the process alive for 2 s (its default) after an "unreachable" error.
    disconnectTimeout: 100,
    // RESP2: the same reply shapes as the node-redis client above.
    protocol: 2,
  }
  return async (target) => {
    const client =
      target.kind === 'single'
        ? new Redis(target.url, {
            ...failFast,
            lazyConnect: true,
            enableOfflineQueue: false,
            retryStrategy: noRetry,
          })
        : new Cluster(target.urls.map(hostAndPort), {
            lazyConnect: true,
            enableOfflineQueue: false,
            clusterRetryStrategy: noRetry,
            redisOptions: failFast,
          })
    const reported: unknown[] = []
    client.on('error', (error) => reported.push(error))
    try {
      await client.connect()
    } catch (error) {
      client.disconnect()
      throw mostTelling(reported, error)
    }
    return {
      library: 'ioredis',
      client: client as unknown as RedisClientLike,
      close: async () => {
        await client.quit()
      },
      destroy: () => {
        client.disconnect()
      },
    }
  }
}

/**
 * The error that says why connecting failed: one a socket reported (`ECONNREFUSED`, `ETIMEDOUT`...) rather than
 * the client's summary ("None of startup nodes is available", "Connection is closed.").
 */
function mostTelling(reported: readonly unknown[], rejection: unknown): unknown {
  const withCode = [rejection, ...reported].find(
    (error) => typeof (error as { code?: unknown } | null)?.code === 'string',
  )
  return withCode ?? rejection ?? reported.at(-1)
}

function noRetry(): null {
  return null
}

function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url)
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port) }
}
