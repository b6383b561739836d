import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  generateToken,
  isSlotTag,
  isWellFormedToken,
  parseSessionId,
  randomTag,
  refFromToken,
  tagForUser,
  TOKEN_LENGTH,
} from '../../src/core/token.js'

describe('tokens', () => {
  it('are <tag>.<43 base64url chars> of 32 random bytes, never repeated', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const token = generateToken(randomTag())
      expect(token).toHaveLength(TOKEN_LENGTH)
      expect(isWellFormedToken(token)).toBe(true)
      expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32)
      seen.add(token)
    }
    expect(seen.size).toBe(2000)
  })

  it('random tags are 3 hex chars and spread over many slots', () => {
    const tags = new Set(Array.from({ length: 2000 }, () => randomTag()))
    for (const tag of tags) expect(isSlotTag(tag)).toBe(true)
    expect(tags.size).toBeGreaterThan(1000)
  })

  it('a user tag is the first 3 hex chars of sha256(user id)', () => {
    expect(tagForUser('alice')).toBe(createHash('sha256').update('alice').digest('hex').slice(0, 3))
    expect(generateToken(tagForUser('alice')).slice(0, 3)).toBe(tagForUser('alice'))
  })

  const valid = generateToken('abc')
  it.each([
    ['empty', ''],
    ['glob *', '*'],
    ['glob ?', 'abc.' + '?'.repeat(43)],
    ['glob class', 'abc.[a-z]' + 'A'.repeat(38)],
    ['backslash', 'abc.' + '\\'.repeat(43)],
    ['key pattern', 'sess:*'],
    ['RESP injection', 'id\r\nFLUSHALL\r\n'],
    ['RESP injection at full length', 'abc.' + 'A'.repeat(30) + '\r\nFLUSHALL\r'],
    ['spaces', 'abc.' + ' '.repeat(43)],
    ['64 KB', 'a'.repeat(65536)],
    ['appended byte', valid + 'A'],
    ['truncated', valid.slice(0, -1)],
    ['base64 padding', valid.slice(0, -1) + '='],
    ['base64 (not url) chars', valid.slice(0, 10) + '+/' + valid.slice(12)],
    ['uppercase tag', 'ABC' + valid.slice(3)],
    ['non-hex tag', 'xyz' + valid.slice(3)],
    ['missing dot', 'abc' + 'A'.repeat(44)],
    ['non-canonical last char', valid.slice(0, -1) + 'B'],
    ['a private id', refFromToken(valid).id],
    ['a private hash', refFromToken(valid).hash],
    ['unicode', 'abc.' + 'é'.repeat(43)],
  ])('rejects %s', (_name, value) => {
    expect(isWellFormedToken(value)).toBe(false)
  })

  it('private ids are <tag>.<first 27 base64url chars of sha256(token)>, and are not tokens', () => {
    const ref = refFromToken(valid)
    expect(ref.tag).toBe('abc')
    expect(ref.hash).toBe(createHash('sha256').update(valid).digest('base64url').slice(0, 27))
    expect(ref.hash).toMatch(/^[A-Za-z0-9_-]{27}$/)
    expect(ref.id).toBe(`abc.${ref.hash}`)
    expect(parseSessionId(ref.id)).toEqual(ref)
    expect(isWellFormedToken(ref.id)).toBe(false)
  })

  it.each([
    undefined,
    null,
    42,
    {},
    '',
    '*',
    'abc.' + '+'.repeat(27),
    'abc.' + '='.repeat(27),
    'ABC.' + 'A'.repeat(27),
    'ab.' + '0'.repeat(28),
    'abc.' + '0'.repeat(26),
    'abc.' + '0'.repeat(28),
    'abc:' + '0'.repeat(27),
    'abc.' + '0'.repeat(64),
    valid,
    'a'.repeat(65536),
  ])('parseSessionId rejects %j', (value) => {
    expect(parseSessionId(value)).toBeUndefined()
  })
})
