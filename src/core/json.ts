/**
 * Session values are JSON, and only JSON that reads back exactly as it was written: anything else is refused at
 * `set()` time with an error naming the key, before it can reach the store ("store simple primitives", as
 * GitLab's guide puts it, enforced). Reading back is prototype-safe.
 *
 * @module
 */
import { InvalidSessionValueError } from './errors.js'

/** A value that survives `JSON.stringify` → `JSON.parse` unchanged. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** Deepest nesting accepted, so neither stringify nor parse can exhaust the stack. */
export const MAX_JSON_DEPTH = 64

/**
 * Checks that `value` is JSON-safe and returns its JSON text.
 *
 * @param key the session key, used in the error message
 * @throws {InvalidSessionValueError} naming the key and the path of the first offending part
 */
export function encodeJsonValue(key: string, value: unknown): string {
  checkValue({ key, ancestors: [] }, value, '$', 0)
  return JSON.stringify(value)
}

/** A walk over a value being checked: the key it is stored under (for errors) and the objects above. */
interface Walk {
  readonly key: string
  readonly ancestors: object[]
}

function checkValue(walk: Walk, value: unknown, path: string, depth: number): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(value)) fail(walk.key, path, `${String(value)} is not a finite number`)
      return
    case 'object':
      break
    case 'undefined':
      return fail(walk.key, path, 'undefined is not JSON (use delete() to remove a key)')
    default:
      return fail(walk.key, path, `a ${typeof value} is not JSON`)
  }
  if (value === null) return
  if (depth >= MAX_JSON_DEPTH) fail(walk.key, path, `nesting is deeper than ${MAX_JSON_DEPTH} levels`)
  if (walk.ancestors.includes(value)) fail(walk.key, path, 'the value contains a cycle')
  if (Object.getOwnPropertySymbols(value).length > 0) fail(walk.key, path, 'symbol keys are not JSON')
  walk.ancestors.push(value)
  if (Array.isArray(value)) checkArray(walk, value, path, depth)
  else checkObject(walk, value, path, depth)
  walk.ancestors.pop()
}

function checkArray(walk: Walk, value: unknown[], path: string, depth: number): void {
  if (Object.getPrototypeOf(value) !== Array.prototype) fail(walk.key, path, 'array subclasses are not JSON')
  for (let i = 0; i < value.length; i++) {
    if (!(i in value)) fail(walk.key, `${path}[${i}]`, 'sparse arrays are not JSON')
    checkValue(walk, value[i], `${path}[${i}]`, depth + 1)
  }
  if (Object.keys(value).length !== value.length)
    fail(walk.key, path, 'arrays with extra properties are not JSON')
}

function checkObject(walk: Walk, value: object, path: string, depth: number): void {
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'unknown'
    fail(walk.key, path, `a ${name} instance is not a plain object`)
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    fail(walk.key, path, 'objects with toJSON() do not read back unchanged')
  }
  for (const [k, v] of Object.entries(value)) {
    if (k === '__proto__') fail(walk.key, `${path}.__proto__`, 'the key "__proto__" is not allowed')
    // parseJsonSafe drops such a key on the way back, so it would not read back unchanged.
    if (k === 'constructor' && v !== null && typeof v === 'object' && 'prototype' in v) {
      fail(walk.key, `${path}.constructor`, 'a "constructor" object with a "prototype" key is not allowed')
    }
    checkValue(walk, v, `${path}.${k}`, depth + 1)
  }
  // Non-enumerable own properties would silently vanish.
  if (Object.getOwnPropertyNames(value).length !== Object.keys(value).length) {
    fail(walk.key, path, 'non-enumerable properties are not JSON')
  }
}

function fail(key: string, path: string, reason: string): never {
  throw new InvalidSessionValueError(key, path, reason)
}

/**
 * Parses JSON text from the store without ever letting `__proto__` (or `constructor.prototype`) reach an
 * object's prototype chain: such keys are dropped. Returns `undefined` for text that is not valid JSON.
 */
export function parseJsonSafe(text: string): JsonValue | undefined {
  try {
    if (!mayHidePrototypeKey(text)) return JSON.parse(text) as JsonValue
    return JSON.parse(text, dropPrototypeKeys) as JsonValue
  } catch {
    return undefined
  }
}

/**
 * Whether the text could hold a `__proto__` or `constructor` key: either word spelled out, or any `\u` escape
 * (`"\u005f_proto__"` is the same key). The scan is far cheaper than a reviver, and almost no real value has
 * either, so the reviver runs only when needed.
 */
function mayHidePrototypeKey(text: string): boolean {
  return text.includes('__proto__') || text.includes('constructor') || text.includes('\\u')
}

function dropPrototypeKeys(this: unknown, key: string, value: unknown): unknown {
  if (key === '__proto__') return undefined
  if (key === 'constructor' && value !== null && typeof value === 'object' && 'prototype' in value)
    return undefined
  return value
}

/**
 * Whether stored JSON text is something sessionkit could have written: valid JSON without `__proto__` or
 * `constructor.prototype` keys (which {@link encodeJsonValue} refuses). Anything else was written by someone
 * else, so the session holding it is treated as absent (fail closed).
 */
export function isStoredJson(text: string): boolean {
  // Most values are plain strings or numbers: check those without building them (this runs on every load).
  const first = text.charCodeAt(0)
  if (first === QUOTE && isPlainJsonString(text)) return true
  if ((first === MINUS || (first >= DIGIT_0 && first <= DIGIT_9)) && JSON_NUMBER.test(text)) return true
  try {
    if (!mayHidePrototypeKey(text)) {
      JSON.parse(text)
      return true
    }
    let clean = true
    JSON.parse(text, function (this: unknown, key: string, value: unknown) {
      if (dropPrototypeKeys.call(this, key, value) === undefined && value !== undefined) clean = false
      return value
    })
    return clean
  } catch {
    return false
  }
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const MINUS = 0x2d
const DIGIT_0 = 0x30
const DIGIT_9 = 0x39
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/

/** A JSON string literal without escapes: quotes at both ends only, no backslash, no control character. */
function isPlainJsonString(text: string): boolean {
  const last = text.length - 1
  if (last < 1 || text.charCodeAt(last) !== QUOTE) return false
  for (let i = 1; i < last; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE || c === BACKSLASH || c < 0x20) return false
  }
  return true
}
