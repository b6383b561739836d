/**
 * Property tests of the cookie reader (`readSessionCookie`): it never throws, and it returns a token only when the
 * header carries exactly one distinct well-formed value under the exact name — whatever else the header holds
 * (look-alike names, duplicates, junk, prototype keys, Unicode).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readSessionCookie, type CookieReading } from '../../src/core/cookie.js'
import { generateToken, isWellFormedToken, randomTag } from '../../src/core/token.js'

const NAME = '__Host-sid'

/** Names that must never be taken for NAME: prefixes, case, whitespace, encodings, Unicode look-alikes. */
const LOOK_ALIKES = [
  'sid',
  '__host-sid',
  '__Host-SID',
  '__Host-sid ',
  '\u2000__Host-sid',
  '%5F%5FHost-sid',
  '__Secure-sid',
  '__Host-sid\t',
  '__Host-sidx',
  'x__Host-sid',
  '__proto__',
  'constructor',
  'hasOwnProperty',
]

const token = fc.constant(null).map(() => generateToken(randomTag()))
/** Values a cookie may carry: tokens, near-tokens, junk without the `;` separator. */
const value = fc.oneof(
  token,
  token.map((t) => t.slice(0, -1)),
  token.map((t) => `${t}x`),
  token.map((t) => `"${t}"`),
  token.map((t) => t.toUpperCase()),
  fc.string({ maxLength: 60 }).filter((s) => !s.includes(';')),
  fc.constant(''),
)
const name = fc.oneof(
  fc.constant(NAME),
  fc.constantFrom(...LOOK_ALIKES),
  fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/),
)
const pair = fc.record({ name, value, spaces: fc.integer({ min: 0, max: 2 }) })

/**
 * What the reader must answer, from the pairs the header was built of. Browsers send `name=value; name=value`: the
 * spaces after a `;` separate pairs (no cookie name starts with one), anything else is part of the name.
 */
function expected(pairs: readonly { name: string; value: string }[]): CookieReading['kind'] {
  const values = new Set(pairs.filter((p) => p.name.replace(/^ +/, '') === NAME).map((p) => p.value))
  if (values.size === 0) return 'none'
  if (values.size > 1) return 'ambiguous'
  return isWellFormedToken([...values][0]!) ? 'token' : 'malformed'
}

describe('readSessionCookie (property)', () => {
  it('never throws, and a token only ever comes from a well-formed `name=token` pair in the header', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.constantFrom(NAME, 'sid', '__proto__'), (header, n) => {
        const reading = readSessionCookie(header, n)
        if (reading.kind === 'token') {
          expect(isWellFormedToken(reading.token)).toBe(true)
          expect(header).toContain(`${n}=${reading.token}`)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('answers a token exactly when one distinct well-formed value is present under the exact name', () => {
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 8 }), (pairs) => {
        const header = pairs.map((p) => `${' '.repeat(p.spaces)}${p.name}=${p.value}`).join(';')
        const reading = readSessionCookie(header, NAME)
        expect(reading.kind).toBe(expected(pairs))
        if (reading.kind === 'token') {
          expect(reading.token).toBe(pairs.find((p) => p.name === NAME)?.value)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('a duplicate of our cookie with another value is ambiguous, in either order (cookie tossing)', () => {
    fc.assert(
      fc.property(token, token, fc.array(pair, { maxLength: 4 }), (mine, planted, others) => {
        fc.pre(mine !== planted)
        const rest = others.filter((p) => p.name !== NAME).map((p) => `${p.name}=${p.value}`)
        for (const order of [
          [planted, mine],
          [mine, planted],
        ]) {
          const header = [...rest, ...order.map((t) => `${NAME}=${t}`)].join('; ')
          expect(readSessionCookie(header, NAME)).toEqual({ kind: 'ambiguous' })
        }
      }),
      { numRuns: 100 },
    )
  })
})
