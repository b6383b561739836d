/**
 * What the features of issue 12 cost in Redis round trips, counted with MONITOR on a private redis-server: each
 * background read is one EVALSHA; unknown-sign-in detection adds none to a sign-in; the per-address count adds one
 * to the first write of an anonymous session and one (in parallel) to a sign-in; events and metrics add none.
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionkit, type MeterLike, type Sessionkit, type SessionkitOptions } from '../../src/index.js'
import { refFromToken } from '../../src/core/token.js'
import { scripts } from '../../src/stores/redis/scripts.js'
import { openBackend, type Backend, type BackendName } from '../helpers/backends.js'
import { Browser } from '../helpers/browser.js'
import { CommandLog } from '../helpers/command-log.js'
import { startRedis, type RedisProcess } from '../helpers/redis-server.js'

const NOOP_METER: MeterLike = {
  createCounter: () => ({ add: () => undefined }),
  createHistogram: () => ({ record: () => undefined }),
  createObservableGauge: () => ({ addCallback: () => undefined }),
}

describe.each<BackendName>(['node-redis single', 'ioredis single'])('feature round trips: %s', (name) => {
  let server: RedisProcess
  let backend: Backend
  let control: Redis
  let log: CommandLog

  const kitWith = (options: Omit<SessionkitOptions, 'store'> = {}): Sessionkit =>
    createSessionkit({ store: backend.store, cookie: { secure: false }, deviceParser: false, ...options })

  beforeAll(async () => {
    server = await startRedis()
    backend = await openBackend(name, { url: server.url })
    control = new Redis(server.url)
    for (const script of Object.values(scripts)) await control.script('LOAD', script.source)
    await kitWith().listSessions('warm-up')
    log = await CommandLog.start(control)
  })
  afterAll(async () => {
    log.stop()
    control.disconnect()
    await backend.close()
    await server.stop()
  })

  const commandsOf = (fn: () => Promise<unknown>): Promise<string[]> => log.commandsOf(fn)

  it('sessionsOf, readSession and anySessionElevated are one call each, whatever the number of sessions', async () => {
    const kit = kitWith()
    const user = `rt-bg-${Math.random()}`
    const browsers: Browser[] = []
    for (let i = 0; i < 20; i++) {
      const browser = new Browser(kit)
      await browser.request((s) => s.signIn(user))
      browsers.push(browser)
    }
    expect(await commandsOf(() => kit.sessionsOf(user))).toEqual(['EVALSHA'])
    expect(await commandsOf(() => kit.readSession(refFromToken(browsers[0]!.cookie!).id))).toEqual([
      'EVALSHA',
    ])
    expect(await commandsOf(() => kit.anySessionElevated(user))).toEqual(['EVALSHA'])
  })

  it('a sign-in with unknown-sign-in detection and events and metrics on is still claim + create', async () => {
    const kit = kitWith({
      knownDeviceCookie: { secret: 'x'.repeat(32) },
      onUnknownSignIn: () => undefined,
      meter: NOOP_METER,
      uniqueIpsPerUser: { max: 5, windowMs: 60_000 },
    })
    kit.on('signIn', () => undefined)
    const browser = new Browser(kit)
    await browser.request((s) => s.set('a', 1))
    const req = await browser.open()
    expect(await commandsOf(() => req.session.signIn(`rt-known-${Math.random()}`))).toEqual([
      'EVALSHA',
      'EVALSHA',
    ])
    // A read-only request of the signed-in session, with the address limit on: one call.
    expect(await commandsOf(() => browser.request((s) => s.get('a')))).toEqual(['EVALSHA'])
  })

  it('the anonymous count: one more call at the first write and one at a sign-in, only when it is on', async () => {
    const kit = kitWith({ maxAnonymousSessionsPerIp: 10 })
    const browser = new Browser(kit, { ipAddress: '192.0.2.77' })
    expect(await commandsOf(() => browser.request((s) => s.set('a', 1)))).toEqual(['EVALSHA', 'EVALSHA'])
    expect(await commandsOf(() => browser.request((s) => s.set('a', 2)))).toEqual(['EVALSHA', 'EVALSHA'])
    const req = await browser.open()
    const signIn = await commandsOf(() => req.session.signIn(`rt-anon-${Math.random()}`))
    expect(signIn).toEqual(['EVALSHA', 'EVALSHA', 'EVALSHA'])
  })

  it('elevate() is one reissue: claim + create', async () => {
    const kit = kitWith()
    const browser = new Browser(kit)
    await browser.request((s) => s.signIn(`rt-elev-${Math.random()}`))
    const req = await browser.open()
    expect(
      await commandsOf(async () => {
        await req.session.elevate()
        await req.commit()
      }),
    ).toEqual(['EVALSHA', 'EVALSHA'])
  })
})
