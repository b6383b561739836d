/**
 * Bad input (security-and-reliability.md C2, items 9-13 and 19-30): every case ends in a typed error or "no
 * session", never a crash, never more than one store call (each store call is one Redis round trip, see
 * round-trips.test.ts), and never loses or leaks anything.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  createSessionkit,
  HeadersSentError,
  InvalidSessionKeyError,
  InvalidSessionValueError,
  InvalidUserIdError,
  SessionConflictError,
  SessionTooLargeError,
  type Sessionkit,
  type SessionkitOptions,
} from '../../src/index.js'
import { generateToken, randomTag, refFromToken, tagForUser } from '../../src/core/token.js'
import { toUserRef } from '../../src/core/user-id.js'
import type { SessionStore } from '../../src/core/store.js'
import { instrumentStore, openBackend, type Backend, type BackendName } from '../helpers/backends.js'
import { Browser } from '../helpers/browser.js'

let seq = 0
function newUser(): string {
  return `bad-${process.pid}-${++seq}-${Math.random().toString(36).slice(2, 6)}`
}

/** Two distinct user ids whose sessions share one slot tag. */
function sameTagUsers(): [string, string] {
  const seen = new Map<string, string>()
  for (let i = 0; ; i++) {
    const id = `${newUser()}-${i}`
    const other = seen.get(tagForUser(id))
    if (other !== undefined) return [other, id]
    seen.set(tagForUser(id), id)
  }
}

afterEach(() => {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  expect(({} as Record<string, unknown>).isAdmin).toBeUndefined()
})

describe.each<BackendName>(['memory', 'node-redis single', 'ioredis cluster'])('bad input: %s', (name) => {
  let backend: Backend
  let counted: { store: SessionStore; calls: string[] }
  let kit: Sessionkit
  const kitFor = (options: Omit<SessionkitOptions, 'store'> = {}): Sessionkit =>
    createSessionkit({ store: counted.store, cookie: { secure: false }, deviceParser: false, ...options })

  beforeAll(async () => {
    backend = await openBackend(name)
    counted = instrumentStore(backend.store)
    kit = kitFor()
  })
  afterAll(async () => {
    await backend.close()
  })

  /** Runs `fn` and returns the store calls it made. */
  async function callsOf(fn: () => Promise<unknown>): Promise<string[]> {
    counted.calls.length = 0
    await fn()
    return [...counted.calls]
  }

  async function alive(token: string | undefined): Promise<boolean> {
    if (token === undefined) return false
    return !(await new Browser(kit, { cookie: token }).open()).session.isNew
  }

  async function signedIn(user: string): Promise<Browser> {
    const browser = new Browser(kit)
    await browser.request((s) => s.signIn(user))
    return browser
  }

  describe('session ids', () => {
    it('9. a well-formed never-issued id: one load, no session, nothing created under it', async () => {
      const forged = generateToken(randomTag())
      const browser = new Browser(kit, { cookie: forged })
      const calls = await callsOf(async () => {
        const req = await browser.open()
        expect(req.session.isNew).toBe(true)
        expect(req.session.get('anything')).toBeUndefined()
        await req.commit()
      })
      expect(calls).toEqual(['load'])
      await browser.request((s) => s.set('x', 1))
      expect(browser.cookie).not.toBe(forged)
      expect(await backend.store.inspect(refFromToken(forged))).toBeUndefined()
    })

    it('10. ids of destroyed, rotated-away and revoked sessions are rejected', async () => {
      const user = newUser()
      const destroyed = await signedIn(user)
      const destroyedToken = destroyed.cookie!
      await destroyed.request((s) => s.signOut())
      const rotated = await signedIn(user)
      const rotatedToken = rotated.cookie!
      await rotated.request((s) => s.rotate())
      const revoked = await signedIn(user)
      await kit.revokeSession(user, refFromToken(revoked.cookie!).id)
      for (const token of [destroyedToken, rotatedToken, revoked.cookie!]) {
        const calls = await callsOf(async () => {
          expect(await alive(token)).toBe(false)
        })
        expect(calls).toEqual(['load'])
      }
      expect(await alive(rotated.cookie)).toBe(true)
    })

    it.each([
      ['*', '*'],
      ['?', '?'],
      ['glob class', '[a-z]'],
      ['backslash', '\\'],
      ['key pattern', 'sess:*'],
      ['RESP injection', 'id\r\nFLUSHALL\r\n'],
      ['spaces', 'a b c'],
      ['64 KB', 'a'.repeat(65_536)],
      ['quoted', `"${generateToken('abc')}"`],
      ['bad escape', '%E0%A4%A'],
      ['NUL', '%00'],
      ['lone surrogate', '\uD800'],
      ['appended byte', generateToken('abc') + 'A'],
    ])('11. a malformed cookie (%s) makes no store call and is cleared', async (_name, value) => {
      const browser = new Browser(kit)
      let setCookies: string[] = []
      const calls = await callsOf(async () => {
        const req = await browser.open(`sid=${value}`)
        expect(req.session.isNew).toBe(true)
        req.session.set('x', 1)
        await req.commit()
        setCookies = req.binding.setCookies
      })
      expect(calls).toEqual(['create'])
      expect(setCookies[0]).toMatch(/^sid=;.*Max-Age=0/)
      expect(browser.cookie).toMatch(/^[0-9a-f]{3}\./)
    })

    it('12. fixation: signing in with an anonymous id issues a new one and kills the old', async () => {
      const browser = new Browser(kit)
      await browser.request((s) => s.set('pre', 1))
      const anonymous = browser.cookie!
      await browser.request((s) => s.signIn(newUser()))
      expect(browser.cookie).not.toBe(anonymous)
      expect(await alive(anonymous)).toBe(false)
      expect(await alive(browser.cookie)).toBe(true)
    })

    it('13. the private id shown on the sessions page never works as a cookie', async () => {
      const user = newUser()
      const browser = await signedIn(user)
      const [listed] = await kit.listSessions(user)
      for (const value of [
        listed!.id,
        listed!.id.slice(4),
        `${listed!.id.slice(0, 4)}${listed!.id.slice(4, 47)}`,
      ]) {
        const calls = await callsOf(async () => {
          const req = await new Browser(kit).open(`sid=${value}`)
          expect(req.session.isNew).toBe(true)
          expect(req.session.userId).toBeUndefined()
        })
        expect(calls.length).toBeLessThanOrEqual(1)
      }
      expect(await alive(browser.cookie)).toBe(true)
    })

    it('duplicate cookies with different values are ambiguous: no store call, no session', async () => {
      const user = newUser()
      const victim = await signedIn(user)
      const attacker = await signedIn(newUser())
      for (const header of [
        `sid=${attacker.cookie!}; sid=${victim.cookie!}`,
        `sid=${victim.cookie!}; sid=${attacker.cookie!}`,
      ]) {
        const calls = await callsOf(async () => {
          const req = await new Browser(kit).open(header)
          expect(req.session.isNew).toBe(true)
        })
        expect(calls).toEqual([])
      }
    })
  })

  describe('values written by the app', () => {
    it('22. values that do not round-trip fail with a typed error and no partial write', async () => {
      const browser = new Browser(kit)
      await browser.request((s) => s.set('kept', { a: 1 }))
      const bad: unknown[] = [
        10n,
        undefined,
        Number.NaN,
        new Date(),
        new Map(),
        { ok: 1, nested: { bad: () => 1 } },
        {
          toJSON() {
            throw new Error('boom')
          },
        },
        { [Symbol('s')]: 1 },
      ]
      const cyclic: Record<string, unknown> = {}
      cyclic.me = cyclic
      bad.push(cyclic)
      const calls = await callsOf(() =>
        browser.request((s) => {
          for (const value of bad) {
            expect(() => s.set('kept', value as never)).toThrow(InvalidSessionValueError)
            expect(() => s.namespace('ns').set('k', value as never)).toThrow(InvalidSessionValueError)
          }
          expect(s.get('kept')).toEqual({ a: 1 })
          expect(s.namespace('ns').size).toBe(0)
        }),
      )
      expect(calls).toEqual(['load'])
      expect(await browser.request((s) => s.get('kept'))).toEqual({ a: 1 })
    })

    it('bad keys and namespace names fail with InvalidSessionKeyError', async () => {
      await new Browser(kit).request((s) => {
        for (const key of ['', 'x'.repeat(257), 42, undefined, 'a\u0000b']) {
          expect(() => s.set(key as never, 1)).toThrow(InvalidSessionKeyError)
        }
        for (const ns of ['', 'a:b', 'a b', 'x'.repeat(65), '*']) {
          expect(() => s.namespace(ns)).toThrow(InvalidSessionKeyError)
        }
        expect(s.size).toBe(0)
      })
    })

    it('23. keys named like metadata never touch the metadata', async () => {
      const browser = new Browser(kit)
      await browser.request((s) => {
        for (const key of [
          '_u',
          '_ab',
          '_ls',
          '_c',
          '_si',
          '_im',
          'd:x',
          'n:ns:k',
          '__proto__',
          'constructor',
        ]) {
          s.set(key, 'admin')
        }
        s.namespace('_u').set('_ab', 0)
      })
      await browser.request((s) => {
        expect(s.userId).toBeUndefined()
        expect(s.impersonator).toBeUndefined()
        expect(s.absoluteExpiresAt!.getTime()).toBeGreaterThan(Date.now())
        expect(s.get('_u')).toBe('admin')
        expect(s.get('d:x')).toBe('admin')
        expect(s.namespace('_u').get('_ab')).toBe(0)
        expect(s.namespace('ns').get('k')).toBeUndefined()
        expect(s.size).toBe(10)
      })
    })

    it('24. a payload over maxSessionBytes is rejected before the store', async () => {
      const small = kitFor({ maxSessionBytes: 1024 })
      const browser = new Browser(small)
      const calls = await callsOf(() =>
        browser.request((s) => {
          s.set('a', 'x'.repeat(500))
          let caught: unknown
          try {
            s.set('b', 'y'.repeat(600))
          } catch (error) {
            caught = error
          }
          expect(caught).toBeInstanceOf(SessionTooLargeError)
          expect(caught).toMatchObject({ code: 'SESSIONKIT_SESSION_TOO_LARGE', key: 'b', limit: 1024 })
          expect(s.has('b')).toBe(false)
          // Replacing a value counts its new size only.
          s.set('a', 'z'.repeat(900))
        }),
      )
      expect(calls).toEqual(['create'])
      await browser.request((s) => {
        expect(s.get('a')).toBe('z'.repeat(900))
        expect(() => s.namespace('ns').set('k', 'w'.repeat(200))).toThrow(SessionTooLargeError)
      })
    })
  })

  describe('API arguments', () => {
    it("25. revoking another user's session is false and touches nothing, even in the same slot", async () => {
      const [userA, userB] = sameTagUsers()
      expect(tagForUser(userA)).toBe(tagForUser(userB))
      const a = await signedIn(userA)
      const b = await signedIn(userB)
      const idB = refFromToken(b.cookie!).id
      let calls = await callsOf(async () => {
        expect(await kit.revokeSession(userA, idB)).toBe(false)
      })
      expect(calls).toEqual(['revoke'])
      expect(await a.request((s) => s.revokeSession(idB))).toBe(false)
      expect(await alive(b.cookie)).toBe(true)
      expect((await kit.listSessions(userB)).map((s) => s.id)).toEqual([idB])
      // Revoking an already revoked id is idempotent.
      expect(await kit.revokeSession(userB, idB)).toBe(true)
      expect(await kit.revokeSession(userB, idB)).toBe(false)
      expect(await alive(a.cookie)).toBe(true)
      // A malformed id or one of another slot makes no store call at all.
      for (const id of [
        '',
        '*',
        'abc',
        'x'.repeat(65_536),
        b.cookie!,
        `${tagForUser(userA) === 'fff' ? 'ffe' : 'fff'}.${'0'.repeat(27)}`,
      ]) {
        calls = await callsOf(async () => {
          expect(await kit.revokeSession(userA, id)).toBe(false)
        })
        expect(calls).toEqual([])
      }
    })

    it.each([
      ['empty', ''],
      ['10 KB', 'x'.repeat(10_240)],
      ['an object with toString', { toString: () => 'admin' }],
      ['negative', -1],
      ['unsafe', 2 ** 53],
    ])('26. user id %s is rejected with InvalidUserIdError before the store', async (_name, id) => {
      const browser = new Browser(kit)
      await browser.request((s) => s.set('x', 1))
      const token = browser.cookie
      const calls = await callsOf(async () => {
        await expect(browser.request((s) => s.signIn(id as never))).rejects.toBeInstanceOf(InvalidUserIdError)
        await expect(kit.listSessions(id as never)).rejects.toMatchObject({
          code: 'SESSIONKIT_INVALID_USER_ID',
        })
        await expect(kit.revokeAllSessions(id as never)).rejects.toBeInstanceOf(InvalidUserIdError)
      })
      // Only the request's own load: the sign-in never reached the store, and the session is intact.
      expect(calls).toEqual(['load'])
      expect(browser.cookie).toBe(token)
      expect(await browser.request((s) => s.get('x'))).toBe(1)
    })

    it.each(['*', 'a:b', '{x}', '}x{', '__proto__', 'constructor', '%2A', 'ü 😀', 42])(
      '26. user id %j is safely encoded: sign-in, list and revoke-all work and stay in their slot',
      async (id) => {
        const user = typeof id === 'number' ? id + Math.floor(Math.random() * 1e9) : `${id}${newUser()}`
        const browser = await signedIn(user as string)
        expect(await browser.request((s) => s.userId)).toBe(String(user))
        const list = await kit.listSessions(user)
        expect(list.map((s) => s.id)).toEqual([refFromToken(browser.cookie!).id])
        if (backend.redis) {
          const keys = (await backend.keys()).map((k) => k.key)
          const index = backend.redis.keys.userIndex(toUserRef(user))
          expect(keys).toContain(index)
          expect(index.match(/[{}]/g)).toEqual(['{', '}'])
        }
        expect(await kit.revokeAllSessions(user)).toBe(1)
        expect(await alive(browser.cookie)).toBe(false)
      },
    )

    it('28. rotate/signOut twice, concurrently, after the headers went out, and on a dead session', async () => {
      const user = newUser()
      const browser = await signedIn(user)
      // Twice in a row: each rotation works.
      await browser.request(async (s) => {
        await s.rotate()
        await s.rotate()
      })
      expect(await alive(browser.cookie)).toBe(true)
      // Concurrently on one session: one wins.
      const results = await browser.request((s) => Promise.allSettled([s.rotate(), s.rotate()]))
      expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1)
      expect(await alive(browser.cookie)).toBe(true)
      // After the headers went out: a typed error, and the session is untouched.
      const token = browser.cookie!
      for (const op of ['rotate', 'signIn'] as const) {
        const req = await browser.open()
        req.binding.sent = true
        const calls = await callsOf(async () => {
          await expect(
            op === 'rotate' ? req.session.rotate() : req.session.signIn(user),
          ).rejects.toMatchObject({
            code: 'SESSIONKIT_HEADERS_SENT',
          })
        })
        expect(calls).toEqual([])
        expect(browser.cookie).toBe(token)
        expect(await alive(token)).toBe(true)
      }
      // A new session cannot be created once the headers are out.
      const late = await new Browser(kit).open()
      late.binding.sent = true
      late.session.set('x', 1)
      await expect(late.commit()).rejects.toBeInstanceOf(HeadersSentError)
      // On a session revoked meanwhile: rotate is a conflict, signOut is harmless, twice.
      const stale = await browser.open()
      await kit.revokeAllSessions(user)
      await expect(stale.session.rotate()).rejects.toBeInstanceOf(SessionConflictError)
      await expect(stale.session.signIn(user)).rejects.toBeInstanceOf(SessionConflictError)
      const stale2 = await new Browser(kit, { cookie: token }).open()
      await stale2.session.signOut()
      await stale2.session.signOut()
      expect(stale2.session.isNew).toBe(true)
      expect(await kit.listSessions(user)).toEqual([])
    })
  })
})

describe.each<BackendName>(['node-redis single', 'ioredis single', 'node-redis cluster'])(
  'garbage written straight into Redis: %s',
  (name) => {
    let backend: Backend
    let counted: { store: SessionStore; calls: string[] }
    let kit: Sessionkit

    beforeAll(async () => {
      backend = await openBackend(name)
      counted = instrumentStore(backend.store)
      kit = createSessionkit({ store: counted.store, cookie: { secure: false }, deviceParser: false })
    })
    afterAll(async () => {
      await backend.close()
    })

    /** A session key with these raw fields, and the token that names it. */
    async function plant(
      fields: Record<string, string>,
      user?: string,
      options: { indexed?: boolean; tag?: string } = {},
    ): Promise<{ token: string; key: string }> {
      const tag = options.tag ?? (user === undefined ? randomTag() : tagForUser(user))
      const token = generateToken(tag)
      const ref = refFromToken(token)
      const key = backend.redis!.keys.session(ref)
      const now = Date.now()
      const base: Record<string, string> = {
        _c: String(now),
        _ls: String(now - 60_000),
        _ab: String(now + 3_600_000),
      }
      if (user !== undefined) Object.assign(base, { _u: toUserRef(user).encoded, _si: String(now) })
      const all = { ...base, ...fields }
      const args = Object.entries(all)
        .filter(([, v]) => v !== '\u0000drop')
        .flat()
      await backend.send(key, ['HSET', key, ...args])
      await backend.send(key, ['PEXPIRE', key, '60000'])
      if (user !== undefined && options.indexed !== false) {
        // As create.lua does: the session in its user's index (in the slot of the session's tag).
        const index = `${backend.redis!.keys.userIndexPrefix(tag)}${toUserRef(user).encoded}`
        await backend.send(index, ['ZADD', index, String(now + 60_000), ref.hash])
        await backend.send(index, ['PEXPIRE', index, '60000'])
      }
      return { token, key }
    }

    /** Opens the planted session: must be "no session", in one store call; a write then mints a new token. */
    async function expectNoSession(token: string): Promise<void> {
      counted.calls.length = 0
      const browser = new Browser(kit, { cookie: token })
      const req = await browser.open()
      expect(counted.calls).toEqual(['load'])
      expect(req.session.isNew).toBe(true)
      expect(req.session.userId).toBeUndefined()
      expect(req.session.size).toBe(0)
      req.session.set('fresh', 1)
      await req.commit()
      expect(browser.cookie).toBeDefined()
      expect(browser.cookie).not.toBe(token)
    }

    it('a valid planted session is accepted (the control case)', async () => {
      const user = newUser()
      const { token } = await plant({ 'd:x': '{"a":1}' }, user)
      const req = await new Browser(kit, { cookie: token }).open()
      expect(req.session.userId).toBe(user)
      expect(req.session.get('x')).toEqual({ a: 1 })
    })

    it("a signed-in session planted outside its user's index is no session (revoke-all could not reach it)", async () => {
      const user = newUser()
      const { token } = await plant({ 'd:x': '1' }, user, { indexed: false })
      await expectNoSession(token)
    })

    it("a session planted under another slot tag than its user's is no session, even with an index there", async () => {
      const user = newUser()
      const otherTag = tagForUser(user) === 'abc' ? 'abd' : 'abc'
      const { token } = await plant({ 'd:x': '1' }, user, { tag: otherTag })
      await expectNoSession(token)
      // The user's real slot holds nothing of it: revoke-all there finds nothing, and nothing works anyway.
      expect(await kit.revokeAllSessions(user)).toBe(0)
    })

    it.each([
      ['__proto__ payload', '{"__proto__":{"isAdmin":true,"polluted":1}}'],
      ['nested __proto__ payload', '{"a":[{"__proto__":{"polluted":1}}]}'],
      ['constructor.prototype payload', '{"constructor":{"prototype":{"isAdmin":true,"polluted":1}}}'],
      ['non-JSON bytes', '\xff\xfe\x00garbage'],
      ['truncated JSON', '{"a":[1,2'],
      ['empty', ''],
      ['JavaScript, not JSON', "{a: 1, 'b': undefined}"],
    ])('19/20. a data value that is a %s: no session, no pollution', async (_name, value) => {
      for (const field of ['d:x', 'n:ns:x']) {
        const { token } = await plant({ [field]: value, 'd:ok': '1' }, newUser())
        await expectNoSession(token)
      }
    })

    it('20. a key of the wrong type (WRONGTYPE): no session', async () => {
      for (const type of ['list', 'string', 'set', 'zset']) {
        const token = generateToken(randomTag())
        const key = backend.redis!.keys.session(refFromToken(token))
        const command =
          type === 'list'
            ? ['RPUSH', key, 'a']
            : type === 'string'
              ? ['SET', key, '{"_u":"admin"}']
              : type === 'set'
                ? ['SADD', key, 'a']
                : ['ZADD', key, '1', 'a']
        await backend.send(key, command)
        await backend.send(key, ['PEXPIRE', key, '60000'])
        await expectNoSession(token)
        // The garbage is left alone (no crash, no overwrite).
        expect(await backend.send(key, ['TYPE', key])).toBe(type)
      }
    })

    it('20. a huge value (2 MB) and a 10,000-deep value: no session, bounded', async () => {
      const huge = await plant({ 'd:big': JSON.stringify('x'.repeat(2 << 20)) }, newUser())
      await expectNoSession(huge.token)
      const deep = await plant({ 'd:deep': '['.repeat(10_000) + ']'.repeat(10_000) })
      // Deep but small and valid JSON: read as it is, without exhausting the stack.
      const req = await new Browser(kit, { cookie: deep.token }).open()
      expect(req.session.isNew).toBe(false)
      expect(Array.isArray(req.session.get('deep'))).toBe(true)
      const deepProto = await plant({ 'd:deep': '{"__proto__":1,"a":'.repeat(3000) + '1' + '}'.repeat(3000) })
      await expectNoSession(deepProto.token)
    })

    it('20. a dry-run cleanup writes nothing, not even the repair of an index of the wrong type', async () => {
      const user = newUser()
      const index = backend.redis!.keys.userIndex(toUserRef(user))
      await backend.send(index, ['SET', index, 'garbage', 'PX', '60000'])
      expect(await kit.cleanupSessions(user, { dryRun: true })).toEqual({ pruned: 0, evicted: 0 })
      expect(await backend.send(index, ['TYPE', index])).toBe('string')
      await kit.cleanupSessions(user)
      expect(await backend.send(index, ['TYPE', index])).toBe('none')
    })

    it('20. a user index of the wrong type is dropped, never a half-done script or a key without TTL', async () => {
      const user = newUser()
      const index = backend.redis!.keys.userIndex(toUserRef(user))
      const spoil = async (): Promise<void> => {
        await backend.send(index, ['DEL', index])
        await backend.send(index, ['SET', index, 'garbage'])
      }
      const fast = createSessionkit({
        store: backend.store,
        cookie: { secure: false },
        deviceParser: false,
        touchIntervalMs: 1,
      })
      await spoil()
      const browser = new Browser(fast)
      await browser.request((s) => s.signIn(user))
      expect(await backend.send(index, ['TYPE', index])).toBe('zset')
      await spoil()
      await browser.request((s) => s.set('touched', true))
      await spoil()
      expect(await fast.listSessions(user)).toEqual([])
      await spoil()
      await browser.request((s) => s.rotate())
      await spoil()
      expect(await fast.cleanupSessions(user)).toEqual({ pruned: 0, evicted: 0 })
      await spoil()
      await browser.request((s) => s.signOut())
      expect(await new Browser(fast).open(`sid=${browser.cookie ?? ''}`)).toBeDefined()
      await spoil()
      expect(await fast.revokeAllSessions(user)).toBe(0)
      const mine = (await backend.keys()).filter((k) => k.key.includes(`{${toUserRef(user).tag}}`))
      expect(mine.filter((k) => k.key !== index && !(k.pttl > 0))).toEqual([])
    })

    const drop = '\u0000drop'
    it.each([
      ['_ab absent', { _ab: drop }],
      ['_ls absent', { _ls: drop }],
      ['_c absent', { _c: drop }],
      ['_ab not a number', { _ab: 'never' }],
      ['_ab in exponent form', { _ab: '1e20' }],
      ['_ab negative', { _ab: '-5' }],
      ['_ab in the past', { _ab: String(Date.now() - 1000) }],
      ['_ls not a number', { _ls: 'yesterday' }],
      ['_c fractional', { _c: '1.5' }],
      ['_si absent for a signed-in session', { _si: drop }],
      ['_u empty', { _u: '' }],
      ['_u a bad escape', { _u: '%E0%A4%A' }],
      ['_im a bad escape', { _im: '%E0%A4%A' }],
      // The load joins names and values with NUL; one inside either would shift every pair after it.
      ['a NUL in a metadata value', { _ip: '203.0.113.7\u0000_u\u0000admin' }],
      ['a NUL in a field name', { 'd:a\u0000_u': '1' }],
    ])('21. %s: no session, never "no deadline"', async (_name, fields) => {
      const { token } = await plant(fields, newUser())
      await expectNoSession(token)
    })

    it('a list sees only sessions whose metadata is sound', async () => {
      const user = newUser()
      const good = await plant({}, user)
      const bad = await plant({ _ab: 'never' }, user)
      const index = backend.redis!.keys.userIndex(toUserRef(user))
      for (const { token } of [good, bad]) {
        await backend.send(index, ['ZADD', index, String(Date.now() + 60_000), refFromToken(token).hash])
      }
      await backend.send(index, ['PEXPIRE', index, '60000'])
      const list = await kit.listSessions(user)
      expect(list.map((s) => s.id)).toContain(refFromToken(good.token).id)
      for (const s of list) expect(s.absoluteExpiresAt.getTime()).toBeGreaterThan(Date.now())
    })
  },
)
