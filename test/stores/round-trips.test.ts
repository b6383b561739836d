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
  let monitor: Redis
  const seen: { args: string[]; source: string }[] = []
  let markers = 0

  beforeAll(async () => {
    server = await startRedis()
    backend = await openBackend(name, { url: server.url })
    kit = kitOf(backend)
    control = new Redis(server.url)
    // EVAL caches a script, so on a fresh server each script's first call is EVALSHA, NOSCRIPT, EVAL: load them
    // first to count the steady state (the NOSCRIPT path has its own test).
    for (const script of Object.values(scripts)) await control.script('LOAD', script.source)
    monitor = await control.monitor()
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      seen.push({ args, source })
    })
  })
  afterAll(async () => {
    monitor.disconnect()
    control.disconnect()
    await backend.close()
    await server.stop()
  })

  /** The commands (not counting those run inside scripts) that `fn` sent to Redis. */
  async function commandsOf(fn: () => Promise<unknown>): Promise<string[]> {
    const id = ++markers
    await control.echo(`start-${id}`)
    await fn()
    await control.echo(`end-${id}`)
    const deadline = Date.now() + 10_000
    while (!seen.some((c) => c.args[1] === `end-${id}`)) {
      if (Date.now() > deadline) throw new Error('MONITOR did not see the end marker')
      await sleep(5)
    }
    const start = seen.findIndex((c) => c.args[1] === `start-${id}`)
    const end = seen.findIndex((c) => c.args[1] === `end-${id}`)
    return seen
      .slice(start + 1, end)
      .filter((c) => c.source !== 'lua')
      .map((c) => c.args[0]!.toUpperCase())
  }

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
        await backend.store.ping()
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

  it('paused (SIGSTOP): a call fails within the store timeout', async () => {
    server = await startRedis()
    const timeoutMs = 300
    backend = await openBackend(name, { url: server.url, timeoutMs })
    const kit = kitOf(backend)
    const browser = new Browser(kit)
    await browser.request((s) => s.signIn('paused'))
    process.kill(server.child.pid!, 'SIGSTOP')
    const started = performance.now()
    const err = await browser.open().catch((e: unknown) => e)
    const elapsed = performance.now() - started
    expect(err).toBeInstanceOf(StoreUnavailableError)
    expect(elapsed).toBeLessThan(timeoutMs + 2000)
    const started2 = performance.now()
    await expect(kit.listSessions('paused')).rejects.toBeInstanceOf(StoreUnavailableError)
    expect(performance.now() - started2).toBeLessThan(timeoutMs + 2000)
    process.kill(server.child.pid!, 'SIGCONT')
  })

  for (const order of ['save first', 'sign-out first'] as const) {
    it(`paused: a save and a sign-out that both timed out leave no session after resume (${order})`, async () => {
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
      // Both commands still run, late, in the order they were sent; neither may leave the session alive.
      const deadline = Date.now() + 10_000
      let found = true
      while (Date.now() < deadline) {
        found = (await backend.store.inspect(refFromToken(token))) !== undefined
        if (!found && (await kit.listSessions('late')).length === 0) break
        await sleep(50)
      }
      expect(found).toBe(false)
      expect(await kit.listSessions('late')).toEqual([])
      expect((await new Browser(kit, { cookie: token }).open()).session.isNew).toBe(true)
    })
  }
})
