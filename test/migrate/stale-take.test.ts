/**
 * A migration's call that timed out never takes effect later: with Redis frozen, the first request carrying a
 * legacy cookie gets a 503 (store failure), and when Redis thaws the queued take is refused by the script
 * (its deadline passed), so the legacy session is still there for the next request — not deleted behind the
 * visitor's back with nothing adopted.
 */
import { sign } from 'cookie-signature'
import { createClient } from 'redis'
import { createSessionkit, StoreUnavailableError, RedisStore } from 'sessionkit'
import { fromExpressSession } from 'sessionkit/migrate'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Browser, sleep } from '../helpers/browser.js'
import { startRedis, type RedisProcess } from '../helpers/redis-server.js'

const SECRET = 'keyboard cat'

describe('a legacy take that timed out', () => {
  let server: RedisProcess
  let client: ReturnType<typeof createClient>

  beforeAll(async () => {
    server = await startRedis()
    client = createClient({ url: server.url })
    client.on('error', () => undefined)
    await client.connect()
  })
  afterAll(async () => {
    if (server.child.exitCode === null) process.kill(server.child.pid!, 'SIGCONT')
    client.destroy()
    await server.stop()
  })

  it('does not delete the legacy session when Redis comes back', async () => {
    const sid = 'legacy-session-id-0001'
    const key = `sess:${sid}`
    await client.set(key, JSON.stringify({ cookie: { path: '/' }, cart: [7] }), { PX: 60_000 })
    const kit = createSessionkit({
      store: new RedisStore({ client, timeoutMs: 300, circuitBreaker: false }),
      cookie: { secure: false },
      deviceParser: false,
      migrateFrom: fromExpressSession({ client, secret: SECRET, timeoutMs: 300 }),
    })
    const cookie = `connect.sid=${encodeURIComponent(`s:${sign(sid, SECRET)}`)}`
    // The migration's clock is learnt first (a TIME), as it would be by any earlier legacy visitor.
    const unknown = `connect.sid=${encodeURIComponent(`s:${sign('nobody-has-this-sid', SECRET)}`)}`
    expect((await new Browser(kit).open(unknown)).session.isNew).toBe(true)
    process.kill(server.child.pid!, 'SIGSTOP')
    const error = await new Browser(kit).open(cookie).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreUnavailableError)
    process.kill(server.child.pid!, 'SIGCONT')
    await client.ping()
    await sleep(100)
    expect(await client.get(key)).not.toBeNull()
    // And the next request adopts it.
    const adopted = await new Browser(kit).open(cookie)
    expect(adopted.session.get('cart')).toEqual([7])
    expect(await client.get(key)).toBeNull()
  })
})
