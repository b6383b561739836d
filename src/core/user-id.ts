/**
 * User ids come from the host application and end up inside Redis key names, so they are normalised and encoded
 * here, once: `"a:b"`, `"{x}"`, `"*"` or `"__proto__"` can neither break the key layout, move a key to another
 * Cluster slot, nor act as a glob.
 *
 * @module
 */
import { InvalidUserIdError } from './errors.js'
import { tagForUser } from './token.js'

/** What the host app may pass as a user id: a string, or a safe non-negative integer. */
export type UserIdInput = string | number

/** Longest accepted user id, in UTF-16 code units. */
export const MAX_USER_ID_LENGTH = 256

/** Longest user id as stored: every UTF-16 unit can take 3 bytes of UTF-8, each percent-encoded as 3 chars. */
export const MAX_ENCODED_USER_ID_LENGTH = MAX_USER_ID_LENGTH * 3 * 3

/** A user id ready for the store. */
export interface UserRef {
  /** The user id as the app knows it (numbers become decimal strings). */
  readonly id: string
  /** The id as it appears in key names (percent-encoded outside `[A-Za-z0-9_.@-]`). */
  readonly encoded: string
  /** The Redis Cluster slot tag shared by all of this user's keys. */
  readonly tag: string
}

/** Validates and normalises a user id. Throws {@link InvalidUserIdError} for anything else. */
export function toUserRef(input: unknown): UserRef {
  const id = normalizeUserId(input)
  return { id, encoded: encodeUserId(id), tag: tagForUser(id) }
}

export function normalizeUserId(input: unknown): string {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) {
      throw new InvalidUserIdError(
        `a numeric user id must be a safe non-negative integer, got ${String(input)}`,
      )
    }
    return String(input)
  }
  if (typeof input !== 'string') {
    throw new InvalidUserIdError(`a user id must be a string or a safe integer, got ${typeof input}`)
  }
  if (input.length === 0) throw new InvalidUserIdError('a user id must not be empty')
  if (input.length > MAX_USER_ID_LENGTH) {
    throw new InvalidUserIdError(`a user id must be at most ${MAX_USER_ID_LENGTH} characters`)
  }
  if (LONE_SURROGATE.test(input)) throw new InvalidUserIdError('a user id must be well-formed Unicode')
  return input
}

const SAFE = /^[A-Za-z0-9_.@-]*$/
// In `u` mode a surrogate pair is one code point, so only unpaired surrogates match.
const LONE_SURROGATE = /\p{Cs}/u

/** Percent-encodes every byte outside `[A-Za-z0-9_.@-]`, so the result is one key segment and is reversible. */
export function encodeUserId(id: string): string {
  if (SAFE.test(id)) return id
  let out = ''
  for (const byte of Buffer.from(id, 'utf8')) {
    const ch = String.fromCharCode(byte)
    out += byte < 0x80 && SAFE.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/**
 * Reverses {@link encodeUserId} for an id read back from the store (`_u`, `_im`, an index key name). Returns
 * `undefined` for anything sessionkit could not have written: empty, a bad escape, or not a valid user id.
 */
export function decodeStoredUserId(encoded: string): string | undefined {
  if (encoded.length === 0) return undefined
  if (!encoded.includes('%')) return encoded.length <= MAX_USER_ID_LENGTH ? encoded : undefined
  let id: string
  try {
    id = decodeURIComponent(encoded)
  } catch {
    return undefined
  }
  return id.length > 0 && id.length <= MAX_USER_ID_LENGTH && !LONE_SURROGATE.test(id) ? id : undefined
}
