/**
 * The few raw Redis commands the CLI sends itself (MEMORY USAGE, the SCANs that count keys for progress): each
 * with a deadline, and failures as StoreUnavailableError, like every store call.
 *
 * @module
 */
import { StoreUnavailableError } from '../core/errors.js'
import type { RedisCommander } from '../stores/redis/redis-client.js'
import { COMMAND_TIMEOUT_MS } from './connect.js'

/** Sends one command, routed by `routeKey` on a Cluster. */
export async function sendRaw(
  node: RedisCommander,
  routeKey: string | undefined,
  args: readonly string[],
): Promise<unknown> {
  const command = args[0] ?? ''
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      node.send(routeKey, args),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new StoreUnavailableError(`redis ${command} did not answer within ${COMMAND_TIMEOUT_MS} ms`))
        }, COMMAND_TIMEOUT_MS)
      }),
    ])
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error
    const message = error instanceof Error ? error.message : String(error)
    throw new StoreUnavailableError(`redis ${command} failed: ${message}`, { cause: error })
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Counts the keys matching `pattern` on every master (SCAN with MATCH, names only: no command per key), calling
 * `onProgress` after every page. SCAN may return a key twice, so the count is an estimate, never an undercount
 * of the keys that lived through the walk.
 */
export async function countKeys(
  redis: RedisCommander,
  pattern: string,
  onProgress?: (counted: number) => void,
): Promise<number> {
  let counted = 0
  for (const node of await redis.masters()) {
    let cursor = '0'
    do {
      const reply = await sendRaw(node, undefined, ['SCAN', cursor, 'MATCH', pattern, 'COUNT', '1000'])
      const [next, keys] = Array.isArray(reply) ? (reply as [unknown, unknown]) : ['0', []]
      cursor = String(next)
      counted += Array.isArray(keys) ? keys.length : 0
      onProgress?.(counted)
    } while (cursor !== '0')
  }
  return counted
}
