/**
 * Round trips, counted on a private redis-server with MONITOR: every store operation is one EVALSHA, requests that
 * cannot name a session make none, NOSCRIPT is recovered from, and a dead or frozen Redis is a fast
 * StoreUnavailableError, never "no session".
 */
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createSessionkit, StoreUnavailableError, type Sessionkit } from '../../src/index.js'
import { refFromToken } from '../../src/core/token.js'
import { scripts } from '../../src/stores/redis/scripts.js'
import { openBackend, type Backend, type BackendName } from '../helpers/backends.js'
import { Browser, sleep } from '../helpers/browser.js'
import { CommandLog } from '../helpers/command-log.js'
import { startRedis, type RedisProcess } from '../helpers/redis-server.js'

const clientKinds: BackendName[] = ['node-redis single', 'ioredis single']

function kitOf(backend: Backend): Sessionkit {
  return createSessionkit({
    store: backend.store,
    cookie: { secure: false },
    deviceParser: false,
    touchIntervalMs: 10,
  })
}

describe.each(clientKinds)('round trips: %s', (name) => {
  let server: RedisProcess
  let backend: Backend
  let kit: Sessionkit
  let control: Redis
  let log: CommandLog

  beforeAll(async () => {
    server = await startRedis()
    backend = await openBackend(name, { url: server.url })
    kit = kitOf(backend)
    control = new Redis(server.url)
    // EVAL caches a script, so on a fresh server each script's first call is EVALSHA, NOSCRIPT, EVAL: load them
    // first to count the steady state (the NOSCRIPT path has its own test).
    for (const script of Object.values(scripts)) await control.script('LOAD', script.source)
    // The store's first call asks Redis for its clock (TIME, once per store, see 'the first call of a store'):
    // make it here, so the counts below are the steady state.
    await kit.listSessions('warm-up')
    log = await CommandLog.start(control)
  })
  afterAll(async () => {
    log.stop()
    control.disconnect()
    await backend.close()
    await server.stop()
  })

  const commandsOf = (fn: () => Promise<unknown>): Promise<string[]> => log.commandsOf(fn)

  async function signedIn(user: string): Promise<Browser> {
    const browser = new Browser(kit)
    await browser.request((s) => s.signIn(user))
    return browser
  }

  it('a request without a cookie, or with a malformed one, makes no Redis call', async () => {
    const commands = await commandsOf(async () => {
      await new Browser(kit).request((s) => s.get('x'))
      for (const header of ['sid=*', 'sid=', 'sid=abc.def', `sid=${'a'.repeat(4096)}`, 'other=1']) {
        const req = await new Browser(kit).open(header)
        expect(req.session.isNew).toBe(true)
        await req.commit()
      }
    })
    expect(commands).toEqual([])
  })

  it('create = 1, load with touch = 1, save = 1, sign-out = 1', async () => {
    const browser = new Browser(kit)
    expect(await commandsOf(() => browser.request((s) => s.set('a', 1)))).toEqual(['EVALSHA'])
    await sleep(30)
    const ref = refFromToken(browser.cookie!)
    const before = await backend.store.inspect(ref)
    expect(await commandsOf(() => browser.request((s) => s.get('a')))).toEqual(['EVALSHA'])
    const after = await backend.store.inspect(ref)
    // That one call did touch the session.
    expect(Number(new Map(after!.fields).get('_ls'))).toBeGreaterThan(
      Number(new Map(before!.fields).get('_ls')),
    )
    expect(
      await commandsOf(() =>
        browser.request((s) => {
          for (let i = 0; i < 50; i++) s.set(`k${i}`, i)
          s.delete('a')
        }),
      ),
    ).toEqual(['EVALSHA', 'EVALSHA'])
    const req = await browser.open()
    expect(
      await commandsOf(async () => {
        await req.session.signOut()
        await req.commit()
      }),
    ).toEqual(['EVALSHA'])
  })

  it('sign-in = 1 for a new visitor, claim + create for a stored session', async () => {
    const fresh = new Browser(kit)
    expect(await commandsOf(() => fresh.request((s) => s.signIn(`rt-${Math.random()}`)))).toEqual(['EVALSHA'])
    const stored = new Browser(kit)
    await stored.request((s) => s.set('a', 1))
    const req = await stored.open()
    expect(await commandsOf(() => req.session.signIn(`rt-${Math.random()}`))).toEqual(['EVALSHA', 'EVALSHA'])
  })

  it.each([1, 10, 100])('list = 1 call with %i sessions; revoke = 1; revoke-all = 1', async (n) => {
    const user = `rt-list-${n}-${Math.random()}`
    const browsers = await Promise.all(Array.from({ length: n }, () => signedIn(user)))
    let listed = 0
    expect(
      await commandsOf(async () => {
        listed = (await kit.listSessions(user)).length
      }),
    ).toEqual(['EVALSHA'])
    expect(listed).toBe(n)
    const id = refFromToken(browsers[0]!.cookie!).id
    expect(await commandsOf(() => kit.revokeSession(user, id))).toEqual(['EVALSHA'])
    expect(await commandsOf(() => kit.revokeAllSessions(user))).toEqual(['EVALSHA'])
    expect(await kit.listSessions(user)).toEqual([])
  })

  it('the first call of a store learns the Redis clock with one TIME, once', async () => {
    const fresh = await openBackend(name, { url: server.url })
    try {
      const freshKit = kitOf(fresh)
      const user = `rt-first-${Math.random()}`
      expect(
        await commandsOf(() => Promise.all([freshKit.listSessions(user), freshKit.listSessions(user)])),
      ).toEqual(['TIME', 'EVALSHA', 'EVALSHA'])
      expect(await commandsOf(() => freshKit.listSessions(user))).toEqual(['EVALSHA'])
    } finally {
      await fresh.close()
    }
  })

  it('after SCRIPT FLUSH everything still works: EVALSHA, NOSCRIPT, EVAL once, then EVALSHA again', async () => {
    const user = `rt-flush-${Math.random()}`
    const browser = await signedIn(user)
    await control.script('FLUSH')
    // load and save: each EVALSHA fails with NOSCRIPT once and falls back to EVAL, which caches the script.
    expect(await commandsOf(() => browser.request((s) => s.set('after', 'flush')))).toEqual([
      'EVALSHA',
      'EVAL',
      'EVALSHA',
      'EVAL',
    ])
    expect(await commandsOf(() => browser.request((s) => s.get('after')))).toEqual(['EVALSHA'])
    expect(await browser.request((s) => s.get('after'))).toBe('flush')
    await control.script('FLUSH')
    expect(await kit.listSessions(user)).toHaveLength(1)
    await control.script('FLUSH')
    await browser.request((s) => s.rotate())
    await control.script('FLUSH')
    expect(await kit.revokeAllSessions(user)).toBe(1)
  })
})

describe.each(clientKinds)('an unavailable Redis: %s', (name) => {
  let server: RedisProcess | undefined
  let backend: Backend | undefined
  afterEach(async () => {
    if (server?.child.pid !== undefined && server.child.exitCode === null) {
      process.kill(server.child.pid, 'SIGCONT')
    }
    await backend?.close()
    await server?.stop()
    server = undefined
    backend = undefined
  })

  it('killed: StoreUnavailableError (never "no session"), cookie untouched; recovers when Redis is back', async () => {
    server = await startRedis()
    backend = await openBackend(name, { url: server.url, timeoutMs: 500 })
    const kit = kitOf(backend)
    const browser = new Browser(kit)
    await browser.request((s) => s.signIn('victim'))
    const token = browser.cookie!
    const port = server.port
    await server.stop()

    const err = await browser.open().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreUnavailableError)
    expect(err).toMatchObject({ code: 'SESSIONKIT_STORE_UNAVAILABLE', statusCode: 503 })
    expect(browser.cookie).toBe(token)
    await expect(kit.listSessions('victim')).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(kit.revokeAllSessions('victim')).rejects.toBeInstanceOf(StoreUnavailableError)
    const anon = new Browser(kit)
    await expect(anon.request((s) => s.set('x', 1))).rejects.toBeInstanceOf(StoreUnavailableError)
    expect(anon.cookie).toBeUndefined()
    // A visitor without a cookie who stores nothing does not need Redis at all.
    await expect(new Browser(kit).request((s) => s.get('x'))).resolves.toBeUndefined()

    server = await startRedis([], port)
    const deadline = Date.now() + 15_000
    for (;;) {
      try {
        // Through the script path: it fails fast until the client is connected (and ready) again.
        await kit.listSessions('victim')
        break
      } catch (error) {
        if (Date.now() > deadline) throw error
        await sleep(100)
      }
    }
    // The restarted server has no data: the old cookie names no session (a clean "no session" now).
    const req = await browser.open()
    expect(req.session.isNew).toBe(true)
    await browser.request((s) => s.set('back', true))
    expect(await browser.request((s) => s.get('back'))).toBe(true)
  })

  it('paused (SIGSTOP): a call fails at its deadline with StoreUnavailableError', async () => {
    server = await startRedis()
    const timeoutMs = 300
    backend = await openBackend(name, { url: server.url, timeoutMs })
    const kit = kitOf(backend)
    const browser = new Browser(kit)
    await browser.request((s) => s.signIn('paused'))
    process.kill(server.child.pid!, 'SIGSTOP')
    const err = await browser.open().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StoreUnavailableError)
    expect((err as Error).message).toContain(`did not answer within ${timeoutMs} ms`)
    await expect(kit.listSessions('paused')).rejects.toBeInstanceOf(StoreUnavailableError)
    process.kill(server.child.pid!, 'SIGCONT')
  })

  for (const order of ['save first', 'sign-out first'] as const) {
    it(`paused: a save and a sign-out that both timed out never take effect after resume (${order})`, async () => {
      server = await startRedis()
      backend = await openBackend(name, { url: server.url, timeoutMs: 200 })
      const kit = kitOf(backend)
      const browser = new Browser(kit)
      await browser.request((s) => s.signIn('late'))
      const token = browser.cookie!
      const [slow, signOut] = [await browser.open(), await browser.open()]
      process.kill(server.child.pid!, 'SIGSTOP')
      slow.session.set('late', 'write')
      const save = () => slow.commit()
      const destroy = () => signOut.session.signOut()
      const steps = order === 'save first' ? [save, destroy] : [destroy, save]
      const results = []
      for (const step of steps) results.push(await step().catch((e: unknown) => e))
      for (const result of results) expect(result).toBeInstanceOf(StoreUnavailableError)
      process.kill(server.child.pid!, 'SIGCONT')
      // Both commands reach Redis now, past their deadlines: the scripts refuse them. The application answered
      // both with a 503, so neither may take effect: the session is alive, without the late write.
      await backend.send('probe', ['PING'])
      await sleep(100)
      const stored = await backend.store.inspect(refFromToken(token))
      expect(stored).toBeDefined()
      expect(new Map(stored!.fields).has('d:late')).toBe(false)
      expect(await kit.listSessions('late')).toHaveLength(1)
      const again = await new Browser(kit, { cookie: token }).open()
      expect(again.session.userId).toBe('late')
    })
  }

  it('paused: a sign-in whose calls timed out never signs the user out later, nor leaves a ghost session', async () => {
    server = await startRedis()
    backend = await openBackend(name, { url: server.url, timeoutMs: 200 })
    const kit = kitOf(backend)
    const user = `ghost-${Math.random()}`
    const signedIn = new Browser(kit)
    await signedIn.request((s) => s.signIn(user))
    const anonymous = new Browser(kit)
    await anonymous.request((s) => s.set('cart', [1]))
    const [again, signingIn] = [await signedIn.open(), await anonymous.open()]
    process.kill(server.child.pid!, 'SIGSTOP')
    // Both sign-ins time out while Redis is frozen (the claim of the anonymous one, the claim of the re-sign-in).
    await expect(again.session.signIn(user)).rejects.toBeInstanceOf(StoreUnavailableError)
    await expect(signingIn.session.signIn(user)).rejects.toBeInstanceOf(StoreUnavailableError)
    process.kill(server.child.pid!, 'SIGCONT')
    await backend.send('probe', ['PING'])
    await sleep(100)
    // The claims reached Redis past their deadlines and were refused: both old cookies still work...
    expect(await signedIn.request((s) => s.userId)).toBe(user)
    expect(await anonymous.request((s) => s.get('cart'))).toEqual([1])
    // ...and no session was created that nobody holds.
    expect(await kit.listSessions(user)).toHaveLength(1)
  })

  it('paused: calls beyond maxInFlight fail at once, and a timed-out call is not re-sent after NOSCRIPT', async () => {
    server = await startRedis()
    backend = await openBackend(name, {
      url: server.url,
      timeoutMs: 300,
      store: { maxInFlight: 5, circuitBreaker: false },
    })
    const kit = kitOf(backend)
    await kit.listSessions('warm-up')
    const control = new Redis(server.url)
    control.on('error', () => undefined)
    const monitor = await new Redis(server.url).monitor()
    monitor.on('error', () => undefined)
    const seen: string[] = []
    monitor.on('monitor', (_time: string, args: string[]) => seen.push(String(args[0]).toUpperCase()))
    await control.script('FLUSH')
    process.kill(server.child.pid!, 'SIGSTOP')
    const calls = Array.from({ length: 8 }, (_, i) =>
      kit.listSessions(`queued-${i}`).catch((e: unknown) => e),
    )
    // Refused before being sent (the message says why), not timed out like the first five.
    for (const error of await Promise.all(calls.slice(5))) expect(String(error)).toContain('maxInFlight')
    for (const error of await Promise.all(calls.slice(0, 5)))
      expect(error).toBeInstanceOf(StoreUnavailableError)
    process.kill(server.child.pid!, 'SIGCONT')
    await control.echo('after-resume')
    await sleep(200)
    // The five queued EVALSHAs ran into NOSCRIPT (the cache was flushed): none is re-sent as EVAL.
    expect(seen.filter((command) => command === 'EVALSHA')).toHaveLength(5)
    expect(seen.filter((command) => command === 'EVAL')).toEqual([])
    monitor.disconnect()
    control.disconnect()
  })

  it('killed: after repeated failures calls fail at once (circuit open), then one probe closes it again', async () => {
    server = await startRedis()
    const port = server.port
    backend = await openBackend(name, {
      url: server.url,
      timeoutMs: 300,
      store: { circuitBreaker: { failures: 2, cooldownMs: 400 } },
    })
    const kit = kitOf(backend)
    await kit.listSessions('warm-up')
    await server.stop()
    const failures: unknown[] = []
    for (let i = 0; i < 4; i++) failures.push(await kit.listSessions('down').catch((e: unknown) => e))
    for (const error of failures) expect(error).toBeInstanceOf(StoreUnavailableError)
    expect(String(failures.at(-1))).toMatch(/not connected|failed repeatedly/)
    server = await startRedis([], port)
    const deadline = Date.now() + 15_000
    for (;;) {
      const result = await kit.listSessions('back').catch((e: unknown) => e)
      if (Array.isArray(result)) break
      if (Date.now() > deadline) throw result
      await sleep(100)
    }
    expect(await kit.listSessions('back')).toEqual([])
  })
})
