/**
 * Races and injected failures that break today's peers (express-session#632, @fastify/session's resurrection
 * bug, Spring's changeSessionIdSaveConcurrently): each must leave the store consistent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSessionkit,
  SessionConflictError,
  type Sessionkit,
  type SessionkitOptions,
} from '../../src/index.js'
import { refFromToken } from '../../src/core/token.js'
import { toUserRef } from '../../src/core/user-id.js'
import type { CreateSpec, SessionStore } from '../../src/core/store.js'
import type { AdminStore } from '../../src/admin/admin-store.js'
import { CORE_BACKENDS, instrumentStore, openBackend, type Backend } from '../helpers/backends.js'
import { Browser, sleep } from '../helpers/browser.js'

let seq = 0
function newUser(): string {
  return `race-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 6)}`
}

function jitter(): Promise<void> {
  const ms = Math.floor(Math.random() * 4)
  return ms === 0 ? Promise.resolve() : sleep(ms)
}

/** Live sessions of `user` found by walking the whole store (not its index). */
async function liveSessionIds(store: AdminStore, user: string): Promise<string[]> {
  const encoded = toUserRef(user).encoded
  const ids: string[] = []
  await store.scanSessions((batch) => {
    for (const s of batch.sessions) if (new Map(s.fields).get('_u') === encoded) ids.push(s.ref.id)
  })
  return ids.sort()
}

describe.each(CORE_BACKENDS)('races: %s', (name) => {
  let backend: Backend
  let kit: Sessionkit
  const kitFor = (store: SessionStore, options: Omit<SessionkitOptions, 'store'> = {}): Sessionkit =>
    createSessionkit({ store, cookie: { secure: false }, deviceParser: false, ...options })

  beforeAll(async () => {
    backend = await openBackend(name)
    kit = kitFor(backend.store)
  })
  afterAll(async () => {
    await backend.close()
  })

  async function alive(token: string | undefined, k = kit): Promise<boolean> {
    if (token === undefined) return false
    return !(await new Browser(k, { cookie: token }).open()).session.isNew
  }

  async function signedIn(user: string, k = kit): Promise<Browser> {
    const browser = new Browser(k)
    await browser.request((s) => s.signIn(user))
    return browser
  }

  /** The index (what list sees) equals the live set (what a full walk sees). */
  async function expectIndexConsistent(user: string): Promise<string[]> {
    const listed = (await kit.listSessions(user)).map((s) => s.id).sort()
    expect(listed).toEqual(await liveSessionIds(backend.store, user))
    return listed
  }

  it('100 concurrent requests each setting a distinct key leave all 100 keys', async () => {
    for (const signIn of [false, true]) {
      const browser = new Browser(kit)
      await browser.request(async (s) => {
        s.set('seed', true)
        if (signIn) await s.signIn(newUser())
      })
      const requests = await Promise.all(Array.from({ length: 100 }, () => browser.open()))
      await Promise.all(
        requests.map(async (req, i) => {
          await jitter()
          req.session.set(`key${i}`, { i })
          req.session.namespace('ns').set(`n${i}`, i)
          await req.commit()
        }),
      )
      const [data, ns] = await browser.request((s) => [s.toObject(), s.namespace('ns').toObject()] as const)
      for (let i = 0; i < 100; i++) {
        expect(data[`key${i}`]).toEqual({ i })
        expect(ns[`n${i}`]).toBe(i)
      }
    }
  })

  it('a slow save that started before a sign-out leaves no session behind', async () => {
    const rounds = 200
    for (let batch = 0; batch < rounds; batch += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const user = newUser()
          const browser = await signedIn(user)
          const token = browser.cookie!
          const slow = await Promise.all([browser.open(), browser.open(), browser.open()])
          const signOut = await browser.open()
          await Promise.all([
            ...slow.map(async (req, i) => {
              await jitter()
              req.session.set(`slow${i}`, i)
              req.session.delete('nothing')
              await req.commit()
            }),
            (async () => {
              await jitter()
              await signOut.session.signOut()
              await signOut.commit()
            })(),
            // A request that arrives late, after the sign-out, must not bring it back either.
            (async () => {
              await jitter()
              const late = await new Browser(kit, { cookie: token }).open()
              late.session.set('late', 1)
              await late.commit()
            })(),
          ])
          expect(await backend.store.inspect(refFromToken(token))).toBeUndefined()
          expect(await alive(token)).toBe(false)
          expect(await kit.listSessions(user)).toEqual([])
          expect(await liveSessionIds(backend.store, user)).toEqual([])
        }),
      )
    }
  })

  it('a slow save that started before a revoke-all from another device leaves no session behind', async () => {
    for (let batch = 0; batch < 200; batch += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const user = newUser()
          const victim = await signedIn(user)
          const other = await signedIn(user)
          const token = victim.cookie!
          const slow = await Promise.all([victim.open(), victim.open()])
          await Promise.all([
            ...slow.map(async (req, i) => {
              await jitter()
              req.session.set(`slow${i}`, i)
              await req.commit()
            }),
            (async () => {
              await jitter()
              await other.request((s) => s.revokeOtherSessions())
            })(),
          ])
          expect(await backend.store.inspect(refFromToken(token))).toBeUndefined()
          expect(await alive(token)).toBe(false)
          expect(await expectIndexConsistent(user)).toEqual([refFromToken(other.cookie!).id])
        }),
      )
    }
  })

  for (const operation of ['rotate', 'signIn'] as const) {
    it(`a rotation race leaves exactly one valid token (${operation})`, async () => {
      for (let round = 0; round < 30; round++) {
        const user = newUser()
        const original = await signedIn(user)
        const tabs = [
          new Browser(kit, { cookie: original.cookie }),
          new Browser(kit, { cookie: original.cookie }),
        ]
        const requests = await Promise.all(tabs.map((t) => t.open()))
        const results = await Promise.allSettled(
          requests.map(async (req) => {
            await jitter()
            await (operation === 'rotate' ? req.session.rotate() : req.session.signIn(user))
            await req.commit()
          }),
        )
        const rejected = results.filter((r) => r.status === 'rejected')
        expect(rejected).toHaveLength(1)
        expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(SessionConflictError)
        expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({
          code: 'SESSIONKIT_SESSION_CONFLICT',
        })
        const tokens = new Set([original.cookie, ...tabs.map((t) => t.cookie)])
        expect(tokens.size).toBe(2)
        const valid: string[] = []
        for (const token of tokens) if (await alive(token)) valid.push(token!)
        expect(valid).toHaveLength(1)
        expect(valid[0]).not.toBe(original.cookie)
        expect(await expectIndexConsistent(user)).toEqual([refFromToken(valid[0]!).id])
      }
    })
  }

  it('two users signing in on one anonymous session: one wins, the other gets a conflict', async () => {
    for (let round = 0; round < 20; round++) {
      const anon = new Browser(kit)
      await anon.request((s) => s.set('cart', [1]))
      const users = [newUser(), newUser()]
      const tabs = users.map(() => new Browser(kit, { cookie: anon.cookie }))
      const requests = await Promise.all(tabs.map((t) => t.open()))
      const results = await Promise.allSettled(
        requests.map(async (req, i) => {
          await jitter()
          await req.session.signIn(users[i]!)
        }),
      )
      const winner = results.findIndex((r) => r.status === 'fulfilled')
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1)
      const loser = 1 - winner
      expect(await alive(tabs[winner]!.cookie)).toBe(true)
      expect(await alive(anon.cookie)).toBe(false)
      expect(await expectIndexConsistent(users[loser]!)).toEqual([])
      expect(await expectIndexConsistent(users[winner]!)).toHaveLength(1)
    }
  })

  it('100 parallel sign-ins with a cap of 5 leave at most 5 live sessions, all indexed', async () => {
    const k = kitFor(backend.store, { maxSessionsPerUser: 5 })
    const user = newUser()
    const browsers = Array.from({ length: 100 }, () => new Browser(k))
    await Promise.all(browsers.map((b) => b.request((s) => s.signIn(user))))
    const live: string[] = []
    for (const b of browsers) if (await alive(b.cookie, k)) live.push(refFromToken(b.cookie!).id)
    expect(live.length).toBeGreaterThan(0)
    expect(live.length).toBeLessThanOrEqual(5)
    expect(await expectIndexConsistent(user)).toEqual(live.sort())
  })

  it('every key the races left behind has a TTL', async () => {
    const keys = await backend.keys()
    if (backend.redis) expect(keys.length).toBeGreaterThan(0)
    expect(keys.filter((k) => !(k.pttl > 0))).toEqual([])
  })

  describe('a crash injected between steps leaves the index consistent', () => {
    function crashingKit(mode: 'before-create' | 'after-create'): Sessionkit {
      const { store } = instrumentStore(backend.store, async (method, args, call) => {
        const spec = args[0] as CreateSpec
        if (method !== 'create' || spec.user === undefined) return call()
        if (mode === 'after-create') await call()
        throw new Error('injected crash')
      })
      return kitFor(store)
    }

    for (const mode of ['before-create', 'after-create'] as const) {
      for (const operation of ['signIn', 'rotate'] as const) {
        it(`${operation}, crash ${mode}`, async () => {
          const user = newUser()
          const others = [await signedIn(user), await signedIn(user)]
          const victim = await signedIn(user)
          const token = victim.cookie!
          const crashing = crashingKit(mode)
          const tab = new Browser(crashing, { cookie: token })
          await expect(
            tab.request((s) => (operation === 'rotate' ? s.rotate() : s.signIn(user))),
          ).rejects.toThrow('injected crash')
          // The claim went through: the old token is dead, and the cookie was not replaced.
          expect(tab.cookie).toBe(token)
          expect(await alive(token)).toBe(false)
          // No ghost in the index, no live session missing from it.
          const listed = await expectIndexConsistent(user)
          const expected = others.map((b) => refFromToken(b.cookie!).id)
          if (mode === 'before-create') expect(listed).toEqual(expected.sort())
          else expect(listed).toHaveLength(3)
          for (const id of expected) expect(listed).toContain(id)
          // Revoke-all finds and kills every live session, including an orphan whose reply was lost.
          expect(await kit.revokeAllSessions(user)).toBe(listed.length)
          expect(await liveSessionIds(backend.store, user)).toEqual([])
          for (const b of others) expect(await alive(b.cookie)).toBe(false)
        })
      }
    }
  })
})
