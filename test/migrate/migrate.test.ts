/**
 * Lazy migration (`sessionkit/migrate`) on real HTTP servers against real Redis: a single node and a 3-master
 * Cluster, each over node-redis and ioredis. Legacy sessions are written as connect-redis writes them
 * (`<prefix><sid>` holding express-session's or @fastify/session's JSON) and their cookies signed by the peers'
 * own signers (cookie-signature, @fastify/cookie).
 */
import { Signer } from '@fastify/cookie'
import { sign } from 'cookie-signature'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSessionkit, type Sessionkit } from 'sessionkit'
import { fromExpressSession, fromFastifySession } from 'sessionkit/migrate'
import { ALL_BACKENDS, openBackend, type Backend } from '../helpers/backends.js'
import { call, type Reply } from '../helpers/http.js'
import { startCompatApp, type CompatApp } from '../compat/compat-apps.js'

const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const SECRET = 'keyboard cat'
const OLD_SECRET = 'the secret before the rotation'
const FASTIFY_SECRET = 'a fastify secret of at least thirty-two characters'
const DAY_MS = 86_400_000

/** express-session's cookie field, as connect-redis stores it. */
const LEGACY_COOKIE = { originalMaxAge: null, expires: null, httpOnly: true, path: '/' }

const randomId = (): string =>
  Math.random().toString(36).slice(2, 14) + Math.random().toString(36).slice(2, 14)

/** express-session's cookie: `s:` + cookie-signature, URI-encoded as the `cookie` library writes it. */
function expressCookie(sid: string, secret = SECRET): string {
  return `connect.sid=${encodeURIComponent(`s:${sign(sid, secret)}`)}`
}

/** @fastify/session's cookie: @fastify/cookie's signer, URI-encoded. */
function fastifyCookie(sid: string, prefix = ''): string {
  return `sessionId=${encodeURIComponent(prefix + new Signer(FASTIFY_SECRET).sign(sid))}`
}

describe.each(ALL_BACKENDS.filter((name) => name !== 'memory'))('%s', (backendName) => {
  let backend: Backend
  let legacyPrefix: string
  let kit: Sessionkit
  let express: CompatApp
  let fastifyKit: Sessionkit
  let fastify: CompatApp

  beforeAll(async () => {
    backend = await openBackend(backendName)
    legacyPrefix = `${backend.prefix}sess:`
    const client = backend.client!
    kit = createSessionkit({
      store: backend.store,
      cookie: { secure: false },
      migrateFrom: fromExpressSession({
        client,
        prefix: legacyPrefix,
        cookieName: 'connect.sid',
        secret: [SECRET, OLD_SECRET],
        userId: (data) => (data.passport as { user?: string } | undefined)?.user,
      }),
    })
    express = await startCompatApp('express5', kit)
    fastifyKit = createSessionkit({
      store: backend.store,
      cookie: { secure: false },
      migrateFrom: fromFastifySession({
        client,
        prefix: legacyPrefix,
        cookieName: 'sessionId',
        secret: FASTIFY_SECRET,
        userId: (data) => data.passport,
      }),
    })
    fastify = await startCompatApp('fastify', fastifyKit)
  })

  afterAll(async () => {
    await express.close()
    await fastify.close()
    await backend.close()
  })

  /** Stores a legacy session as connect-redis does (JSON string with a TTL). Returns its sid. */
  async function legacy(data: Record<string, unknown>, sid = randomId()): Promise<string> {
    const key = legacyPrefix + sid
    await backend.send(key, [
      'SET',
      key,
      JSON.stringify({ cookie: LEGACY_COOKIE, ...data }),
      'PX',
      String(DAY_MS),
    ])
    return sid
  }

  async function raw(key: string, value: string): Promise<void> {
    await backend.send(key, ['SET', key, value, 'PX', String(DAY_MS)])
  }

  async function legacyValue(sid: string): Promise<{ value: unknown; pttl: number }> {
    const key = legacyPrefix + sid
    const value = await backend.send(key, ['GET', key])
    const pttl = Number(await backend.send(key, ['PTTL', key]))
    return { value, pttl }
  }

  function get(app: CompatApp, path: string, cookie: string): Promise<Reply> {
    return call(app.url, 'GET', path, { cookie, headers: { 'user-agent': CHROME } })
  }

  const sessionkitCookie = (reply: Reply): string | undefined =>
    reply.setCookies.find((c) => c.startsWith('sid=') && !/Max-Age=0/.test(c))?.split(';', 1)[0]

  const user = (): string => `m${randomId().slice(0, 10)}`

  describe('express-session + connect-redis', () => {
    it('adopts a signed-in session: its data, its user (with device), the legacy key and cookie gone', async () => {
      const alice = user()
      const sid = await legacy({
        passport: { user: alice },
        cart: { items: [1, 2] },
        when: '2026-11-30T10:00:00.000Z',
      })
      const reply = await get(express, '/enumerate', expressCookie(sid))
      expect(reply.status).toBe(200)
      expect(reply.body).toMatchObject({
        keys: ['cart', 'passport', 'when'],
        json: { cart: { items: [1, 2] }, passport: { user: alice }, when: '2026-11-30T10:00:00.000Z' },
      })
      const cookie = sessionkitCookie(reply)
      expect(cookie).toMatch(/^sid=/)
      expect(reply.setCookies.find((c) => c.startsWith('connect.sid='))).toMatch(/Max-Age=0/)
      expect((await legacyValue(sid)).value).toBeNull()
      const listed = await kit.listSessions(alice)
      expect(listed).toHaveLength(1)
      expect(listed[0]).toMatchObject({ browser: 'Chrome', os: 'Windows', current: false })
      // The next request (the browser may still send the legacy cookie too) is that session.
      const next = await get(express, '/read?key=cart', `${cookie!}; ${expressCookie(sid)}`)
      expect(next.body).toMatchObject({ value: { items: [1, 2] }, user: alice, id: listed[0]!.id })
      expect(next.setCookies).toEqual([])
    })

    it('accepts a cookie signed with an older secret of the rotation list', async () => {
      const bob = user()
      const sid = await legacy({ passport: { user: bob } })
      const reply = await get(express, '/read', expressCookie(sid, OLD_SECRET))
      expect(reply.body).toMatchObject({ user: bob })
    })

    it('keeps a persistent legacy cookie persistent (remember-me), and a browser-session one not', async () => {
      const henry = user()
      const expires = new Date(Date.now() + 20 * DAY_MS).toISOString()
      const sid = await legacy({ passport: { user: henry } })
      const key = legacyPrefix + sid
      const stored = JSON.parse(String(await backend.send(key, ['GET', key]))) as Record<string, unknown>
      await raw(
        key,
        JSON.stringify({ ...stored, cookie: { ...LEGACY_COOKIE, originalMaxAge: 20 * DAY_MS, expires } }),
      )
      const reply = await get(express, '/read', expressCookie(sid))
      expect(reply.setCookies.find((c) => c.startsWith('sid='))).toMatch(/Max-Age=[1-9]/)
      expect((await kit.listSessions(henry))[0]?.rememberMe).toBe(true)
      const ivy = user()
      const plain = await get(express, '/read', expressCookie(await legacy({ passport: { user: ivy } })))
      expect(plain.setCookies.find((c) => c.startsWith('sid='))).not.toMatch(/Max-Age/)
      expect((await kit.listSessions(ivy))[0]?.rememberMe).toBe(false)
    })

    it('adopts an anonymous session as an anonymous one, with its data', async () => {
      const sid = await legacy({ k: 'guest data' })
      const reply = await get(express, '/read', expressCookie(sid))
      expect(reply.body).toMatchObject({ value: 'guest data', user: null })
      const cookie = sessionkitCookie(reply)!
      expect((await get(express, '/read', cookie)).body).toMatchObject({ value: 'guest data' })
    })

    it('treats a forged, unsigned or wrongly signed cookie as anonymous and leaves the legacy key alone', async () => {
      const sid = await legacy({ passport: { user: user() } })
      const signed = `s:${sign(sid, SECRET)}`
      const bad = [
        `connect.sid=${encodeURIComponent(`${signed.slice(0, -2)}xy`)}`, // forged signature
        `connect.sid=${encodeURIComponent(`s:${sid}`)}`, // no signature
        `connect.sid=${sid}`, // unsigned value
        expressCookie(sid, 'somebody else'), // another secret
        `connect.sid=${encodeURIComponent(`s:${sid}x.${signed.slice(signed.lastIndexOf('.') + 1)}`)}`, // tampered sid
        `connect.sid=${encodeURIComponent(signed)}; connect.sid=${encodeURIComponent(`s:${sign('other', SECRET)}`)}`, // ambiguous
        `connect.sid=%E0%A4%A`, // undecodable
        `connect.sid=${'s%3A'.repeat(2000)}`, // oversized
      ]
      const before = await legacyValue(sid)
      for (const cookie of bad) {
        const reply = await get(express, '/read', cookie)
        expect(reply.status, cookie).toBe(200)
        expect(reply.body, cookie).toMatchObject({ user: null, value: null })
        expect(sessionkitCookie(reply), cookie).toBeUndefined()
      }
      const after = await legacyValue(sid)
      expect(after.value).toBe(before.value)
      expect(after.pttl).toBeGreaterThan(DAY_MS - 60_000)
    })

    it('answers a valid cookie whose legacy session is gone with anonymous, clearing the legacy cookie', async () => {
      const reply = await get(express, '/read', expressCookie(randomId()))
      expect(reply.body).toMatchObject({ user: null })
      expect(sessionkitCookie(reply)).toBeUndefined()
      expect(reply.setCookies.find((c) => c.startsWith('connect.sid='))).toMatch(/Max-Age=0/)
    })

    it('leaves a legacy key that is not a JSON object alone (unparsable, array, string, a hash)', async () => {
      const cases: [string, () => Promise<void>][] = []
      for (const text of ['{"passport":', '[1,2]', '"just a string"', '{not json}']) {
        const sid = randomId()
        cases.push([sid, () => raw(legacyPrefix + sid, text)])
      }
      const hashSid = randomId()
      cases.push([
        hashSid,
        async () => {
          const key = legacyPrefix + hashSid
          await backend.send(key, ['HSET', key, 'passport', 'x'])
          await backend.send(key, ['PEXPIRE', key, String(DAY_MS)])
        },
      ])
      for (const [sid, write] of cases) {
        await write()
        const key = legacyPrefix + sid
        const type = await backend.send(key, ['TYPE', key])
        const reply = await get(express, '/read', expressCookie(sid))
        expect(reply.status, sid).toBe(200)
        expect(reply.body, sid).toMatchObject({ user: null })
        expect(sessionkitCookie(reply), sid).toBeUndefined()
        expect(await backend.send(key, ['TYPE', key]), sid).toBe(type)
        expect(Number(await backend.send(key, ['EXISTS', key])), sid).toBe(1)
      }
    })

    it('migrates a legacy key at most once: 20 concurrent first requests make exactly one session', async () => {
      const carol = user()
      const sid = await legacy({ passport: { user: carol }, k: 'once' })
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => get(express, '/read', expressCookie(sid))),
      )
      expect(replies.every((r) => r.status === 200)).toBe(true)
      const adopted = replies.filter((r) => sessionkitCookie(r) !== undefined)
      expect(adopted).toHaveLength(1)
      expect(adopted[0]!.body).toMatchObject({ user: carol, value: 'once' })
      expect(await kit.listSessions(carol)).toHaveLength(1)
      expect((await legacyValue(sid)).value).toBeNull()
      const hashes = (await backend.keys()).filter((k) => k.key.includes(':s:'))
      const mine = hashes.filter((k) =>
        k.key.includes(`:s:${(adopted[0]!.body as { id: string }).id.slice(4)}`),
      )
      expect(mine).toHaveLength(1)
    })

    it('drops the keys sessionkit cannot store (with a warning) and carries the rest', async () => {
      const dave = user()
      let deep: unknown = 'bottom'
      for (let i = 0; i < 70; i++) deep = [deep]
      const deepKey = `deep_${randomId()}`
      const sid = await legacy({ passport: { user: dave }, [deepKey]: deep, fine: 'kept' })
      const warnings: { code?: string; message: string }[] = []
      const onWarning = (warning: Error & { code?: string }): void => {
        warnings.push(warning)
      }
      process.on('warning', onWarning)
      try {
        const reply = await get(express, '/enumerate', expressCookie(sid))
        expect(reply.body).toMatchObject({ keys: ['fine', 'passport'] })
        await new Promise((resolve) => setImmediate(resolve))
      } finally {
        process.off('warning', onWarning)
      }
      const dropped = warnings.find((w) => w.code === 'SESSIONKIT_LEGACY_KEY_DROPPED')
      expect(dropped?.message).toContain(deepKey)
      expect(dropped?.message).not.toContain('bottom')
      expect(await kit.listSessions(dave)).toHaveLength(1)
    })

    it('puts the legacy session back when it cannot be adopted (a userId that is no user id)', async () => {
      const client = backend.client!
      const strict = createSessionkit({
        store: backend.store,
        cookie: { secure: false },
        migrateFrom: fromExpressSession({ client, prefix: legacyPrefix, secret: SECRET, userId: () => ({}) }),
      })
      const app = await startCompatApp('express5', strict)
      try {
        const sid = await legacy({ passport: { user: user() } })
        const before = await legacyValue(sid)
        const reply = await get(app, '/read', expressCookie(sid))
        expect(reply.status).toBe(500)
        expect((reply.body as { code: string }).code).toBe('SESSIONKIT_INVALID_USER_ID')
        expect(reply.setCookies.find((c) => c.startsWith('connect.sid='))).toBeUndefined()
        const after = await legacyValue(sid)
        expect(after.value).toBe(before.value)
        expect(after.pttl).toBeGreaterThan(DAY_MS - 60_000)
      } finally {
        await app.close()
      }
    })
  })

  describe('@fastify/session', () => {
    it('adopts a signed-in session: data, user, device; legacy key and cookie gone', async () => {
      const erin = user()
      const sid = await legacy({ passport: erin, cart: { items: ['a'] } })
      const reply = await get(fastify, '/read?key=cart', fastifyCookie(sid))
      expect(reply.body).toMatchObject({ user: erin, value: { items: ['a'] } })
      expect(sessionkitCookie(reply)).toMatch(/^sid=/)
      expect(reply.setCookies.find((c) => c.startsWith('sessionId='))).toMatch(/Max-Age=0/)
      expect((await legacyValue(sid)).value).toBeNull()
      expect((await fastifyKit.listSessions(erin))[0]).toMatchObject({ browser: 'Chrome' })
    })

    it('reads a cookie with a cookiePrefix, and refuses one signed for another secret', async () => {
      const client = backend.client!
      const prefixed = createSessionkit({
        store: backend.store,
        cookie: { secure: false },
        migrateFrom: fromFastifySession({
          client,
          prefix: legacyPrefix,
          cookiePrefix: 's:',
          secret: ['a newer secret that is long enough to pass', FASTIFY_SECRET],
          userId: (data) => data.passport,
        }),
      })
      const app = await startCompatApp('fastify', prefixed)
      try {
        const frank = user()
        const sid = await legacy({ passport: frank })
        const unprefixed = await get(app, '/read', fastifyCookie(sid))
        expect(unprefixed.body).toMatchObject({ user: null })
        const other = `sessionId=${encodeURIComponent(`s:${new Signer('another secret, not in the list at all').sign(sid)}`)}`
        expect((await get(app, '/read', other)).body).toMatchObject({ user: null })
        expect((await legacyValue(sid)).value).not.toBeNull()
        expect((await get(app, '/read', fastifyCookie(sid, 's:'))).body).toMatchObject({ user: frank })
      } finally {
        await app.close()
      }
    })

    it('migrates a legacy key at most once under 20 concurrent first requests', async () => {
      const grace = user()
      const sid = await legacy({ passport: grace })
      const replies = await Promise.all(
        Array.from({ length: 20 }, () => get(fastify, '/read', fastifyCookie(sid))),
      )
      expect(replies.filter((r) => sessionkitCookie(r) !== undefined)).toHaveLength(1)
      expect(await fastifyKit.listSessions(grace)).toHaveLength(1)
      expect((await legacyValue(sid)).value).toBeNull()
    })
  })
})
