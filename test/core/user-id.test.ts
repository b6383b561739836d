import { describe, expect, it } from 'vitest'
import { InvalidUserIdError } from '../../src/core/errors.js'
import { tagForUser } from '../../src/core/token.js'
import { decodeStoredUserId, encodeUserId, MAX_USER_ID_LENGTH, toUserRef } from '../../src/core/user-id.js'
import { KeyLayout } from '../../src/stores/redis/keys.js'

describe('user ids', () => {
  it.each([
    ['empty', ''],
    ['too long (10 KB)', 'x'.repeat(10_240)],
    ['one over the limit', 'x'.repeat(MAX_USER_ID_LENGTH + 1)],
    ['negative', -1],
    ['fractional', 1.5],
    ['NaN', Number.NaN],
    ['Infinity', Infinity],
    ['unsafe integer', 2 ** 53],
    ['a lone surrogate', 'a\uD800b'],
    ['an object with toString', { toString: () => 'admin' }],
    ['an array', ['admin']],
    ['null', null],
    ['undefined', undefined],
    ['a boolean', true],
    ['a BigInt', 1n],
  ])('rejects %s with InvalidUserIdError', (_name, value) => {
    expect(() => toUserRef(value)).toThrow(InvalidUserIdError)
    try {
      toUserRef(value)
    } catch (error) {
      expect(error).toMatchObject({ code: 'SESSIONKIT_INVALID_USER_ID', name: 'InvalidUserIdError' })
    }
  })

  it('accepts numbers as their decimal string', () => {
    expect(toUserRef(42)).toEqual(toUserRef('42'))
    expect(toUserRef(0).id).toBe('0')
    expect(toUserRef(Number.MAX_SAFE_INTEGER).id).toBe(String(Number.MAX_SAFE_INTEGER))
  })

  const layout = new KeyLayout('sk:')
  it.each([
    '*',
    '?',
    '[a-z]',
    'a:b',
    '{x}',
    '}{',
    '__proto__',
    'constructor',
    '%41',
    'a b',
    'ü',
    '😀',
    'x'.repeat(256),
    'a\r\nFLUSHALL',
    'a\u0000b',
    '\\',
  ])('encodes %j into one safe, reversible key segment in its own slot', (id) => {
    const user = toUserRef(id)
    expect(user.id).toBe(id)
    expect(user.encoded).toMatch(/^[A-Za-z0-9_.@%-]+$/)
    expect(decodeStoredUserId(user.encoded)).toBe(id)
    expect(user.tag).toBe(tagForUser(id))
    const key = layout.userIndex(user)
    // Exactly one hash tag, so the key cannot move to another slot; no glob characters.
    expect(key.match(/[{}]/g)).toEqual(['{', '}'])
    expect(key).not.toMatch(/[*?[\]\\\s]/)
    expect(layout.parseUserIndexKey(key)).toBe(id)
  })

  it('encoding is injective: different ids never share a key', () => {
    const ids = ['a%41', 'aA', 'a:b', 'a%3Ab', '%', '%25', 'A', 'a']
    const encoded = ids.map((id) => encodeUserId(id))
    expect(new Set(encoded).size).toBe(ids.length)
  })
})
