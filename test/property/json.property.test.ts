/**
 * Property tests of the JSON codec: every value `encodeJsonValue` accepts reads back unchanged through
 * `parseJsonSafe`; and no stored text, however its keys are spelled (`"__proto__"`, `"\u005f_proto__"`,
 * `"constructor": {"prototype": ...}` at any depth), ever reaches a prototype or passes `isStoredJson`.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidSessionValueError } from '../../src/core/errors.js'
import { encodeJsonValue, isStoredJson, parseJsonSafe } from '../../src/core/json.js'

/** JSON values, with -0 (which JSON cannot carry: it reads back as 0) turned into 0. */
const jsonValue = fc.jsonValue({ maxDepth: 5 }).map(function positiveZero(v: unknown): unknown {
  if (Object.is(v, -0)) return 0
  if (Array.isArray(v)) return v.map(positiveZero)
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, positiveZero(x)]))
  }
  return v
})

/** Spells `key` (ASCII) as a JSON string literal, escaping a random choice of its characters as `\uXXXX`. */
const spelled = (key: string): fc.Arbitrary<string> =>
  fc.array(fc.boolean(), { minLength: key.length, maxLength: key.length }).map((escape) => {
    let text = '"'
    for (let i = 0; i < key.length; i++) {
      text += escape[i] ? `\\u${key.charCodeAt(i).toString(16).padStart(4, '0')}` : key[i]!
    }
    return `${text}"`
  })

/** JSON text of a value with a prototype key planted somewhere in it, the key spelled in any way. */
const poisonedText = fc
  .tuple(
    jsonValue,
    fc.constantFrom('__proto__', 'constructor'),
    fc.jsonValue({ maxDepth: 2 }),
    fc.nat(),
    fc.boolean(),
  )
  .chain(([base, key, payload, where, wrapInArray]) =>
    fc.tuple(spelled(key), spelled('prototype')).map(([keyText, prototypeText]) => {
      const poison =
        key === '__proto__'
          ? `{${keyText}:${JSON.stringify(payload)}}`
          : `{${keyText}:{${prototypeText}:${JSON.stringify(payload)}}}`
      return plant(JSON.stringify(base), wrapInArray ? `[${poison}]` : poison, where)
    }),
  )

/** Puts `poison` (JSON text) in the place of one of the values in `text`: the whole, or a member of an object. */
function plant(text: string, poison: string, where: number): string {
  // Where objects open: a `{` outside string literals.
  const slots: number[] = []
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]
    if (inString) {
      if (ch === '\\') i++
      else if (ch === '"') inString = false
    } else if (ch === '"') inString = true
    else if (ch === '{') slots.push(i)
  }
  if (slots.length === 0) return poison
  const at = slots[where % slots.length]!
  // Add a member in front of the object's others.
  const rest = text.slice(at + 1)
  return `${text.slice(0, at + 1)}"planted-prototype-key":${poison}${rest.startsWith('}') ? '' : ','}${rest}`
}

/** Whether JSON text holds a prototype key anywhere, as JSON.parse reads it (escapes decoded). */
function hasPrototypeKey(text: string): boolean {
  let found = false
  JSON.parse(text, function (key: string, value: unknown) {
    if (key === '__proto__') found = true
    if (key === 'constructor' && value !== null && typeof value === 'object' && 'prototype' in value)
      found = true
    return value
  })
  return found
}

/** Every object in `value` has a plain prototype (and carries no own `__proto__`). */
function plainThroughout(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== Array.prototype) return false
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return false
  return Object.values(value).every(plainThroughout)
}

describe('JSON codec (property)', () => {
  it('every value encodeJsonValue accepts reads back unchanged, and is stored JSON', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        let text: string
        try {
          text = encodeJsonValue('k', value)
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidSessionValueError)
          return
        }
        expect(parseJsonSafe(text)).toEqual(value)
        expect(isStoredJson(text)).toBe(true)
      }),
      { numRuns: 300 },
    )
  })

  it('a prototype key planted in stored text, however spelled, never reaches a prototype', () => {
    fc.assert(
      fc.property(poisonedText, (text) => {
        const parsed = parseJsonSafe(text)
        expect(plainThroughout(parsed)).toBe(true)
        expect(({} as Record<string, unknown>).p).toBeUndefined()
      }),
      { numRuns: 300 },
    )
  })

  it('isStoredJson refuses any text with a prototype key, however spelled ("\\u005f_proto__" included)', () => {
    fc.assert(
      fc.property(poisonedText, (text) => {
        expect(hasPrototypeKey(text)).toBe(true)
        expect(isStoredJson(text)).toBe(false)
      }),
      { numRuns: 300 },
    )
  })

  it('isStoredJson agrees with JSON.parse on arbitrary text: valid JSON without prototype keys', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 40 }),
      jsonValue.map((v) => JSON.stringify(v)),
      poisonedText,
    )
    fc.assert(
      fc.property(text, (t) => {
        let valid = true
        try {
          JSON.parse(t)
        } catch {
          valid = false
        }
        expect(isStoredJson(t)).toBe(valid && !hasPrototypeKey(t))
      }),
      { numRuns: 300 },
    )
  })
})
