/**
 * The near cache between two app servers: two RedisStores with their own clients (one node-redis, one ioredis)
 * and the same prefix on one private redis-server, each with `nearCache` on. What one writes, the other sees at
 * its first request after the invalidation reaches it (never later), its own writes at once; a killed, lagging
 * or restarted link is never trusted. Cluster failover and resharding are in near-cache-cluster.test.ts, random
 * interleavings in near-cache-property.test.ts.
 */
import { Redis } from 'ioredis'
import { createClient, createSentinel } from 'redis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  createSessionkit,
  InvalidOptionsError,
  RedisStore,
  StoreUnavailableError,
  type NearCacheOptions,
  type Sessionkit,
  type SessionkitOptions,
} from '../../src/index.js'
import { refFromToken } from '../../src/core/token.js'
import { openBackend, randomPrefix, type Backend, type BackendName } from '../helpers/backends.js'
import { Browser, sleep } from '../helpers/browser.js'
import { NearCacheWatch, nearCacheState, now, until } from '../helpers/near-cache.js'
import { startRedis, type RedisProcess } from '../helpers/redis-server.js'

const NEAR = { maxEntries: 1000 }
let userSeq = 0
const newUser = (): string => `nc-${process.pid}-${++userSeq}`

describe.each([
  ['node-redis single', 'ioredis single'],
  ['ioredis single', 'node-redis single'],
] as const)('near cache: B on %s, A on %s', (kindB: BackendName, kindA: BackendName) => {
  let server: RedisProcess
  let control: Redis
  let prefix: string
  let a: Backend
  let b: Backend
  let kitA: Sessionkit
  let kitB: Sessionkit
  let watchB: NearCacheWatch
  const extra: Backend[] = []
  const watches: NearCacheWatch[] = []

  const kit = (backend: Backend, options: Omit<SessionkitOptions, 'store'> = {}): Sessionkit =>
    createSessionkit({ store: backend.store, cookie: { secure: false }, deviceParser: false, ...options })

  /** A store on the shared prefix, with a watch on its near cache from before its first link. */
  async function open(
    kind: BackendName,
    near: NearCacheOptions = NEAR,
    timeoutMs = 5000,
  ): Promise<Backend & { watch: NearCacheWatch }> {
    const backend = await openBackend(kind, {
      url: server.url,
      timeoutMs,
      store: { prefix, nearCache: near },
    })
    const watch = new NearCacheWatch(backend.redis!)
    extra.push(backend)
    watches.push(watch)
    await nearCacheState(backend.redis!, 'up')
    return { ...backend, watch }
  }

  beforeAll(async () => {
    server = await startRedis()
    control = new Redis(server.url)
    control.on('error', () => undefined)
    prefix = randomPrefix()
    a = await open(kindA)
    const opened = await open(kindB)
    b = opened
    watchB = opened.watch
    kitA = kit(a)
    kitB = kit(b)
  })
  afterAll(async () => {
    for (const watch of watches) watch.dispose()
    for (const backend of extra) await backend.close()
    control.disconnect()
    await server.stop()
  })

  const keyOf = (cookie: string | undefined): string => b.redis!.keys.session(refFromToken(cookie!))

  async function signedIn(k: Sessionkit, user = newUser()): Promise<Browser> {
    const browser = new Browser(k)
    await browser.request((s) => {
      s.set('v', 1)
      return s.signIn(user)
    })
    return browser
  }

  /** One request on `k` with `cookie`: the user and the value of `v` it sees (`null`: no session). */
  async function read(
    k: Sessionkit,
    cookie: string | undefined,
  ): Promise<{ user: string | undefined; v: unknown } | null> {
    const req = await new Browser(k, { cookie }).open()
    return req.session.isNew ? null : { user: req.session.userId, v: req.session.get('v') }
  }

  /** Runs `fn` until it does not fail with StoreUnavailableError (the clients reconnecting after a restart). */
  async function whenAvailable<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn()
      } catch (error) {
        if (!(error instanceof StoreUnavailableError) || attempt > 400) throw error
        await sleep(25)
      }
    }
  }

  /** Reads on `k` until a read is served from memory (the first load fills the cache in the background). */
  async function warm(k: Sessionkit, store: RedisStore, cookie: string | undefined): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const before = store.nearCacheStats()!.hits
      expect(await read(k, cookie)).not.toBeNull()
      if (store.nearCacheStats()!.hits > before) return
      await sleep(2)
    }
    throw new Error('the session was never served from memory')
  }

  describe('reads', () => {
    const seen: { args: string[] }[] = []
    let monitor: Redis
    let markers = 0

    beforeAll(async () => {
      const source = new Redis(server.url)
      source.on('error', () => undefined)
      monitor = await source.monitor()
      monitor.on('error', () => undefined)
      source.disconnect()
      monitor.on('monitor', (_time: string, args: string[]) => {
        seen.push({ args })
      })
    })
    afterAll(() => {
      monitor.disconnect()
    })

    /** The commands (outside scripts, but the links' PINGs) that `fn` caused. */
    async function commandsOf(fn: () => Promise<unknown>): Promise<string[]> {
      const id = ++markers
      await control.echo(`start-${id}`)
      await fn()
      await control.echo(`end-${id}`)
      await until(() => seen.some((c) => c.args[1] === `end-${id}`), 'the end marker')
      const start = seen.findIndex((c) => c.args[1] === `start-${id}`)
      const end = seen.findIndex((c) => c.args[1] === `end-${id}`)
      return seen
        .slice(start + 1, end)
        .map((c) => c.args[0]!.toUpperCase())
        .filter((name) => name !== 'PING')
    }

    it('serves a loaded session from memory with no Redis call until its touch is due; then one load touches it and refills the cache', async () => {
      const touchy = kit(b, { touchIntervalMs: 300 })
      const browser = await signedIn(kitA)
      await warm(touchy, b.redis!, browser.cookie)
      const hits = b.redis!.nearCacheStats()!.hits
      expect(
        await commandsOf(async () => {
          for (let i = 0; i < 20; i++) expect(await read(touchy, browser.cookie)).toMatchObject({ v: 1 })
        }),
      ).toEqual([])
      expect(b.redis!.nearCacheStats()!.hits).toBe(hits + 20)
      const ref = refFromToken(browser.cookie!)
      const seenBefore = Number(new Map((await b.store.inspect(ref))!.fields).get('_ls'))
      await sleep(350) // past the touch interval
      expect(await commandsOf(() => read(touchy, browser.cookie))).toContain('EVALSHA')
      const seenAfter = Number(new Map((await b.store.inspect(ref))!.fields).get('_ls'))
      expect(seenAfter).toBeGreaterThan(seenBefore)
      await warm(touchy, b.redis!, browser.cookie)
    })

    it('a revocation by A is refused by B at its first request after the invalidation reaches B', async () => {
      for (let round = 0; round < 5; round++) {
        const user = newUser()
        const browser = await signedIn(kitA, user)
        await warm(kitB, b.redis!, browser.cookie)
        const before = now()
        expect(await kitA.revokeAllSessions(user)).toBe(1)
        await watchB.invalidationOf(keyOf(browser.cookie), before)
        expect(await read(kitB, browser.cookie)).toBeNull()
      }
    })

    it('a save by A is read by B at its first request after the invalidation reaches B', async () => {
      const browser = await signedIn(kitA)
      for (let v = 2; v < 7; v++) {
        await warm(kitB, b.redis!, browser.cookie)
        const before = now()
        await browser.request((s) => {
          s.set('v', v)
        })
        await watchB.invalidationOf(keyOf(browser.cookie), before)
        expect(await read(kitB, browser.cookie)).toMatchObject({ v })
      }
    })

    it('a sign-out on A is refused by B at its first request after the invalidation reaches B', async () => {
      const browser = await signedIn(kitA)
      const cookie = browser.cookie
      await warm(kitB, b.redis!, cookie)
      const before = now()
      await browser.request((s) => s.signOut())
      await watchB.invalidationOf(keyOf(cookie), before)
      expect(await read(kitB, cookie)).toBeNull()
    })

    it('an eviction by a sign-in on A (per-user cap) is refused by B after the invalidation reaches B', async () => {
      const capped = kit(a, { maxSessionsPerUser: 1 })
      const user = newUser()
      const first = await signedIn(capped, user)
      await warm(kitB, b.redis!, first.cookie)
      const before = now()
      const second = await signedIn(capped, user)
      await watchB.invalidationOf(keyOf(first.cookie), before)
      expect(await read(kitB, first.cookie)).toBeNull()
      expect(await read(kitB, second.cookie)).toMatchObject({ user })
    })

    it('its own writes are read by its very next request: save, revocation, sign-out', async () => {
      const user = newUser()
      const browser = await signedIn(kitB, user)
      const other = await signedIn(kitB, user)
      for (let v = 10; v < 20; v++) {
        await warm(kitB, b.redis!, browser.cookie)
        await browser.request((s) => {
          s.set('v', v)
        })
        expect(await read(kitB, browser.cookie)).toMatchObject({ v })
      }
      await warm(kitB, b.redis!, other.cookie)
      expect(await kitB.revokeSession(user, refFromToken(other.cookie!).id)).toBe(true)
      expect(await read(kitB, other.cookie)).toBeNull()
      const cookie = browser.cookie
      await warm(kitB, b.redis!, cookie)
      await browser.request((s) => s.signOut())
      expect(await read(kitB, cookie)).toBeNull()
    })

    it('an anonymous session is cached and invalidated like a signed-in one', async () => {
      const anon = new Browser(kitA)
      await anon.request((s) => {
        s.set('v', 'a')
      })
      await warm(kitB, b.redis!, anon.cookie)
      const before = now()
      await anon.request((s) => {
        s.set('v', 'b')
      })
      await watchB.invalidationOf(keyOf(anon.cookie), before)
      expect(await read(kitB, anon.cookie)).toEqual({ user: undefined, v: 'b' })
    })

    it('a deleted user index drops the cached sessions that read it (a signed-in session must be in it)', async () => {
      const user = newUser()
      const browser = await signedIn(kitA, user)
      await warm(kitB, b.redis!, browser.cookie)
      const index = b.redis!.keys.userIndex({
        id: user,
        encoded: user,
        tag: refFromToken(browser.cookie!).tag,
      })
      const before = now()
      expect(await control.del(index)).toBe(1)
      await watchB.invalidationOf(index, before)
      expect(await read(kitB, browser.cookie)).toBeNull()
    })
  })

  describe('links', () => {
    it('the invalidation connection killed: B flushes, bypasses the cache until a new link is up, and serves nothing stale', async () => {
      const browser = await signedIn(kitA)
      await warm(kitB, b.redis!, browser.cookie)
      const link = watchB.lastLinkUp()!
      const mark = watchB.events.length
      await control.call('CLIENT', 'KILL', 'ID', String(link.invalidationClientId))
      await watchB.next('flushed', mark)
      const hits = b.redis!.nearCacheStats()!.hits
      await browser.request((s) => {
        s.set('v', 2)
      })
      expect(await read(kitB, browser.cookie)).toMatchObject({ v: 2 })
      const up = await watchB.next('link-up', mark)
      expect(up.invalidationClientId).not.toBe(link.invalidationClientId)
      expect(b.redis!.nearCacheStats()!.hits).toBe(hits)
      await warm(kitB, b.redis!, browser.cookie)
      const before = now()
      await browser.request((s) => {
        s.set('v', 3)
      })
      await watchB.invalidationOf(keyOf(browser.cookie), before)
      expect(await read(kitB, browser.cookie)).toMatchObject({ v: 3 })
    })

    it('the tracked-read connection killed: B flushes and rebuilds the link; reads stay correct meanwhile', async () => {
      const browser = await signedIn(kitA)
      await warm(kitB, b.redis!, browser.cookie)
      const link = watchB.lastLinkUp()!
      const mark = watchB.events.length
      await control.call('CLIENT', 'KILL', 'ID', String(link.dataClientId))
      await watchB.next('flushed', mark)
      await browser.request((s) => {
        s.set('v', 4)
      })
      expect(await read(kitB, browser.cookie)).toMatchObject({ v: 4 })
      const up = await watchB.next('link-up', mark)
      expect(up.dataClientId).not.toBe(link.dataClientId)
      await warm(kitB, b.redis!, browser.cookie)
    })

    it('FLUSHALL invalidates everything', async () => {
      const browser = await signedIn(kitA)
      await warm(kitB, b.redis!, browser.cookie)
      const mark = watchB.events.length
      await control.flushall()
      await watchB.next('flushed', mark)
      expect(b.redis!.nearCacheStats()!.entries).toBe(0)
      expect(await read(kitB, browser.cookie)).toBeNull()
    })

    it('a link that lags past maxLagMs is not trusted: a read fails fast instead of serving the cached session', async () => {
      const c = await open(kindB, { maxEntries: 10, maxLagMs: 100 }, 300)
      const kitC = kit(c)
      const browser = await signedIn(kitA)
      await warm(kitC, c.redis!, browser.cookie)
      const mark = c.watch.events.length
      process.kill(server.child.pid!, 'SIGSTOP')
      try {
        await c.watch.next('flushed', mark, (e) => e.reason.includes('lagging'))
        await expect(read(kitC, browser.cookie)).rejects.toThrow(StoreUnavailableError)
      } finally {
        process.kill(server.child.pid!, 'SIGCONT')
      }
      await warm(kitC, c.redis!, browser.cookie)
    })

    it('keeps at most maxEntries sessions, dropping the least recently used', async () => {
      const c = await open(kindB, { maxEntries: 2 })
      const kitC = kit(c)
      const [s1, s2, s3] = [await signedIn(kitA), await signedIn(kitA), await signedIn(kitA)]
      await warm(kitC, c.redis!, s1.cookie)
      await warm(kitC, c.redis!, s2.cookie)
      await warm(kitC, c.redis!, s1.cookie) // s1 is now the most recently used
      await warm(kitC, c.redis!, s3.cookie)
      expect(c.redis!.nearCacheStats()!.entries).toBe(2)
      const hits = c.redis!.nearCacheStats()!.hits
      await read(kitC, s1.cookie)
      expect(c.redis!.nearCacheStats()!.hits).toBe(hits + 1)
      const misses = c.redis!.nearCacheStats()!.misses
      await read(kitC, s2.cookie)
      expect(c.redis!.nearCacheStats()!.misses).toBe(misses + 1)
    })

    it('close() ends its connections; the store still answers through the client, uncached', async () => {
      const c = await open(kindB)
      const kitC = kit(c)
      const browser = await signedIn(kitA)
      await warm(kitC, c.redis!, browser.cookie)
      const link = c.watch.lastLinkUp()!
      const ids = async (): Promise<string[]> =>
        String(await control.call('CLIENT', 'LIST'))
          .split('\n')
          .map((line) => /\bid=(\d+)/.exec(line)?.[1] ?? '')
      const own = [String(link.invalidationClientId), String(link.dataClientId)]
      expect(await ids()).toEqual(expect.arrayContaining(own))
      await c.redis!.close()
      expect(c.redis!.nearCacheStats()!.state).toBe('closed')
      for (let i = 0; i < 200 && (await ids()).some((id) => own.includes(id)); i++) await sleep(10)
      expect((await ids()).filter((id) => own.includes(id))).toEqual([])
      const bypassed = c.redis!.nearCacheStats()!.bypassed
      expect(await read(kitC, browser.cookie)).toMatchObject({ v: 1 })
      expect(c.redis!.nearCacheStats()!.bypassed).toBe(bypassed + 1)
    })

    // Last: it restarts the server.
    it('a Redis restart: B flushes, relinks, and never serves the session the restart lost', async () => {
      const browser = await signedIn(kitA)
      await warm(kitB, b.redis!, browser.cookie)
      const mark = watchB.events.length
      const port = server.port
      await server.stop()
      await watchB.next('flushed', mark)
      server = await startRedis([], port)
      control.disconnect()
      control = new Redis(server.url)
      control.on('error', () => undefined)
      await watchB.next('link-up', mark)
      // The clients reconnect on their own; until they have, a read is a 503, never the cached session.
      expect(await whenAvailable(() => read(kitB, browser.cookie))).toBeNull()
      const again = await whenAvailable(() => signedIn(kitA))
      await warm(kitB, b.redis!, again.cookie)
    })
  })
})

describe('near cache options', () => {
  it('refuses unknown names, bad sizes and clients it cannot duplicate; false is off', async () => {
    const client = await createClient({ url: inject('redisUrl') }).connect()
    try {
      expect(() => new RedisStore({ client, nearCache: { maxEntires: 10 } as never })).toThrow(
        /unknown option "maxEntires" \(did you mean "maxEntries"\?\)/,
      )
      expect(() => new RedisStore({ client, nearCache: { maxEntries: 0 } })).toThrow(InvalidOptionsError)
      expect(() => new RedisStore({ client, nearCache: { maxEntries: 10, maxLagMs: 5 } })).toThrow(/maxLagMs/)
      expect(() => new RedisStore({ client, nearCache: 'on' as never })).toThrow(InvalidOptionsError)
      const sentinel = createSentinel({
        name: 'mymaster',
        sentinelRootNodes: [{ host: '127.0.0.1', port: 1 }],
      })
      expect(() => new RedisStore({ client: sentinel, nearCache: { maxEntries: 10 } })).toThrow(
        /node-redis Sentinel/,
      )
      expect(new RedisStore({ client, nearCache: false }).nearCacheStats()).toBeUndefined()
      expect(new RedisStore({ client }).nearCacheStats()).toBeUndefined()
    } finally {
      client.destroy()
    }
  })
})
