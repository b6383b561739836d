/**
 * Connecting the CLI to Redis: one node (`--redis URL`, else `REDIS_URL`, else `redis://127.0.0.1:6379`) or a
 * Cluster (`--cluster host:port,...`). The connection fails fast (short connect timeout, no reconnect loop) so an
 * unreachable Redis ends the process with exit code 3 in about a second, and it is always closed afterwards.
 *
 * @module
 */
import { createClient, createCluster } from '@redis/client'
import { KeyLayout, DEFAULT_PREFIX } from '../stores/redis/keys.js'
import { RedisStore } from '../stores/redis/redis-store.js'
import { CliError, EXIT, errorMessage, firstLine, usageError } from './errors.js'

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'
/** How long connecting may take before the CLI gives up (exit 3). */
export const CONNECT_TIMEOUT_MS = 2000
/** Deadline of one store call. Admin scripts over a large index may take longer than a request's. */
export const COMMAND_TIMEOUT_MS = 10_000

/** Where to connect, as given on the command line. */
export interface ConnectionOptions {
  readonly redis?: string | undefined
  readonly cluster?: string | undefined
  readonly prefix?: string | undefined
}

/** A resolved, validated connection target. */
export type Target =
  | { readonly kind: 'single'; readonly url: string; readonly display: string; readonly prefix: string }
  | {
      readonly kind: 'cluster'
      readonly urls: readonly string[]
      readonly display: string
      readonly prefix: string
    }

/** What every command runs against. */
export interface CliContext {
  readonly store: RedisStore
  /** Writes a transient progress line (only set when stderr is a terminal). */
  readonly progress?: ((line: string) => void) | undefined
}

export interface Connection {
  readonly store: RedisStore
  readonly target: Target
  /** Closes the client. Never throws. */
  close(): Promise<void>
}

/**
 * Validates the connection options without touching the network.
 *
 * @throws {CliError} exit 2 for a malformed URL, address list or prefix, or both `--redis` and `--cluster`
 */
export function resolveTarget(
  options: ConnectionOptions,
  env: Readonly<Record<string, string | undefined>>,
): Target {
  const prefix = options.prefix ?? DEFAULT_PREFIX
  try {
    new KeyLayout(prefix)
  } catch (error) {
    throw usageError(`invalid --prefix: ${errorMessage(error)}`)
  }
  if (options.redis !== undefined && options.cluster !== undefined) {
    throw usageError('use either --redis or --cluster, not both')
  }
  if (options.cluster !== undefined) {
    const addresses = options.cluster
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a !== '')
    if (addresses.length === 0) throw usageError('--cluster needs at least one host:port')
    const urls = addresses.map((address) => {
      const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(address)
      const port = Number(match?.[2])
      if (!match || port < 1 || port > 65535) {
        throw usageError(`--cluster: ${JSON.stringify(address)} is not host:port`)
      }
      return `redis://${match[1] ?? ''}:${port}`
    })
    return { kind: 'cluster', urls, display: `cluster ${addresses.join(',')}`, prefix }
  }
  const fromEnv = env.REDIS_URL !== undefined && env.REDIS_URL !== ''
  const url = options.redis ?? (fromEnv ? env.REDIS_URL : undefined) ?? DEFAULT_REDIS_URL
  const source = options.redis !== undefined ? '--redis' : fromEnv ? 'REDIS_URL' : 'the default URL'
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw usageError(`${source} is not a URL (expected redis://host:port)`)
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw usageError(`${source} must start with redis:// or rediss://, got ${parsed.protocol}//`)
  }
  return { kind: 'single', url, display: redact(parsed), prefix }
}

/** The URL without credentials, for messages. */
function redact(url: URL): string {
  const path = url.pathname === '/' ? '' : url.pathname
  return `${url.protocol}//${url.host}${path}`
}

/**
 * Connects to the target and returns a store on it.
 *
 * @throws {CliError} exit 3 when Redis cannot be reached
 */
export async function connect(target: Target): Promise<Connection> {
  // RESP2: flat array replies (HGETALL as [field, value, ...]), which is what RedisStore.inspect parses; with
  // node-redis 6's default RESP3 it receives an object and reports every session as missing.
  const socket = { connectTimeout: CONNECT_TIMEOUT_MS, reconnectStrategy: false as const }
  let lastError: unknown
  const onError = (error: unknown): void => {
    lastError = error
  }
  if (target.kind === 'single') {
    let client: ReturnType<typeof createClient>
    try {
      client = createClient({ url: target.url, socket, disableOfflineQueue: true, RESP: 2 })
    } catch (error) {
      throw usageError(`invalid Redis URL ${target.display}: ${errorMessage(error)}`)
    }
    client.on('error', onError)
    try {
      await client.connect()
    } catch (error) {
      client.destroy()
      throw unreachable(target, error ?? lastError)
    }
    return {
      store: new RedisStore({ client, prefix: target.prefix, timeoutMs: COMMAND_TIMEOUT_MS }),
      target,
      close: () =>
        closeQuietly(
          () => client.close(),
          () => client.destroy(),
        ),
    }
  }
  const cluster = createCluster({
    RESP: 2,
    rootNodes: target.urls.map((url) => ({ url })),
    defaults: { socket, disableOfflineQueue: true },
  })
  cluster.on('error', onError)
  try {
    await cluster.connect()
  } catch (error) {
    cluster.destroy()
    throw unreachable(target, lastError ?? error)
  }
  return {
    store: new RedisStore({ client: cluster, prefix: target.prefix, timeoutMs: COMMAND_TIMEOUT_MS }),
    target,
    close: () =>
      closeQuietly(
        () => cluster.close(),
        () => cluster.destroy(),
      ),
  }
}

function unreachable(target: Target, error: unknown): CliError {
  return new CliError(
    EXIT.unavailable,
    `cannot reach Redis at ${target.display}: ${firstLine(errorMessage(error))}`,
    { cause: error },
  )
}

async function closeQuietly(close: () => Promise<void>, destroy: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  let closed = false
  try {
    await Promise.race([
      close().then(() => {
        closed = true
      }),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CONNECT_TIMEOUT_MS)
      }),
    ])
  } catch {
    // Closing a broken connection may fail: destroying it below is enough.
  } finally {
    clearTimeout(timer)
  }
  if (closed) return
  try {
    destroy()
  } catch {
    // Already closed.
  }
}
