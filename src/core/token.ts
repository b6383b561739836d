/**
 * Session tokens and private ids.
 *
 * - The **token** is what the cookie carries: `<slot tag>.<secret>`, where the secret is 32 bytes (256 bits) from
 *   `crypto.randomBytes`, base64url-encoded. It is the only credential.
 * - The **private id** is `<slot tag>.<first 27 base64url chars of sha256(token)>` (162 bits of the digest).
 *   Redis keys, lists, APIs and the CLI only ever see it, so a Redis dump or MONITOR output holds no usable cookie
 *   (as Rack's `private_id` does for GitLab). It can revoke a session, it can never authenticate one. Why not the
 *   whole digest: the id is written twice per session (key name and index member), and 162 bits already put
 *   forging a token for a known id (a preimage) out of reach; the shorter id saves ~64 bytes of Redis per session.
 * - The **slot tag** is 3 hex chars that go into a Redis Cluster hash tag. For a signed-in session it is derived
 *   from the user id, so a user's sessions and their index share one slot and every per-user operation is a
 *   single atomic script. The tag reveals at most 12 bits of a hash of the user id (4096 buckets).
 *
 * @module
 */
import * as crypto from 'node:crypto'
import { createHash, randomBytes } from 'node:crypto'

const TAG_PATTERN = /^[0-9a-f]{3}$/
// 32 random bytes in base64url are 43 characters; the last one carries 4 bits, so only 16 letters can end it.
const TOKEN_PATTERN = /^[0-9a-f]{3}\.[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/
const ID_PATTERN = /^[0-9a-f]{3}\.[A-Za-z0-9_-]{27}$/

/** Characters of the digest kept in a private id. */
const ID_HASH_LENGTH = 27

/** Length of a token, for cheap rejection before the regular expression. */
export const TOKEN_LENGTH = 47

/** A session's private id, split into the parts the store needs. */
export interface SessionRef {
  /** `<tag>.<hash>`: the id shown in lists, APIs and the CLI. */
  readonly id: string
  /** The Redis Cluster hash tag (3 hex chars). */
  readonly tag: string
  /** SHA-256 of the token, base64url, cut to 27 characters. */
  readonly hash: string
}

// crypto.hash (Node >= 20.12) skips the Hash object that createHash allocates: this runs on every request.
const oneShot = (
  crypto as { hash?: (algorithm: string, data: string, encoding: 'base64url' | 'hex') => string }
).hash

/** Returns a fresh token whose session will live in the slot of `tag`. */
export function generateToken(tag: string): string {
  return `${tag}.${randomBytes(32).toString('base64url')}`
}

/** A random slot tag, for sessions that have no user yet. */
export function randomTag(): string {
  return randomBytes(2).toString('hex').slice(0, 3)
}

/** The slot tag of a user's sessions: the first 3 hex chars of SHA-256 of the user id. */
export function tagForUser(userId: string): string {
  let tag = recentTags.get(userId)
  if (tag === undefined) {
    const digest = oneShot
      ? oneShot('sha256', userId, 'hex')
      : createHash('sha256').update(userId).digest('hex')
    tag = digest.slice(0, 3)
    // The load path checks every signed-in session's tag: remember the active users' tags (bounded).
    if (recentTags.size >= RECENT_TAGS) recentTags.clear()
    recentTags.set(userId, tag)
  }
  return tag
}

const RECENT_TAGS = 10_000
const recentTags = new Map<string, string>()

/**
 * Checks a cookie value's format. Anything that is not exactly a token we could have issued is rejected here,
 * before any store call (glob characters, RESP injection, oversize values, another session's private id...).
 */
export function isWellFormedToken(value: string): boolean {
  return value.length === TOKEN_LENGTH && TOKEN_PATTERN.test(value)
}

/** Derives the private id of a token. The caller must have checked {@link isWellFormedToken}. */
export function refFromToken(token: string): SessionRef {
  const tag = token.slice(0, 3)
  const hash = tokenHash(token)
  return { id: `${tag}.${hash}`, tag, hash }
}

function tokenHash(token: string): string {
  const digest = oneShot
    ? oneShot('sha256', token, 'base64url')
    : createHash('sha256').update(token).digest('base64url')
  return digest.slice(0, ID_HASH_LENGTH)
}

/**
 * Parses a private id (`<3 hex>.<27 base64url chars>`, as `session.id` and the lists show it and the revoke calls
 * take it); `undefined` when malformed. A cheap check before a store call, e.g. on an id from a URL.
 *
 * @example
 * ```ts
 * const ref = parseSessionId(req.params.id)
 * if (!ref) return res.status(404).end()
 * ```
 */
export function parseSessionId(id: unknown): SessionRef | undefined {
  if (typeof id !== 'string' || id.length !== 4 + ID_HASH_LENGTH || !ID_PATTERN.test(id)) return undefined
  return { id, tag: id.slice(0, 3), hash: id.slice(4) }
}

/** Builds a ref from the two parts a store keeps. */
export function refFromParts(tag: string, hash: string): SessionRef {
  return { id: `${tag}.${hash}`, tag, hash }
}

export function isSlotTag(value: string): boolean {
  return TAG_PATTERN.test(value)
}
