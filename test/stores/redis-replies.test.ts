/**
 * Replies differ by client and protocol (node-redis 6 speaks RESP3 by default and returns a hash as an object;
 * ioredis and RESP2 return flat arrays). Every RedisStore operation must read them all the same.
 */
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createSessionkit, RedisStore, type RedisClientLike } from 'sessionkit'
import { refFromToken } from '../../src/core/token.js'

const clients: {
  name: string
  open: () => Promise<{ client: RedisClientLike; close: () => Promise<unknown> }>
}[] = [
  {
    name: 'node-redis, default protocol',
    open: async () => {
      const client = await createClient({ url: inject('redisUrl') }).connect()
      return { client, close: () => client.quit() }
    },
  },
  {
    name: 'node-redis, RESP2',
    open: async () => {
      const client = await createClient({ url: inject('redisUrl'), RESP: 2 }).connect()
      return { client, close: () => client.quit() }
    },
  },
  {
    name: 'ioredis',
    open: () => {
      const client = new Redis(inject('redisUrl'))
      return Promise.resolve({ client, close: () => client.quit() })
    },
  },
]

describe.each(clients)('$name', ({ open }) => {
  let handle: Awaited<ReturnType<(typeof clients)[number]['open']>>
  let store: RedisStore
  beforeAll(async () => {
    handle = await open()
    store = new RedisStore({ client: handle.client, prefix: `rr${Math.random().toString(36).slice(2, 8)}:` })
  })
  afterAll(async () => {
    await handle.close()
  })

  it('inspects a session: every field, and a positive TTL', async () => {
    const kit = createSessionkit({ store, cookie: { secure: false }, deviceParser: false })
    let token = ''
    const session = await kit.openSession({
      cookieHeader: undefined,
      userAgent: undefined,
      ipAddress: '192.0.2.1',
      headersSent: () => false,
      setCookie(value) {
        if (value !== undefined) token = value.split(';')[0]!.slice('sid='.length)
      },
    })
    session.set('theme', 'dark')
    await session.signIn('alice')
    const inspected = await store.inspect(refFromToken(token))
    expect(inspected).toBeDefined()
    expect(new Map(inspected!.fields).get('d:theme')).toBe('"dark"')
    expect(new Map(inspected!.fields).get('_u')).toBe('alice')
    expect(inspected!.ttlMs).toBeGreaterThan(0)
    const listed = await kit.listSessions('alice')
    expect(listed.map((s) => s.ipAddress)).toEqual(['192.0.2.1'])
  })
})
