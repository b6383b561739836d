/**
 * The legacy cookies are read and verified exactly as express-session (cookie-signature) and @fastify/session
 * (@fastify/cookie's signer) write them, and the migration sources check their options at construction.
 */
import { Signer } from '@fastify/cookie'
import { sign, unsign } from 'cookie-signature'
import { createClient } from 'redis'
import { describe, expect, it } from 'vitest'
import { createSessionkit, InvalidOptionsError, MemoryStore } from 'sessionkit'
import { fromExpressSession, fromFastifySession } from 'sessionkit/migrate'
import { readLegacyCookie, unsignSessionId } from '../../src/migrate/legacy-cookie.js'

const samples = Array.from({ length: 40 }, (_, i) =>
  `${i}-${Math.random().toString(36).slice(2)}`.repeat((i % 3) + 1),
)

describe('unsignSessionId', () => {
  it('accepts exactly what cookie-signature accepts, for valid and tampered values', () => {
    for (const sid of samples) {
      const signed = sign(sid, 'secret one')
      const tampered = [
        signed.slice(0, -1) + (signed.endsWith('A') ? 'B' : 'A'),
        `x${signed}`,
        `${signed}=`,
        sid,
      ]
      for (const value of [signed, ...tampered]) {
        const expected = unsign(value, 'secret one')
        expect(unsignSessionId(value, ['secret one'])).toBe(expected === false ? undefined : expected)
      }
    }
  })

  it("accepts exactly what @fastify/cookie's signer accepts, with any secret of a rotation and other hashes", () => {
    for (const algorithm of ['sha256', 'sha512']) {
      const signer = new Signer(['newest secret', 'older secret'], algorithm)
      for (const sid of samples) {
        for (const value of [
          new Signer('older secret', algorithm).sign(sid),
          signer.sign(sid),
          `${sid}.bad`,
        ]) {
          const expected = signer.unsign(value)
          expect(unsignSessionId(value, ['newest secret', 'older secret'], algorithm)).toBe(
            expected.valid ? expected.value : undefined,
          )
        }
      }
    }
  })

  it('refuses a value without a signature or without a session id', () => {
    expect(unsignSessionId('no-dot-here', ['s'])).toBeUndefined()
    expect(unsignSessionId(`.${sign('', 's').slice(1)}`, ['s'])).toBeUndefined()
  })
})

describe('readLegacyCookie', () => {
  it('matches the name exactly and decodes the value as the cookie library does', () => {
    expect(readLegacyCookie('a=1; connect.sid=s%3Aabc.def; b=2', 'connect.sid')).toBe('s:abc.def')
    expect(readLegacyCookie('xconnect.sid=1; connect.sidx=2', 'connect.sid')).toBeUndefined()
    expect(readLegacyCookie('connect.sid="quoted"', 'connect.sid')).toBe('quoted')
    expect(readLegacyCookie('connect.sid=plain', 'connect.sid')).toBe('plain')
  })

  it('refuses two different values for the name (a planted cookie), but not the same one twice', () => {
    expect(readLegacyCookie('connect.sid=one; connect.sid=two', 'connect.sid')).toBeUndefined()
    expect(readLegacyCookie('connect.sid=one; connect.sid=one', 'connect.sid')).toBe('one')
  })

  it('refuses an undecodable or oversized value', () => {
    expect(readLegacyCookie('connect.sid=%E0%A4%A', 'connect.sid')).toBeUndefined()
    expect(readLegacyCookie(`connect.sid=${'a'.repeat(5000)}`, 'connect.sid')).toBeUndefined()
  })
})

describe('migration source options', () => {
  const client = createClient()

  it('refuses a missing or empty secret', () => {
    expect(() => fromExpressSession({ client } as never)).toThrow(InvalidOptionsError)
    expect(() => fromExpressSession({ client, secret: [] })).toThrow(/secret must be/)
    expect(() => fromFastifySession({ client, secret: '' })).toThrow(/secret must be/)
  })

  it('refuses a bad cookie name, an unknown option, a bad timeout and an unknown hash', () => {
    expect(() => fromExpressSession({ client, secret: 's', cookieName: 'a b' })).toThrow(/cookieName/)
    expect(() => fromExpressSession({ client, secret: 's', prefx: 'x' } as never)).toThrow(
      /did you mean "prefix"/,
    )
    expect(() => fromExpressSession({ client, secret: 's', timeoutMs: 0 })).toThrow(/timeoutMs/)
    expect(() => fromFastifySession({ client, secret: 's', algorithm: 'md17' })).toThrow(/algorithm/)
  })

  it('refuses something that is not a client', () => {
    expect(() => fromExpressSession({ client: {} as never, secret: 's' })).toThrow(/client must be/)
  })

  it('createSessionkit refuses a migrateFrom that is not a legacy source', () => {
    expect(() =>
      createSessionkit({ store: new MemoryStore({ sweepIntervalMs: 0 }), migrateFrom: {} as never }),
    ).toThrow(/migrateFrom must be a legacy session source/)
  })

  it('names the defaults: connect.sid and sessionId', () => {
    expect(fromExpressSession({ client, secret: 's' }).cookieName).toBe('connect.sid')
    expect(fromFastifySession({ client, secret: 's' }).cookieName).toBe('sessionId')
  })
})
