/**
 * Micro-figures and the scale test, run in-process against the benchmark's Redis (started by run.ts, which
 * passes its URL). Prints one line `RESULT <json>` at the end.
 *
 * Runs sessionkit's own source (tsx, `sessionkit-source` condition) so the seeder can use the same key and
 * field code as the store. Pinned to the server core by run.ts; Redis stays on the other core.
 */
import { performance } from 'node:perf_hooks'
import { RedisStore as ConnectRedisStore } from 'connect-redis'
import { createClient } from 'redis'
import { createDeviceParser, createSessionkit, RedisStore, type HttpContext } from 'sessionkit'
import { refFromToken } from '../src/core/token.js'
import { toUserRef } from '../src/core/user-id.js'
import { KeyLayout } from '../src/stores/redis/keys.js'
import { commandDelta, commandStats, command, memoryUsage, usedMemory } from './lib/redis.js'
import { seedSessions, type SeededSession } from './lib/seed.js'
import { mean, percentile } from './lib/stats.js'
import { APP_DATA, USER_AGENT } from './servers/common.js'

export interface MicroOptions {
  readonly redisUrl: string
  readonly port: number
  readonly quick: boolean
  readonly scaleSessions: number
  readonly scaleUsers: number
}

export interface Timing {
  readonly n: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly roundTrips: number
}

export interface MicroResult {
  readonly userAgent: {
    firstCallMs: number
    warmMissP50Us: number
    warmMissP99Us: number
    cachedP50Us: number
    distinct: number
  }
  readonly list: { sessions: number; timing: Timing; returned: number }[]
  readonly memory: {
    sessionkit1: MemoryFigure
    sessionkit10: MemoryFigure
    connectRedis: MemoryFigure
    layoutMatches: boolean
    sessionkitFields: string[]
  }
  readonly scale: {
    small: ScaleFigure
    large: ScaleFigure
    seedSeconds: number
  }
  /** The near cache's process memory: V8 heap delta (between two full collections) ÷ cached sessions. */
  readonly nearCache: { entries: number; heapBytesPerEntry: number }
}

export interface MemoryFigure {
  readonly sessions: number
  /** used_memory delta ÷ sessions. */
  readonly usedPerSession: number
  /** Mean MEMORY USAGE of one session's key(s). */
  readonly dataUsage: number
  /** Mean MEMORY USAGE of the user index, divided by the sessions it holds. */
  readonly indexUsagePerSession: number
}

export interface ScaleFigure {
  readonly sessions: number
  readonly users: number
  readonly dbsize: number
  readonly usedMemoryBytes: number
  readonly usedPerSession: number
  readonly usagePerSession: number
  readonly loadTouch: Timing
  readonly load: Timing
  /** Each sampled user's first listing (their keys not in any cache yet). */
  readonly listFirst: Timing
  /** The same users listed again. */
  readonly list: Timing
}

const options = JSON.parse(process.argv[2] ?? '{}') as MicroOptions
const IP = '203.0.113.7'

// --- User-Agent parsing: must run first, before anything loads the detector. ---------------------------------
const userAgent = await (async () => {
  const parse = createDeviceParser()
  let t = performance.now()
  const device = await parse(USER_AGENT)
  const firstCallMs = performance.now() - t
  const agents: string[] = []
  for (let i = 0; agents.length < (options.quick ? 100 : 400); i++) {
    const v = 100 + (i % 40)
    const build = 4000 + i
    agents.push(
      i % 4 === 0
        ? `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.${build}.0 Safari/537.36`
        : i % 4 === 1
          ? `Mozilla/5.0 (iPhone; CPU iPhone OS 17_${i % 7} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.${i % 7} Mobile/15E${build} Safari/604.1`
          : i % 4 === 2
            ? `Mozilla/5.0 (Linux; Android 14; SM-S91${i % 10}B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${v}.0.${build}.0 Mobile Safari/537.36`
            : `Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:${v}.0) Gecko/20100101 Firefox/${v}.${i}`,
    )
  }
  const miss: number[] = []
  for (const ua of agents) {
    t = performance.now()
    await parse(ua)
    miss.push((performance.now() - t) * 1000)
  }
  const hit: number[] = []
  for (let i = 0; i < 2000; i++) {
    t = performance.now()
    await parse(USER_AGENT)
    hit.push((performance.now() - t) * 1000)
  }
  return {
    result: {
      firstCallMs,
      warmMissP50Us: percentile(miss, 50),
      warmMissP99Us: percentile(miss, 99),
      cachedP50Us: percentile(hit, 50),
      distinct: agents.length,
    },
    device,
  }
})()

const client = await createClient({ url: options.redisUrl }).connect()
const store = new RedisStore({ client })
const kit = createSessionkit({ store, cookie: { secure: false } })
const layout = new KeyLayout()

const binding = (cookieHeader?: string): HttpContext => ({
  cookieHeader,
  userAgent: USER_AGENT,
  ipAddress: IP,
  headersSent: () => false,
  setCookie: () => undefined,
})

async function flush(): Promise<void> {
  await command(client, ['FLUSHALL'])
}

async function timed(n: number, op: (i: number) => Promise<void>): Promise<Timing> {
  const before = await commandStats(client)
  const samples: number[] = []
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await op(i)
    samples.push(performance.now() - t)
  }
  const delta = commandDelta(before, await commandStats(client))
  return {
    n,
    p50Ms: percentile(samples, 50),
    p99Ms: percentile(samples, 99),
    roundTrips: delta.roundTrips / n,
  }
}

function seed(
  users: number,
  sessionsPerUser: number,
  userPrefix: string,
  keepEvery: number,
): Promise<SeededSession[]> {
  return seedSessions({
    port: options.port,
    users,
    sessionsPerUser,
    userPrefix,
    data: APP_DATA,
    device: userAgent.device,
    ipAddress: IP,
    keepEvery,
  })
}

// --- list of one user's sessions, 1 to 1,000 of them. --------------------------------------------------------
await flush()
const list: MicroResult['list'] = []
for (const sessions of [1, 10, 100, 1000]) {
  await seed(1, sessions, `list${sessions}-`, 1_000_000)
  const user = `list${sessions}-0`
  for (let i = 0; i < 20; i++) await kit.listSessions(user)
  const n = sessions === 1000 ? (options.quick ? 50 : 300) : options.quick ? 300 : 2000
  let returned = 0
  const timing = await timed(n, async () => {
    returned = (await kit.listSessions(user)).length
  })
  list.push({ sessions, timing, returned })
}

// --- memory per session: sessionkit through its real sign-in path, connect-redis through its store. -----------
async function signInMany(users: number, perUser: number, prefix: string): Promise<string[]> {
  const keys: string[] = []
  const jobs: (() => Promise<void>)[] = []
  for (let u = 0; u < users; u++) {
    for (let s = 0; s < perUser; s++) {
      jobs.push(async () => {
        const session = await kit.openSession(binding())
        for (const [key, value] of Object.entries(APP_DATA)) session.set(key, value)
        await session.signIn(`${prefix}${u}`)
        const [tag, hash] = session.id!.split('.')
        keys.push(`${layout.prefix}{${tag!}}:s:${hash!}`)
      })
    }
  }
  for (let i = 0; i < jobs.length; i += 20) await Promise.all(jobs.slice(i, i + 20).map((job) => job()))
  return keys
}

async function sessionkitMemory(users: number, perUser: number, prefix: string): Promise<MemoryFigure> {
  await flush()
  const before = await usedMemory(client)
  const keys = await signInMany(users, perUser, prefix)
  const used = (await usedMemory(client)) - before
  const sample = keys.filter((_, i) => i % Math.max(1, Math.floor(keys.length / 500)) === 0)
  const data: number[] = []
  for (const key of sample) data.push(await memoryUsage(client, key))
  const index: number[] = []
  for (let u = 0; u < users; u += Math.max(1, Math.floor(users / 200))) {
    index.push((await memoryUsage(client, layout.userIndex(toUserRef(`${prefix}${u}`)))) / perUser)
  }
  return {
    sessions: keys.length,
    usedPerSession: used / keys.length,
    dataUsage: mean(data),
    indexUsagePerSession: mean(index),
  }
}

// Issue 13 item 6: the used_memory delta of 3,000 sign-ins (3,000 users, or 300 users with ten each).
const memoryCount = 3000
const sessionkit1 = await sessionkitMemory(memoryCount, 1, 'mem1-')
const sessionkit10 = await sessionkitMemory(memoryCount / 10, 10, 'mem10-')

// The seeder must write what a real sign-in writes: compare the field names of both.
await flush()
const [realKey] = await signInMany(1, 1, 'layout-real-')
const realFields = ((await command(client, ['HKEYS', realKey!])) as string[]).sort()
const [seeded] = await seed(1, 1, 'layout-seeded-', 1)
const seededRef = refFromToken(seeded!.token)
const seededFields = ((await command(client, ['HKEYS', layout.session(seededRef)])) as string[]).sort()
const layoutMatches = JSON.stringify(realFields) === JSON.stringify(seededFields)

const connectRedis = await (async (): Promise<MemoryFigure> => {
  await flush()
  const peer = new ConnectRedisStore({ client })
  const before = await usedMemory(client)
  const cookie = { originalMaxAge: null, expires: null, httpOnly: true, path: '/' }
  const ids: string[] = []
  for (let i = 0; i < memoryCount; i++) ids.push(`${String(i).padStart(8, '0')}abcdefghijklmnopqrstuvwx`)
  for (let i = 0; i < ids.length; i += 20) {
    await Promise.all(ids.slice(i, i + 20).map((id) => peer.set(id, { cookie, ...APP_DATA })))
  }
  const used = (await usedMemory(client)) - before
  const data: number[] = []
  for (let i = 0; i < ids.length; i += Math.max(1, Math.floor(ids.length / 500))) {
    data.push(await memoryUsage(client, `sess:${ids[i]!}`))
  }
  return {
    sessions: ids.length,
    usedPerSession: used / ids.length,
    dataUsage: mean(data),
    indexUsagePerSession: 0,
  }
})()

// --- the near cache's memory per entry -------------------------------------------------------------------------
const nearCache = await (async (): Promise<MicroResult['nearCache']> => {
  await flush()
  const entries = 5000
  const nearClient = await createClient({ url: options.redisUrl }).connect()
  const nearStore = new RedisStore({ client: nearClient, nearCache: { maxEntries: entries } })
  const nearKit = createSessionkit({ store: nearStore, cookie: { secure: false } })
  const tokens: string[] = []
  for (let i = 0; i < entries; i++) {
    const http: HttpContext = {
      ...binding(),
      setCookie: (value) => {
        const match = value === undefined ? null : /^sid=([^;]+)/.exec(value)
        if (match) tokens.push(match[1]!)
      },
    }
    const session = await kit.openSession(http)
    for (const [key, value] of Object.entries(APP_DATA)) session.set(key, value)
    await session.signIn(`near-${i}`)
  }
  while (nearStore.nearCacheStats()?.state !== 'up') await new Promise((resolve) => setTimeout(resolve, 5))
  // Several full collections, with turns of the event loop between them: one leaves enough behind (earlier
  // sections' garbage, finalizers) to swamp a few megabytes.
  const collect = async (): Promise<number> => {
    const gc = (globalThis as { gc?: () => void }).gc
    if (!gc) return Number.NaN
    for (let i = 0; i < 4; i++) {
      gc()
      await new Promise((resolve) => setImmediate(resolve))
    }
    return process.memoryUsage().heapUsed
  }
  const before = await collect()
  // Each session's first load fills the cache once its index check is back: read until all are in.
  for (let pass = 0; pass < 50 && nearStore.nearCacheStats()!.entries < entries; pass++) {
    for (let i = 0; i < tokens.length; i += 50) {
      await Promise.all(tokens.slice(i, i + 50).map((token) => nearKit.openSession(binding(`sid=${token}`))))
    }
  }
  const cached = nearStore.nearCacheStats()!.entries
  const after = await collect()
  await nearStore.close()
  await nearClient.quit()
  return { entries: cached, heapBytesPerEntry: (after - before) / cached }
})()

// --- scale: load and list latency at 1,000 sessions and at the full scale. -----------------------------------
async function scaleFigure(
  users: number,
  perUser: number,
): Promise<{ figure: ScaleFigure; seconds: number }> {
  await flush()
  const before = await usedMemory(client)
  const total = users * perUser
  const t = performance.now()
  const kept = await seed(users, perUser, 'scale-', Math.max(1, Math.floor(total / 1000)))
  const seconds = (performance.now() - t) / 1000
  const used = (await usedMemory(client)) - before
  const dbsize = Number(await command(client, ['DBSIZE']))
  const usage: number[] = []
  for (const { token, userId } of kept.slice(0, 300)) {
    const session = await memoryUsage(client, layout.session(refFromToken(token)))
    const index = await memoryUsage(client, layout.userIndex(toUserRef(userId)))
    usage.push(session + index / perUser)
  }
  const n = Math.min(kept.length, 1000)
  const cookie = (i: number): string => `sid=${kept[i % kept.length]!.token}`
  const open = async (i: number): Promise<void> => {
    const session = await kit.openSession(binding(cookie(i)))
    if (session.userId === undefined) throw new Error('a seeded session did not load')
  }
  // First pass: each session's first request in the touch interval (slides the TTL, updates the index).
  const loadTouch = await timed(n, open)
  const load = await timed(n, open)
  // Distinct users, so the first pass really is each one's first listing in both the small and the large case.
  const listUsers = [...new Set(kept.map((k) => k.userId))].slice(0, options.quick ? 300 : 1000)
  const list = async (i: number): Promise<void> => {
    const sessions = await kit.listSessions(listUsers[i % listUsers.length]!)
    if (sessions.length !== perUser)
      throw new Error(`listed ${sessions.length} sessions, expected ${perUser}`)
  }
  const listFirst = await timed(listUsers.length, list)
  const listTiming = await timed(Math.max(listUsers.length, options.quick ? 300 : 1000), list)
  return {
    seconds,
    figure: {
      sessions: total,
      users,
      dbsize,
      usedMemoryBytes: used,
      usedPerSession: used / total,
      usagePerSession: mean(usage),
      loadTouch,
      load,
      listFirst,
      list: listTiming,
    },
  }
}

const small = await scaleFigure(100, 10)
const large = await scaleFigure(options.scaleUsers, options.scaleSessions / options.scaleUsers)
await flush()

const result: MicroResult = {
  userAgent: userAgent.result,
  list,
  memory: { sessionkit1, sessionkit10, connectRedis, layoutMatches, sessionkitFields: realFields },
  scale: { small: small.figure, large: large.figure, seedSeconds: large.seconds },
  nearCache,
}
console.log(`RESULT ${JSON.stringify(result)}`)
await client.quit()
process.exit(0)
