/**
 * Property tests of the stored-field decoders (`decodeStoredFields`, `decodeLoadedSession`): they never throw on
 * any list of strings, they read back exactly what sessionkit writes, and they fail closed (`undefined`, never a
 * session without deadlines or with a made-up user) on any malformed metadata or data.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeLoadedSession, decodeStoredFields, META } from '../../src/core/stored-fields.js'
import { encodeUserId } from '../../src/core/user-id.js'
import { encodeDevice } from '../../src/core/device.js'

const time = fc.integer({ min: 0, max: 999_999_999_999_999 })
const userId = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.@-]{1,40}$/),
  fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }),
  fc.nat().map(String),
)

/** A well-formed stored session: the fields and what they must decode to. */
const session = fc.record({
  createdAt: time,
  absoluteExpiresAt: time,
  lastSeenAt: time,
  user: fc.option(fc.record({ id: userId, signedInAt: time }), { nil: undefined }),
  impersonator: fc.option(userId, { nil: undefined }),
  rememberMe: fc.boolean(),
  ip: fc.option(fc.ipV4(), { nil: undefined }),
  device: fc.option(fc.tuple(fc.string(), fc.string(), fc.string(), fc.string()), { nil: undefined }),
  // Values as sessionkit writes them: no prototype keys (encodeJsonValue refuses those).
  data: fc.dictionary(
    fc.string({ minLength: 1, maxLength: 10 }),
    fc.jsonValue({ maxDepth: 2 }).filter((v) => !/__proto__|constructor/.test(JSON.stringify(v))),
    { maxKeys: 5 },
  ),
})
type Spec = typeof session extends fc.Arbitrary<infer T> ? T : never

function fieldsOf(s: Spec): [string, string][] {
  const fields: [string, string][] = [
    [META.createdAt, String(s.createdAt)],
    [META.absoluteExpiresAt, String(s.absoluteExpiresAt)],
    [META.lastSeenAt, String(s.lastSeenAt)],
  ]
  if (s.user)
    fields.push([META.userId, encodeUserId(s.user.id)], [META.signedInAt, String(s.user.signedInAt)])
  if (s.impersonator !== undefined) fields.push([META.impersonator, encodeUserId(s.impersonator)])
  if (s.rememberMe) fields.push([META.rememberMe, '1'])
  if (s.ip !== undefined) fields.push([META.ipAddress, s.ip])
  if (s.device) {
    const [browser, os, deviceType, deviceName] = s.device
    fields.push([META.device, encodeDevice({ browser, os, deviceType, deviceName })])
  }
  for (const [k, v] of Object.entries(s.data)) fields.push([`d:${k}`, JSON.stringify(v)])
  return fields
}

const flat = (fields: readonly (readonly [string, string])[]): string[] => fields.flat()

/** Values that are not a stored time: signs, exponents, spaces, hex, too many digits, empty. */
const badTime = fc.oneof(
  fc.constantFrom('', '-1', '+1', '1e3', ' 1', '1 ', '0x10', '1.5', 'NaN', 'Infinity', '1234567890123456'),
  fc.string({ minLength: 1, maxLength: 16 }).filter((t) => !/^\d{1,15}$/.test(t)),
)
/** Values that are not a stored user id: empty, broken escapes, lone surrogates, too long. */
const badUserId = fc.constantFrom('', '%', '%Z1', '%E0%A4%A', '%ED%A0%80', 'a'.repeat(257), '%41'.repeat(257))

describe('stored-field decoders (property)', () => {
  it('never throw on any list of strings, metadata names included', () => {
    const name = fc.oneof(
      fc.constantFrom(...Object.values(META), 'd:k', 'n:ns:k', 'd:', '__proto__'),
      fc.string(),
    )
    fc.assert(
      fc.property(fc.array(fc.oneof(name, fc.string()), { maxLength: 30 }), (list) => {
        decodeStoredFields(list)
        decodeLoadedSession(list)
      }),
      { numRuns: 300 },
    )
  })

  it('read back exactly what sessionkit writes', () => {
    fc.assert(
      fc.property(session, (s) => {
        const decoded = decodeLoadedSession(flat(fieldsOf(s)))
        expect(decoded).toBeDefined()
        const meta = decoded!.meta
        expect(meta.createdAt).toBe(s.createdAt)
        expect(meta.absoluteExpiresAt).toBe(s.absoluteExpiresAt)
        expect(meta.lastSeenAt).toBe(s.lastSeenAt)
        expect(meta.userId).toBe(s.user?.id)
        expect(meta.signedInAt).toBe(s.user?.signedInAt)
        expect(meta.impersonator).toBe(s.impersonator)
        expect(meta.rememberMe).toBe(s.rememberMe)
        expect(meta.ipAddress).toBe(s.ip)
        expect(decoded!.values.size).toBe(Object.keys(s.data).length)
      }),
      { numRuns: 200 },
    )
  })

  it('fail closed when a time is missing or malformed', () => {
    const times = [META.createdAt, META.absoluteExpiresAt, META.lastSeenAt] as const
    fc.assert(
      fc.property(
        session,
        fc.constantFrom(...times),
        fc.option(badTime, { nil: undefined }),
        (s, name, bad) => {
          const fields = fieldsOf(s).filter(([n]) => n !== name)
          if (bad !== undefined) fields.push([name, bad])
          expect(decodeStoredFields(flat(fields))).toBeUndefined()
          expect(decodeLoadedSession(flat(fields))).toBeUndefined()
        },
      ),
      { numRuns: 200 },
    )
  })

  it('fail closed on an undecodable user or impersonator, and on a user without a sign-in time', () => {
    fc.assert(
      fc.property(
        session,
        fc.constantFrom(META.userId, META.impersonator, META.signedInAt),
        badUserId,
        badTime,
        (s, name, badId, badSignedIn) => {
          const withUser = { ...s, user: s.user ?? { id: 'u', signedInAt: 1 } }
          const fields = fieldsOf(withUser).filter(([n]) => n !== name)
          if (name === META.signedInAt) {
            // Absent, or present but not a time.
            if (badSignedIn.length % 2 === 0) fields.push([name, badSignedIn])
          } else {
            fields.push([name, badId])
          }
          expect(decodeStoredFields(flat(fields))).toBeUndefined()
        },
      ),
      { numRuns: 200 },
    )
  })

  it('a loaded session with any data value that is not JSON sessionkit could write is refused whole', () => {
    const badJson = fc.oneof(
      fc.string({ maxLength: 20 }).filter((t) => {
        try {
          JSON.parse(t)
          return false
        } catch {
          return true
        }
      }),
      fc.constantFrom('{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"admin":true}}}', '[1,'),
    )
    fc.assert(
      fc.property(
        session,
        fc.string({ minLength: 1, maxLength: 8 }),
        badJson,
        fc.boolean(),
        (s, key, bad, ns) => {
          const fields = fieldsOf(s)
          fields.push([ns ? `n:ns:${key}` : `d:${key}`, bad])
          expect(decodeLoadedSession(flat(fields))).toBeUndefined()
        },
      ),
      { numRuns: 200 },
    )
  })
})
