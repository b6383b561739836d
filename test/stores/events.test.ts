/**
 * Lifecycle events, their `node:diagnostics_channel` mirrors and the metrics, on all five backends: typed payloads
 * that never carry a token; `expire` from a load that finds a session past its deadline and from the store's own
 * expiry (Redis keyspace notifications, on a single node and a Cluster, with both clients); `storeError` from a
 * Redis that is down; and nothing at all (not even a clock read) when nobody listens.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  CHANNEL_NAMES,
  createSessionkit,
  InvalidArgumentError,
  InvalidOptionsError,
  MemoryStore,
  StoreUnavailableError,
  type CounterLike,
  type HistogramLike,
  type MeterLike,
  type MetricAttributes,
  type ObservableResultLike,
  type Sessionkit,
  type SessionkitEventName,
  type SessionkitEvents,
  type SessionkitOptions,
  type SessionStore,
} from '../../src/index.js'
import { ObservedStore } from '../../src/core/observed-store.js'
import { Telemetry } from '../../src/core/telemetry.js'
import { refFromToken } from '../../src/core/token.js'
import { toUserRef } from '../../src/core/user-id.js'
import { ALL_BACKENDS, openBackend, type Backend, type BackendName } from '../helpers/backends.js'
import { Browser, sleep } from '../helpers/browser.js'
import { startCluster, startRedis, type RedisCluster, type RedisProcess } from '../helpers/redis-server.js'

let seq = 0
function newUser(): string {
  return `ev-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 6)}`
}

/** Records every event of a kit, from `kit.on` and from the diagnostics channels. */
function record(kit: Sessionkit): {
  events: { name: SessionkitEventName; payload: unknown }[]
  channel: { name: string; payload: unknown }[]
  stop(): void
} {
  const events: { name: SessionkitEventName; payload: unknown }[] = []
  const channel: { name: string; payload: unknown }[] = []
  const stops: (() => void)[] = []
  for (const name of Object.keys(CHANNEL_NAMES) as SessionkitEventName[]) {
    stops.push(kit.on(name, (payload) => events.push({ name, payload })))
    const onMessage = (payload: unknown): void => {
      channel.push({ name: CHANNEL_NAMES[name], payload })
    }
    subscribe(CHANNEL_NAMES[name], onMessage)
    stops.push(() => unsubscribe(CHANNEL_NAMES[name], onMessage))
  }
  return { events, channel, stop: () => stops.forEach((stop) => stop()) }
}

function payloadsOf<E extends SessionkitEventName>(
  events: { name: SessionkitEventName; payload: unknown }[],
  name: E,
): SessionkitEvents[E][] {
  return events.filter((e) => e.name === name).map((e) => e.payload as SessionkitEvents[E])
}

/** A meter that keeps what it is given, shaped like OpenTelemetry's. */
class FakeMeter implements MeterLike {
  readonly counts: { name: string; value: number; attributes: MetricAttributes | undefined }[] = []
  readonly records: { name: string; value: number; attributes: MetricAttributes | undefined }[] = []
  readonly gauges = new Map<string, (result: ObservableResultLike) => void | Promise<void>>()
  createCounter(name: string): CounterLike {
    return { add: (value, attributes) => this.counts.push({ name, value, attributes }) }
  }
  createHistogram(name: string): HistogramLike {
    return { record: (value, attributes) => this.records.push({ name, value, attributes }) }
  }
  createObservableGauge(name: string) {
    return {
      addCallback: (callback: (result: ObservableResultLike) => void | Promise<void>) =>
        this.gauges.set(name, callback),
    }
  }
  total(name: string, attributes: MetricAttributes = {}): number {
    return this.counts
      .filter((c) => c.name === name && Object.entries(attributes).every(([k, v]) => c.attributes?.[k] === v))
      .reduce((sum, c) => sum + c.value, 0)
  }
  async observe(name: string): Promise<number[]> {
    const seen: number[] = []
    await this.gauges.get(name)?.({ observe: (value) => seen.push(value) })
    return seen
  }
}

describe.each(ALL_BACKENDS)('events: %s', (name) => {
  let backend: Backend
  const kitWith = (options: Omit<SessionkitOptions, 'store'> = {}): Sessionkit =>
    createSessionkit({ store: backend.store, cookie: { secure: false }, deviceParser: false, ...options })

  beforeAll(async () => {
    backend = await openBackend(name)
  })
  afterAll(async () => {
    await backend.close()
  })

  it('signIn, rotate, signOut: typed payloads with ids (never the token), mirrored on the channels', async () => {
    const kit = kitWith()
    const seen = record(kit)
    try {
      const user = newUser()
      const browser = new Browser(kit, { ipAddress: '198.51.100.9' })
      await browser.request((s) => s.set('cart', 1))
      const anonymousId = refFromToken(browser.cookie!).id
      await browser.request((s) => s.signIn(user, { rememberMe: true }))
      const signedInId = refFromToken(browser.cookie!).id
      await browser.request((s) => s.rotate())
      const rotatedId = refFromToken(browser.cookie!).id
      const token = browser.cookie!
      await browser.request((s) => s.signOut())

      expect(seen.events.map((e) => e.name)).toEqual(['signIn', 'rotate', 'signOut'])
      const [signIn] = payloadsOf(seen.events, 'signIn')
      expect(signIn).toMatchObject({
        userId: user,
        publicId: signedInId,
        previousId: anonymousId,
        ipAddress: '198.51.100.9',
        rememberMe: true,
        impersonator: undefined,
        knownDevice: undefined,
      })
      expect(signIn!.at).toBeInstanceOf(Date)
      expect(payloadsOf(seen.events, 'rotate')[0]).toMatchObject({
        userId: user,
        previousId: signedInId,
        publicId: rotatedId,
      })
      expect(payloadsOf(seen.events, 'signOut')[0]).toMatchObject({ userId: user, publicId: rotatedId })
      // The same payload objects on the diagnostics channels.
      expect(seen.channel.map((c) => c.name)).toEqual([
        'sessionkit:signIn',
        'sessionkit:rotate',
        'sessionkit:signOut',
      ])
      expect(seen.channel.map((c) => c.payload)).toEqual(seen.events.map((e) => e.payload))
      expect(JSON.stringify(seen.events)).not.toContain(token.slice(4))
    } finally {
      seen.stop()
    }
  })

  it('revoke (one, others, all) with counts; evict at a sign-in over the cap; impersonation in signIn', async () => {
    const kit = kitWith({ maxSessionsPerUser: 2 })
    const seen = record(kit)
    try {
      const user = newUser()
      const browsers: Browser[] = []
      for (let i = 0; i < 3; i++) {
        const b = new Browser(kit)
        await b.request((s) => s.signIn(user))
        browsers.push(b)
        await sleep(3)
      }
      expect(payloadsOf(seen.events, 'evict')).toEqual([
        expect.objectContaining({ userId: user, count: 1, reason: 'sign-in' }),
      ])
      const [, second, third] = browsers
      await kit.revokeSession(user, refFromToken(second!.cookie!).id)
      const admin = new Browser(kit)
      await admin.request((s) => s.signIn(user, { impersonator: 'admin-7' }))
      await third!.request((s) => s.signIn(user))
      await third!.request((s) => s.revokeOtherSessions())
      await kit.revokeAllSessions(user)
      expect(payloadsOf(seen.events, 'revoke').map((r) => [r.scope, r.count, r.publicId])).toEqual([
        ['one', 1, refFromToken(second!.cookie!).id],
        ['all', 2, undefined],
      ])
      // revokeOthers spared the impersonated session and the caller's: nothing went, so no event.
      expect(payloadsOf(seen.events, 'signIn').at(-2)).toMatchObject({ impersonator: 'admin-7' })
      // A revocation of nothing is not an event.
      await kit.revokeSession(user, refFromToken(second!.cookie!).id)
      expect(payloadsOf(seen.events, 'revoke')).toHaveLength(2)
    } finally {
      seen.stop()
    }
  })

  it('evict from cleanupSessions', async () => {
    const wide = kitWith({ maxSessionsPerUser: 3 })
    const user = newUser()
    for (let i = 0; i < 3; i++) await new Browser(wide).request((s) => s.signIn(user))
    const narrow = kitWith({ maxSessionsPerUser: 1 })
    const seen = record(narrow)
    try {
      expect((await narrow.cleanupSessions(user, { dryRun: true })).evicted).toBe(2)
      expect(seen.events).toEqual([])
      expect((await narrow.cleanupSessions(user)).evicted).toBe(2)
      expect(payloadsOf(seen.events, 'evict')).toEqual([
        expect.objectContaining({ userId: user, count: 2, reason: 'cleanup' }),
      ])
    } finally {
      seen.stop()
    }
  })

  it('metrics: counters per event, a store-latency histogram per operation, an active-sessions gauge', async () => {
    const meter = new FakeMeter()
    const kit = kitWith({ meter })
    const user = newUser()
    const browser = new Browser(kit)
    await browser.request((s) => s.signIn(user))
    await new Browser(kit).request((s) => s.signIn(user, { impersonator: 'a' }))
    await browser.request((s) => s.signOut())
    await kit.revokeAllSessions(user)
    expect(meter.total('sessionkit.sign_ins')).toBe(2)
    expect(meter.total('sessionkit.sign_ins', { impersonated: true, known_device: 'unchecked' })).toBe(1)
    expect(meter.total('sessionkit.sign_outs')).toBe(1)
    expect(meter.total('sessionkit.revocations', { scope: 'all' })).toBe(1)
    const operations = new Set(meter.records.map((r) => r.attributes?.operation))
    expect(operations).toEqual(new Set(['create', 'load', 'destroy', 'revoke']))
    for (const r of meter.records) {
      expect(r.name).toBe('sessionkit.store.duration')
      expect(r.value).toBeGreaterThanOrEqual(0)
      expect(r.attributes?.outcome).toBe('ok')
    }
    // The gauge is registered and observes a number (exact counts: 'the active-sessions gauge' below).
    expect(await meter.observe('sessionkit.sessions.active')).toEqual([expect.any(Number)])
  })

  it('a listener that throws or rejects is a warning, never a failed operation', async () => {
    const kit = kitWith()
    const warnings: string[] = []
    const onWarning = (warning: Error): void => {
      warnings.push(warning.message)
    }
    process.on('warning', onWarning)
    const stops = [
      kit.on('signIn', () => {
        throw new Error('listener bug')
      }),
      kit.on('signIn', () => Promise.reject(new Error('async listener bug'))),
    ]
    let reached = 0
    stops.push(kit.on('signIn', () => reached++))
    try {
      const browser = new Browser(kit)
      await browser.request((s) => s.signIn(newUser()))
      expect(await browser.request((s) => s.userId)).toBeDefined()
      await sleep(20)
    } finally {
      process.off('warning', onWarning)
      stops.forEach((stop) => stop())
    }
    expect(reached).toBe(1)
    expect(warnings.filter((w) => /listener bug/.test(w))).toHaveLength(2)
  })
})

describe.each<BackendName>(['node-redis single', 'ioredis single', 'node-redis cluster', 'ioredis cluster'])(
  'expire found by sessionkit: %s',
  (name) => {
    let backend: Backend
    beforeAll(async () => {
      backend = await openBackend(name)
    })
    afterAll(async () => {
      await backend.close()
    })

    it('a load that finds a session past its absolute deadline reports it and deletes it', async () => {
      const kit = createSessionkit({ store: backend.store, cookie: { secure: false }, deviceParser: false })
      const seen = record(kit)
      try {
        const user = newUser()
        const browser = new Browser(kit)
        await browser.request((s) => s.signIn(user))
        const ref = refFromToken(browser.cookie!)
        const key = backend.redis!.keys.session(ref)
        // The key's TTL is capped at the deadline, so Redis usually drops it first: move the deadline instead.
        await backend.send(key, ['HSET', key, '_ab', String(Date.now() - 1)])
        expect((await browser.open()).session.isNew).toBe(true)
        expect(payloadsOf(seen.events, 'expire')).toEqual([
          expect.objectContaining({ publicId: ref.id, userId: user, detectedBy: 'sessionkit' }),
        ])
        expect(await backend.store.inspect(ref)).toBeUndefined()
      } finally {
        seen.stop()
      }
    })
  },
)

describe('expire reported by the store (watchExpirations)', () => {
  let single: RedisProcess
  let cluster: RedisCluster
  beforeAll(async () => {
    ;[single, cluster] = await Promise.all([
      startRedis(['--notify-keyspace-events', 'Ex']),
      startCluster({ extraArgs: ['--notify-keyspace-events', 'Ex'] }),
    ])
  }, 60_000)
  afterAll(async () => {
    await Promise.all([single.stop(), cluster.stop()])
  })

  const short = { anonymousTimeoutMs: 300, idleTimeoutMs: 300, touchIntervalMs: 100 }

  it.each<BackendName>([
    'memory',
    'node-redis single',
    'ioredis single',
    'node-redis cluster',
    'ioredis cluster',
  ])('%s: every expired session is one expire event, with its id', async (name) => {
    const backend = await openBackend(name, { url: single.url, cluster: cluster.addresses })
    const kit = createSessionkit({
      store: backend.store,
      cookie: { secure: false },
      deviceParser: false,
      ...short,
    })
    const seen = record(kit)
    const stop = await kit.watchExpirations()
    try {
      const ids: string[] = []
      for (let i = 0; i < 4; i++) {
        const browser = new Browser(kit)
        if (i % 2 === 0) await browser.request((s) => s.set('a', i))
        else await browser.request((s) => s.signIn(newUser()))
        ids.push(refFromToken(browser.cookie!).id)
      }
      const deadline = Date.now() + 15_000
      const expired = (): string[] => payloadsOf(seen.events, 'expire').map((e) => e.publicId)
      while (ids.some((id) => !expired().includes(id)) && Date.now() < deadline) {
        if (backend.redis === undefined) (backend.store as unknown as { sweep(): void }).sweep()
        await sleep(50)
      }
      expect(new Set(expired())).toEqual(new Set(ids))
      for (const event of payloadsOf(seen.events, 'expire')) {
        expect(event).toMatchObject({ detectedBy: 'store', userId: undefined })
      }
    } finally {
      await stop()
      seen.stop()
      await backend.close()
    }
  })

  it('warns when the server does not publish expired events', async () => {
    const backend = await openBackend('node-redis single')
    const kit = createSessionkit({ store: backend.store, cookie: { secure: false } })
    const warnings: string[] = []
    const onWarning = (warning: Error & { code?: string }): void => {
      if (warning.code === 'SESSIONKIT_KEYSPACE_EVENTS_OFF') warnings.push(warning.message)
    }
    process.on('warning', onWarning)
    try {
      const stop = await kit.watchExpirations()
      await stop()
      await sleep(10)
    } finally {
      process.off('warning', onWarning)
      await backend.close()
    }
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('notify-keyspace-events')
  })
})

describe('the active-sessions gauge', () => {
  it('memory: the exact number of live sessions, sampled at most every 30 s', async () => {
    const meter = new FakeMeter()
    const kit = createSessionkit({
      store: new MemoryStore({ sweepIntervalMs: 0 }),
      cookie: { secure: false },
      meter,
    })
    for (let i = 0; i < 3; i++) await new Browser(kit).request((s) => s.signIn(`g${i}`))
    expect(await meter.observe('sessionkit.sessions.active')).toEqual([3])
    await new Browser(kit).request((s) => s.set('a', 1))
    expect(await meter.observe('sessionkit.sessions.active')).toEqual([3])
  })

  it.each<BackendName>(['node-redis single', 'ioredis cluster'])(
    '%s: counts the session keys exactly on a small keyspace, ignoring other keys',
    async (name) => {
      const server = await startRedis()
      const cluster = name.includes('cluster') ? await startCluster() : undefined
      const backend = await openBackend(name, { url: server.url, cluster: cluster?.addresses })
      try {
        const kit = createSessionkit({ store: backend.store, cookie: { secure: false }, deviceParser: false })
        for (let i = 0; i < 4; i++) await new Browser(kit).request((s) => s.signIn(`gauge-${i}`))
        await new Browser(kit).request((s) => s.set('a', 1))
        await backend.send('unrelated', ['SET', 'unrelated', 'x'])
        expect(await backend.store.countSessions!()).toBe(5)
      } finally {
        await backend.close()
        await server.stop()
        await cluster?.stop()
      }
    },
  )

  it('estimates a large keyspace by sampling, within a few percent', async () => {
    const server = await startRedis()
    const backend = await openBackend('ioredis single', { url: server.url })
    try {
      // 2,400 session keys among 4,800 keys (written directly: only their names matter to the count).
      const prefix = backend.prefix
      const commands: string[][] = []
      for (let i = 0; i < 2400; i++) {
        const hash = `${String(i).padStart(6, '0')}${'A'.repeat(21)}`
        commands.push(['SET', `${prefix}{abc}:s:${hash}`, '1'], ['SET', `other:${i}`, '1'])
      }
      for (let i = 0; i < commands.length; i += 400) {
        await Promise.all(commands.slice(i, i + 400).map((c) => backend.send(c[1]!, c)))
      }
      const estimate = await backend.store.countSessions!()
      // 200 samples of p = 0.5: the standard error is 3.5 % of 4,800; this allows more than 5 of them.
      expect(estimate).toBeGreaterThan(1500)
      expect(estimate).toBeLessThan(3300)
    } finally {
      await backend.close()
      await server.stop()
    }
  })
})

describe('storeError', () => {
  let server: RedisProcess
  afterEach(async () => {
    await server?.stop()
  })

  it.each<BackendName>(['node-redis single', 'ioredis single'])(
    '%s: a Redis that is down fails the call and is reported, with the operation',
    async (name) => {
      server = await startRedis()
      const backend = await openBackend(name, { url: server.url, timeoutMs: 300 })
      const meter = new FakeMeter()
      const kit = createSessionkit({ store: backend.store, cookie: { secure: false }, meter })
      const seen = record(kit)
      try {
        await server.stop()
        await expect(kit.listSessions(newUser())).rejects.toBeInstanceOf(StoreUnavailableError)
        const [event] = payloadsOf(seen.events, 'storeError')
        expect(event).toMatchObject({ operation: 'list' })
        expect(event!.error).toBeInstanceOf(StoreUnavailableError)
        expect(meter.total('sessionkit.store.errors', { operation: 'list' })).toBe(1)
        expect(meter.records.at(-1)?.attributes).toEqual({ operation: 'list', outcome: 'error' })
      } finally {
        seen.stop()
        await backend.close()
      }
    },
  )

  it('memory: a failing store is reported the same way', async () => {
    const memory = new MemoryStore({ sweepIntervalMs: 0 })
    const failing = new Proxy(memory, {
      get(target, property, receiver) {
        if (property === 'revoke') return () => Promise.reject(new StoreUnavailableError('down'))
        const value: unknown = Reflect.get(target, property, receiver)
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    })
    const kit = createSessionkit({ store: failing, cookie: { secure: false } })
    const seen = record(kit)
    try {
      await expect(kit.revokeAllSessions('someone')).rejects.toBeInstanceOf(StoreUnavailableError)
      expect(payloadsOf(seen.events, 'storeError').map((e) => e.operation)).toEqual(['revoke'])
    } finally {
      seen.stop()
    }
  })
})

describe('event plumbing', () => {
  it('kit.on refuses unknown events and non-functions; the returned function and off() stop a listener', async () => {
    const kit = createSessionkit({
      store: new MemoryStore({ sweepIntervalMs: 0 }),
      cookie: { secure: false },
    })
    expect(() => kit.on('signin' as never, () => undefined)).toThrow(InvalidArgumentError)
    expect(() => kit.on('signIn', 'x' as never)).toThrow(InvalidArgumentError)
    const calls: string[] = []
    const stop = kit.on('signIn', () => calls.push('a'))
    const listener = (): void => {
      calls.push('b')
    }
    kit.on('signIn', listener)
    await new Browser(kit).request((s) => s.signIn('u1'))
    stop()
    kit.off('signIn', listener)
    await new Browser(kit).request((s) => s.signIn('u2'))
    expect(calls).toEqual(['a', 'b'])
  })

  it('refuses a meter that is not one', () => {
    const store = new MemoryStore({ sweepIntervalMs: 0 })
    expect(() => createSessionkit({ store, meter: {} as never })).toThrow(InvalidOptionsError)
  })

  it('with nobody listening, a store call is the store’s own promise: no timing, no wrapper', () => {
    const calls: Promise<unknown>[] = []
    const memory = new MemoryStore({ sweepIntervalMs: 0 })
    const spy = new Proxy(memory, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver)
        if (typeof value !== 'function') return value
        return (...args: unknown[]) => {
          const result = (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
          calls.push(result)
          return result
        }
      },
    }) as SessionStore
    const telemetry = new Telemetry(undefined)
    const observed = new ObservedStore(spy, telemetry)
    const policy = createSessionkit({ store: memory }).options.policy
    const ref = refFromToken(`abc.${Buffer.alloc(32, 1).toString('base64url')}`)
    expect(observed.load(ref, policy, undefined)).toBe(calls.at(-1))
    expect(observed.list(toUserRef('u'), policy)).toBe(calls.at(-1))
    expect(telemetry.wants('signIn')).toBe(false)
    expect(telemetry.observesStore).toBe(false)
    // A diagnostics subscriber is enough to turn them on.
    const onMessage = (): void => undefined
    subscribe('sessionkit:storeError', onMessage)
    try {
      expect(telemetry.observesStore).toBe(true)
      expect(observed.load(ref, policy, undefined)).not.toBe(calls.at(-1))
    } finally {
      unsubscribe('sessionkit:storeError', onMessage)
    }
  })
})
