import { describe, expect, it } from 'vitest'
import { InvalidSessionValueError } from '../../src/core/errors.js'
import { encodeJsonValue, isStoredJson, MAX_JSON_DEPTH, parseJsonSafe } from '../../src/core/json.js'

function rejection(value: unknown): InvalidSessionValueError {
  try {
    encodeJsonValue('k', value)
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSessionValueError)
    expect(error).toMatchObject({ code: 'SESSIONKIT_INVALID_VALUE', key: 'k' })
    return error as InvalidSessionValueError
  }
  throw new Error(`expected ${String(value)} to be rejected`)
}

function nested(depth: number): unknown {
  let value: unknown = 1
  for (let i = 0; i < depth; i++) value = { a: value }
  return value
}

describe('encodeJsonValue', () => {
  it.each([
    ['a string', 'x'],
    ['an empty string', ''],
    ['a number', -1.5],
    ['zero', 0],
    ['true', true],
    ['null', null],
    ['an array', [1, 'a', null, [true]]],
    ['a plain object', { a: { b: [1, { c: 'd' }] } }],
    ['a null-prototype object', Object.assign(Object.create(null) as object, { a: 1 })],
    ['a "constructor" key with a plain value', { constructor: 'x' }],
    ['unicode', { ключ: '值 😀' }],
  ])('accepts %s, and it reads back unchanged', (_name, value) => {
    const text = encodeJsonValue('k', value)
    expect(parseJsonSafe(text)).toEqual(value)
  })

  class Point {
    x = 1
  }
  const cyclic: Record<string, unknown> = { a: 1 }
  cyclic.self = cyclic
  const sparse = [1, , 3] // eslint-disable-line no-sparse-arrays
  const extra = Object.assign([1, 2], { extra: true })
  const hidden = Object.defineProperty({ a: 1 }, 'b', { value: 2, enumerable: false })

  it.each([
    ['undefined', undefined, '$'],
    ['a nested undefined', { a: [1, undefined] }, '$.a[1]'],
    ['a function', () => 1, '$'],
    ['a BigInt', { n: 10n }, '$.n'],
    ['a symbol', Symbol('s'), '$'],
    ['NaN', Number.NaN, '$'],
    ['Infinity', { x: -Infinity }, '$.x'],
    ['a Date', new Date(0), '$'],
    ['a Map', new Map([['a', 1]]), '$'],
    ['a Set', new Set([1]), '$'],
    ['a class instance', new Point(), '$'],
    ['a RegExp', /x/, '$'],
    ['a Buffer', Buffer.from('x'), '$'],
    ['a cycle', cyclic, '$.self'],
    ['a sparse array', sparse, '$[1]'],
    ['an array with extra properties', extra, '$'],
    ['symbol keys', { [Symbol('s')]: 1 }, '$'],
    ['non-enumerable properties', hidden, '$'],
    ['a toJSON method', { toJSON: () => 'x' }, '$'],
    [
      'a throwing toJSON method',
      {
        toJSON: () => {
          throw new Error('boom')
        },
      },
      '$',
    ],
    ['a __proto__ key', JSON.parse('{"a":{"__proto__":{"polluted":1}}}') as unknown, '$.a.__proto__'],
    ['a constructor.prototype key', { constructor: { prototype: { polluted: 1 } } }, '$.constructor'],
    ['nesting past the depth limit', nested(MAX_JSON_DEPTH + 1), undefined],
  ])('rejects %s with a typed error naming the path', (_name, value, path) => {
    const error = rejection(value)
    if (path !== undefined) expect(error.path).toBe(path)
    expect(error.message).toContain('"k"')
  })

  it('accepts nesting up to the depth limit', () => {
    expect(() => encodeJsonValue('k', nested(MAX_JSON_DEPTH - 1))).not.toThrow()
  })

  it('rejects a 10,000-deep value without exhausting the stack', () => {
    expect(rejection(nested(10_000)).path.length).toBeGreaterThan(0)
  })

  it('a repeated (non-cyclic) reference is fine', () => {
    const shared = { a: 1 }
    expect(JSON.parse(encodeJsonValue('k', [shared, shared]))).toEqual([{ a: 1 }, { a: 1 }])
  })
})

describe('parseJsonSafe', () => {
  it('parses plain JSON', () => {
    expect(parseJsonSafe('{"a":[1,null,"x"]}')).toEqual({ a: [1, null, 'x'] })
    expect(parseJsonSafe('null')).toBeNull()
    expect(parseJsonSafe('12')).toBe(12)
  })

  it.each(['', '{', '{"a":', 'undefined', "{'a':1}", 'NaN', '\u0000', '\xff\xfe'])(
    'returns undefined for non-JSON %j',
    (text) => {
      expect(parseJsonSafe(text)).toBeUndefined()
    },
  )

  it('drops __proto__ and constructor.prototype keys, and pollutes nothing', () => {
    const a = parseJsonSafe('{"__proto__":{"polluted":true},"x":1}') as Record<string, unknown>
    expect(a).toEqual({ x: 1 })
    expect(Object.getPrototypeOf(a)).toBe(Object.prototype)
    expect(a.polluted).toBeUndefined()
    const b = parseJsonSafe('{"constructor":{"prototype":{"polluted":true}},"y":[{"__proto__":1}]}')
    expect(b).toEqual({ y: [{}] })
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(parseJsonSafe('{"constructor":"kept"}')).toEqual({ constructor: 'kept' })
  })

  it('survives deep nesting', () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000)
    expect(() => parseJsonSafe(deep)).not.toThrow()
    const deepProto = '{"__proto__":1,"a":'.repeat(5000) + '1' + '}'.repeat(5000)
    expect(() => parseJsonSafe(deepProto)).not.toThrow()
  })
})

describe('isStoredJson', () => {
  // The fast paths (plain strings, numbers) must agree with JSON.parse on everything near their edges.
  const parses = (text: string): boolean => {
    try {
      JSON.parse(text)
      return true
    } catch {
      return false
    }
  }
  it.each([
    '"plain"',
    '""',
    '"with \\"escaped\\" quotes"',
    '"tab\tinside"',
    '"raw\u0001control"',
    '"unterminated',
    '"a"b"',
    '"',
    '"x"  ',
    '0',
    '-0',
    '01',
    '-',
    '1.',
    '.5',
    '1.5e+10',
    '1E5',
    '1e',
    '+1',
    '0x10',
    'NaN',
    'Infinity',
    ' 1',
    '123456789012345678901234567890',
    'true',
    'nul',
    '[1,"a"]',
    '{"a":1}',
    '',
  ])('agrees with JSON.parse on %j', (text) => {
    expect(isStoredJson(text)).toBe(parses(text))
  })

  it('refuses prototype keys and accepts the same words as plain strings', () => {
    expect(isStoredJson('{"__proto__":{"x":1}}')).toBe(false)
    expect(isStoredJson('{"constructor":{"prototype":{}}}')).toBe(false)
    expect(isStoredJson('"__proto__"')).toBe(true)
    expect(isStoredJson('["constructor"]')).toBe(true)
  })

  it.each([
    '{"\\u005f_proto__":{"polluted":1}}',
    '{"__pr\\u006fto__":{"polluted":1}}',
    '{"a":[{"\\u005F\\u005Fproto\\u005F\\u005F":1}]}',
    '{"constructo\\u0072":{"prototype":{"polluted":1}}}',
  ])('refuses a prototype key spelled with escapes: %s', (text) => {
    expect(isStoredJson(text)).toBe(false)
    const parsed = parseJsonSafe(text)
    expect(JSON.stringify(parsed)).not.toMatch(/proto|prototype/)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('accepts escapes that spell nothing dangerous', () => {
    expect(isStoredJson('{"caf\\u00e9":"\\u00e9t\\u00e9"}')).toBe(true)
    expect(parseJsonSafe('{"caf\\u00e9":1}')).toEqual({ café: 1 })
  })
})
