/**
 * Revocation delay with the near cache: two app servers, A and B (two RedisStores with their own node-redis
 * clients and near caches, so Redis sees two sets of connections), in this one process so that both read one
 * clock. Each trial signs a user in on A, reads the session on B until B serves it from memory, then revokes it
 * on A and measures from `revokeSession()` resolving on A to the first request on B that refuses the token (B
 * polls with a request per event-loop turn, so the invalidation can land between two). Prints one line
 * `RESULT <json>`. Run by run.ts against its Redis; `npx tsx --conditions=sessionkit-source bench/revocation.ts
 * '{"redisUrl":"redis://127.0.0.1:6390","trials":1000}'` runs it alone.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { createClient } from 'redis'
import { createSessionkit, RedisStore, type HttpContext, type Sessionkit } from 'sessionkit'
import { percentile } from './lib/stats.js'
import { USER_AGENT } from './servers/common.js'

export interface RevocationResult {
  readonly trials: number
  /** ms from revokeSession() resolving on A to B's first refusing request (0 when B refused at once). */
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  /** Trials in which B refused the token at its very first request after A's revokeSession() resolved. */
  readonly refusedAtOnce: number
  /** B's near cache served the session from memory before each revocation (checked in every trial). */
  readonly cachedBeforeEveryRevocation: boolean
}

const options = JSON.parse(process.argv[2] ?? '{}') as { redisUrl: string; trials: number }

const binding = (token?: string): HttpContext => ({
  cookieHeader: token === undefined ? undefined : `sid=${token}`,
  userAgent: USER_AGENT,
  ipAddress: '203.0.113.7',
  headersSent: () => false,
  setCookie: () => undefined,
})

async function instance(): Promise<{ kit: Sessionkit; store: RedisStore; close(): Promise<void> }> {
  const client = await createClient({ url: options.redisUrl }).connect()
  const store = new RedisStore({ client, nearCache: { maxEntries: 10_000 } })
  const kit = createSessionkit({ store, cookie: { secure: false }, deviceParser: false })
  for (let i = 0; store.nearCacheStats()?.state !== 'up'; i++) {
    if (i > 2000) throw new Error('the near cache did not come up')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return {
    kit,
    store,
    async close() {
      await store.close()
      await client.quit()
    },
  }
}

/** Signs `user` in on `kit`; returns the cookie's token. */
async function signIn(kit: Sessionkit, user: string): Promise<string> {
  let token: string | undefined
  const http: HttpContext = {
    ...binding(),
    setCookie: (value) => {
      const match = value === undefined ? null : /^sid=([^;]+)/.exec(value)
      if (match) token = match[1]
    },
  }
  const session = await kit.openSession(http)
  session.set('n', 1)
  await session.signIn(user)
  await session.commit()
  if (token === undefined) throw new Error('no cookie after sign-in')
  return token
}

const a = await instance()
const b = await instance()
const delays: number[] = []
let refusedAtOnce = 0
let cachedBeforeEveryRevocation = true
for (let trial = 0; trial < options.trials; trial++) {
  const user = `revocation-${trial}`
  const token = await signIn(a.kit, user)
  // Until B serves it from memory (its first load fills the cache when its index check is back).
  let cached = false
  for (let i = 0; i < 10_000 && !cached; i++) {
    const hits = b.store.nearCacheStats()!.hits
    const session = await b.kit.openSession(binding(token))
    if (session.userId !== user) throw new Error('B did not load the session')
    cached = b.store.nearCacheStats()!.hits > hits
    if (!cached) await nextTurn()
  }
  if (!cached) cachedBeforeEveryRevocation = false
  const id = (await b.kit.openSession(binding(token))).id!
  if (!(await a.kit.revokeSession(user, id))) throw new Error('A did not revoke the session')
  const resolvedAt = performance.now()
  for (let poll = 0; ; poll++) {
    const startedAt = performance.now()
    const session = await b.kit.openSession(binding(token))
    if (session.userId === undefined) {
      delays.push(Math.max(0, startedAt - resolvedAt))
      if (poll === 0) refusedAtOnce++
      break
    }
    if (poll > 1_000_000) throw new Error('B never refused the revoked token')
    await nextTurn()
  }
}
await a.close()
await b.close()

const result: RevocationResult = {
  trials: delays.length,
  p50Ms: percentile(delays, 50),
  p99Ms: percentile(delays, 99),
  maxMs: Math.max(...delays),
  refusedAtOnce,
  cachedBeforeEveryRevocation,
}
console.log(`RESULT ${JSON.stringify(result)}`)
process.exit(0)
