/**
 * The number of live sessions, for the `sessionkit.sessions.active` gauge, at a cost that does not grow with the
 * keyspace: per master, `DBSIZE`; a keyspace of up to {@link EXACT_LIMIT} keys is walked with SCAN (exact),
 * a larger one is estimated from {@link SAMPLES} `RANDOMKEY`s (the share of session keys among them × DBSIZE,
 * within a few percent). Other applications' keys in the same database only make the estimate coarser.
 *
 * @module
 */
import type { KeyLayout } from './keys.js'
import type { RedisCommander } from './redis-client.js'

/** Keys per master up to which sessions are counted exactly. */
export const EXACT_LIMIT = 2000
/** Random keys sampled per master above it. */
export const SAMPLES = 200

type Watch = <T>(work: Promise<T>, operation: string) => Promise<T>

export async function countSessionKeys(
  commander: RedisCommander,
  keys: KeyLayout,
  watch: Watch,
): Promise<number> {
  let total = 0
  for (const node of await commander.masters()) {
    const size = Number(await watch(node.send(undefined, ['DBSIZE']), 'DBSIZE'))
    if (size === 0) continue
    total += size <= EXACT_LIMIT ? await exact(node, keys, watch) : await estimate(node, keys, size, watch)
  }
  return total
}

async function exact(node: RedisCommander, keys: KeyLayout, watch: Watch): Promise<number> {
  let count = 0
  let cursor = '0'
  do {
    const reply = (await watch(
      node.send(undefined, ['SCAN', cursor, 'MATCH', keys.sessionPattern, 'COUNT', '1000']),
      'SCAN',
    )) as [unknown, unknown[]]
    cursor = String(reply[0])
    for (const key of reply[1]) if (keys.parseSessionKey(String(key))) count++
  } while (cursor !== '0')
  return count
}

async function estimate(node: RedisCommander, keys: KeyLayout, size: number, watch: Watch): Promise<number> {
  // Sent together: the client pipelines them, so this is about one round trip.
  const sampled = await watch(
    Promise.all(Array.from({ length: SAMPLES }, () => node.send(undefined, ['RANDOMKEY']))),
    'RANDOMKEY',
  )
  const sessions = sampled.filter((key) => typeof key === 'string' && keys.parseSessionKey(key)).length
  return Math.round((sessions / SAMPLES) * size)
}
