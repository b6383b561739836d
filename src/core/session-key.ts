/**
 * The names an application may use: session keys (`session.set(key, ...)`) and namespace names. Both end up
 * inside stored field names, so they are checked before anything is stored.
 *
 * @module
 */
import { InvalidSessionKeyError } from './errors.js'

/** Longest session key, in UTF-16 code units. */
export const MAX_KEY_LENGTH = 256
const NAMESPACE_NAME = /^[A-Za-z0-9_.-]{1,64}$/

/** @throws {InvalidSessionKeyError} unless `key` is a non-empty string of at most 256 chars without NUL */
export function assertSessionKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new InvalidSessionKeyError(
      `a session key must be a non-empty string of at most ${MAX_KEY_LENGTH} characters, got ${describe(key)}`,
    )
  }
  // The load script joins stored names with NUL (see stores/redis/scripts/load.lua).
  if (key.includes('\0')) {
    throw new InvalidSessionKeyError(`a session key must not contain NUL, got ${describe(key)}`)
  }
}

/** @throws {InvalidSessionKeyError} unless `name` is 1-64 chars of `[A-Za-z0-9_.-]` */
export function assertNamespaceName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAMESPACE_NAME.test(name)) {
    throw new InvalidSessionKeyError(
      `a namespace name must match ${String(NAMESPACE_NAME)}, got ${describe(name)}`,
    )
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value
}
