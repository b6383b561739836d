/**
 * Connecting the CLI to Redis: one node (`--redis URL`, else `REDIS_URL`, else `redis://127.0.0.1:6379`) or a
 * Cluster (`--cluster host:port,...`), with whichever Redis client the project has installed (`./redis-clients.ts`).
 * The connection fails fast so an unreachable Redis ends the process with exit code 3 in about a second, a Cluster
 * node given to `--redis` is refused with a pointer to `--cluster` (exit 2), and the client is always closed.
 *
 * @module
 */
import { KeyLayout, DEFAULT_PREFIX } from '../stores/redis/keys.js'
import { RedisStore } from '../stores/redis/redis-store.js'
import { CliError, EXIT, errorMessage, firstLine, usageError } from './errors.js'
import { CONNECT_TIMEOUT_MS, loadClient, type OpenClient } from './redis-clients.js'

export { CONNECT_TIMEOUT_MS } from './redis-clients.js'

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'
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
 * Connects to the target with the installed client and returns a store on it.
 *
 * @throws {CliError} exit 3 when Redis cannot be reached or no client is installed; exit 2 when `--redis` names a
 *   Cluster node
 */
export async function connect(
  target: Target,
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<Connection> {
  const open = await loadClient(env)
  let opened: OpenClient
  try {
    opened = await open(target.kind === 'single' ? { kind: 'single', url: target.url } : target)
  } catch (error) {
    throw unreachable(target, error)
  }
  const connection: Connection = {
    store: new RedisStore({ client: opened.client, prefix: target.prefix, timeoutMs: COMMAND_TIMEOUT_MS }),
    target,
    close: () => closeQuietly(opened),
  }
  if (target.kind === 'single' && (await isClusterNode(connection.store))) {
    await connection.close()
    const address = new URL(target.url).host
    throw usageError(`${target.display} is a Redis Cluster node: use --cluster ${address} instead of --redis`)
  }
  return connection
}

/**
 * Whether a node runs in Cluster mode. Through `--redis`, a plain client would see only that node's share of the
 * keys (stats would silently count a third of them) and get MOVED for the rest.
 */
async function isClusterNode(store: RedisStore): Promise<boolean> {
  try {
    const info = await store.redis.send(undefined, ['INFO', 'cluster'])
    return typeof info === 'string' && /^cluster_enabled:1\s*$/m.test(info)
  } catch {
    // INFO may be renamed or refused (managed Redis): the MOVED check in toCliError still catches the mistake.
    return false
  }
}

function unreachable(target: Target, error: unknown): CliError {
  return new CliError(
    EXIT.unavailable,
    `cannot reach Redis at ${target.display}: ${firstLine(errorMessage(error))}`,
    { cause: error },
  )
}

async function closeQuietly(client: OpenClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  let closed = false
  try {
    await Promise.race([
      client.close().then(() => {
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
    client.destroy()
  } catch {
    // Already closed.
  }
}
