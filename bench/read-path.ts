/**
 * In-process cost of a read-only request (open the session from its cookie, read a key, commit nothing), without
 * an HTTP framework: what sessionkit itself adds per request. Prints one line `RESULT <json>`.
 *
 *   REDIS_URL=redis://127.0.0.1:PORT npx tsx --conditions=sessionkit-source bench/read-path.ts [variant]
 *
 * Variants: `off` (no listener, no meter: the default), `listening` (a `kit.on` listener for every event and a
 * no-op meter). Uses only the API that existed before issue 12 for `off`, so the same file measures an older
 * checkout for comparison. Not part of `npm run bench`; a private redis-server is expected at REDIS_URL.
 */
import { performance } from 'node:perf_hooks'
import { createClient } from 'redis'
import { createSessionkit, MemoryStore, RedisStore, type HttpContext } from 'sessionkit'

const variant = process.argv[2] ?? 'off'
const rounds = Number(process.env.ROUNDS ?? 5)
const perRound = Number(process.env.PER_ROUND ?? 20_000)

function binding(cookieHeader: string | undefined, sink: { cookie?: string }): HttpContext {
  return {
    cookieHeader,
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36',
    ipAddress: '203.0.113.7',
    headersSent: () => false,
    setCookie: (value) => {
      const pair = value?.split(';', 1)[0]
      if (pair?.startsWith('sid=') === true) sink.cookie = pair
    },
  }
}

async function measure(
  storeName: 'memory' | 'redis',
): Promise<{ cpuUsPerRequest: number; wallUsPerRequest: number }> {
  let close = (): Promise<unknown> => Promise.resolve()
  let store: MemoryStore | RedisStore
  if (storeName === 'memory') {
    store = new MemoryStore({ sweepIntervalMs: 0 })
  } else {
    const client = await createClient({ url: process.env.REDIS_URL }).connect()
    store = new RedisStore({ client })
    close = () => client.quit()
  }
  const options: Record<string, unknown> = { store, cookie: { secure: false }, deviceParser: false }
  if (variant === 'listening') {
    options.meter = {
      createCounter: () => ({ add: () => undefined }),
      createHistogram: () => ({ record: () => undefined }),
      createObservableGauge: () => ({ addCallback: () => undefined }),
    }
  }
  const kit = createSessionkit(options as unknown as Parameters<typeof createSessionkit>[0])
  if (variant === 'listening') {
    const on = (kit as unknown as { on(event: string, listener: () => void): void }).on.bind(kit)
    for (const event of [
      'signIn',
      'signOut',
      'rotate',
      'revoke',
      'evict',
      'expire',
      'unknownSignIn',
      'storeError',
    ])
      on(event, () => undefined)
  }
  const sink: { cookie?: string } = {}
  const first = await kit.openSession(binding(undefined, sink))
  first.set('theme', 'dark')
  await first.signIn(`bench-${Math.random()}`)
  await first.commit()
  const cookie = sink.cookie!
  const request = async (): Promise<void> => {
    const session = await kit.openSession(binding(cookie, sink))
    if (session.get('theme') !== 'dark') throw new Error('the session did not load')
    await session.commit()
  }
  for (let i = 0; i < 2000; i++) await request()
  const cpu: number[] = []
  const wall: number[] = []
  for (let round = 0; round < rounds; round++) {
    const startCpu = process.cpuUsage()
    const start = performance.now()
    for (let i = 0; i < perRound; i++) await request()
    wall.push(((performance.now() - start) * 1000) / perRound)
    const used = process.cpuUsage(startCpu)
    cpu.push((used.user + used.system) / perRound)
  }
  await close()
  return { cpuUsPerRequest: median(cpu), wallUsPerRequest: median(wall) }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}

const memory = await measure('memory')
const redis = process.env.REDIS_URL ? await measure('redis') : undefined
console.log(`RESULT ${JSON.stringify({ variant, memory, redis })}`)
process.exit(0)
