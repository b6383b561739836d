/**
 * Reading the legacy libraries' signed session cookies, exactly as they write them:
 *
 * - express-session: `connect.sid=s%3A<sid>.<signature>`, signed by `cookie-signature` (HMAC-SHA256 of the sid,
 *   base64 without `=` padding) and URI-encoded by the `cookie` library.
 * - @fastify/session: `sessionId=<optional cookiePrefix><sid>.<signature>`, signed by @fastify/cookie's `Signer`
 *   (the same HMAC format, algorithm configurable) and URI-encoded the same way.
 *
 * Both verify against every secret of a rotation list; the comparison is constant-time.
 *
 * @module
 */
import { AMBIGUOUS, readCookieValue } from '../core/cookie.js'
import { createHmac, timingSafeEqual } from 'node:crypto'

/** Longest cookie value read: the peers' values are under 100 characters. */
const MAX_VALUE_LENGTH = 4096
/** Longest session id accepted (uid-safe's are 32 characters; custom `genid`s are usually UUIDs). */
const MAX_SID_LENGTH = 512

/**
 * The value of cookie `name` in a `Cookie` header, decoded as the `cookie` library decodes it; `undefined` when
 * absent, undecodable, too long, or present several times with different values (ambiguous: a planted cookie).
 */
export function readLegacyCookie(header: string, name: string): string | undefined {
  // The same exact-name scan as sessionkit's own cookie (a planted duplicate is ambiguous, never a guess).
  const value = readCookieValue(header, name)
  let found = value === AMBIGUOUS ? undefined : value?.trim()
  if (found === undefined || found.length > MAX_VALUE_LENGTH) return undefined
  if (found.length >= 2 && found.startsWith('"') && found.endsWith('"')) found = found.slice(1, -1)
  if (!found.includes('%')) return found
  try {
    return decodeURIComponent(found)
  } catch {
    return undefined
  }
}

/**
 * The session id of a signed value `<sid>.<signature>`, if one of `secrets` signed it; else `undefined`. Every
 * secret is tried, and each comparison is constant-time.
 */
export function unsignSessionId(
  signed: string,
  secrets: readonly (string | Buffer)[],
  algorithm = 'sha256',
): string | undefined {
  const dot = signed.lastIndexOf('.')
  if (dot <= 0 || dot > MAX_SID_LENGTH) return undefined
  const sid = signed.slice(0, dot)
  const actual = Buffer.from(signed.slice(dot + 1))
  let valid = false
  for (const secret of secrets) {
    const expected = Buffer.from(signature(sid, secret, algorithm))
    if (expected.length === actual.length && timingSafeEqual(expected, actual)) valid = true
  }
  return valid ? sid : undefined
}

/** The signature cookie-signature and @fastify/cookie append: base64 HMAC without `=` padding. */
export function signature(value: string, secret: string | Buffer, algorithm = 'sha256'): string {
  return createHmac(algorithm, secret).update(value).digest('base64').replace(/=+$/, '')
}
