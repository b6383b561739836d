/**
 * Every key under a prefix on every master of a RedisStore's client, with its PTTL (-1: no TTL). For the tests
 * that check "every Redis write sets a TTL"; it imports nothing from vitest, so the fault suite's app process can
 * use it too.
 */
import type { RedisStore } from '../../src/stores/redis/redis-store.js'

export async function keysWithTtl(
  store: RedisStore,
  prefix: string,
): Promise<{ key: string; pttl: number }[]> {
  const out: { key: string; pttl: number }[] = []
  for (const node of await store.redis.masters()) {
    let cursor = '0'
    do {
      const reply = (await node.send(undefined, [
        'SCAN',
        cursor,
        'MATCH',
        `${prefix}*`,
        'COUNT',
        '1000',
      ])) as [unknown, unknown[]]
      cursor = String(reply[0])
      for (const key of reply[1].map(String)) {
        out.push({ key, pttl: Number(await node.send(undefined, ['PTTL', key])) })
      }
    } while (cursor !== '0')
  }
  return out
}
