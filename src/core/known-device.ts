/**
 * The known-device cookie of unknown-sign-in detection (GitLab's `known_sign_in` cookie): set at every sign-in,
 * it tells the next sign-in of the same user in the same browser that the device is known, for 14 days.
 *
 * Its value is `<expiry, base 36>.<HMAC-SHA256>` over the user id and the expiry, keyed with a secret the app
 * gives: it names no user (the MAC is checked against the user signing in), cannot be forged or moved to another
 * user, and is compared in constant time. A cookie for another user, an expired one, a tampered one, or several
 * different ones count as "not known".
 *
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { serialize } from 'cookie'
import { AMBIGUOUS, readCookieValue, type ResolvedCookieOptions } from './cookie.js'
import { InvalidOptionsError } from './errors.js'
import { rejectUnknownOptions } from './option-checks.js'

/** Option `knownDeviceCookie` of `createSessionkit`. */
export interface KnownDeviceCookieOptions {
  /** The HMAC key: at least 32 bytes (a string of 32+ characters, or bytes). Keep it stable across restarts. */
  readonly secret: string | Uint8Array
  /** The cookie's name. Default: the session cookie's name + `_known` (so `__Host-sid_known` by default). */
  readonly name?: string
  /** How long a device stays known after its last sign-in, in ms. Default 14 days (GitLab). */
  readonly maxAgeMs?: number
}

const DAY = 24 * 60 * 60 * 1000
export const KNOWN_DEVICE_MAX_AGE_MS = 14 * DAY
const NAME_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$/
const VALUE_PATTERN = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{43})$/
const MAC_CONTEXT = 'sessionkit known device\0'

/** Signs and checks known-device cookies for one Sessionkit. */
export class KnownDeviceCookie {
  readonly name: string
  readonly #secret: Buffer
  readonly #maxAgeMs: number
  readonly #cookie: ResolvedCookieOptions

  /** @throws {InvalidOptionsError} */
  constructor(options: KnownDeviceCookieOptions, cookie: ResolvedCookieOptions) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionsError('knownDeviceCookie must be { secret } or false')
    }
    rejectUnknownOptions('knownDeviceCookie', options, ['secret', 'name', 'maxAgeMs'])
    const secret =
      typeof options.secret === 'string'
        ? Buffer.from(options.secret, 'utf8')
        : options.secret instanceof Uint8Array
          ? Buffer.from(options.secret)
          : undefined
    if (!secret || secret.length < 32) {
      throw new InvalidOptionsError('knownDeviceCookie.secret must be a string or bytes of at least 32 bytes')
    }
    const name = options.name ?? `${cookie.name}_known`
    if (typeof name !== 'string' || !NAME_PATTERN.test(name) || name === cookie.name) {
      throw new InvalidOptionsError(
        'knownDeviceCookie.name must be 1-128 RFC 6265 token characters, other than the session cookie',
      )
    }
    const maxAgeMs = options.maxAgeMs ?? KNOWN_DEVICE_MAX_AGE_MS
    if (!Number.isSafeInteger(maxAgeMs) || maxAgeMs < 60_000 || maxAgeMs > 400 * DAY) {
      throw new InvalidOptionsError(
        'knownDeviceCookie.maxAgeMs must be whole ms between 1 minute and 400 days',
      )
    }
    this.name = name
    this.#secret = secret
    this.#maxAgeMs = maxAgeMs
    this.#cookie = cookie
  }

  /** Whether the request's `Cookie` header carries a valid, unexpired cookie for `encodedUserId`. */
  recognizes(cookieHeader: string | undefined, encodedUserId: string, now: number): boolean {
    const value = readCookieValue(cookieHeader, this.name)
    if (value === undefined || value === AMBIGUOUS) return false
    const match = VALUE_PATTERN.exec(value)
    if (!match) return false
    const expiresAt = parseInt(match[1] as string, 36)
    if (!(expiresAt > now)) return false
    const given = Buffer.from(match[2] as string, 'base64url')
    const expected = this.#mac(encodedUserId, expiresAt)
    return given.length === expected.length && timingSafeEqual(given, expected)
  }

  /** The `Set-Cookie` value that marks this browser as a known device of `encodedUserId` until now + max age. */
  serialize(encodedUserId: string, now: number): string {
    const expiresAt = now + this.#maxAgeMs
    const value = `${expiresAt.toString(36)}.${this.#mac(encodedUserId, expiresAt).toString('base64url')}`
    const cookie = this.#cookie
    return serialize(this.name, value, {
      httpOnly: true,
      secure: cookie.secure,
      sameSite: cookie.sameSite,
      path: cookie.path,
      ...(cookie.domain === undefined ? {} : { domain: cookie.domain }),
      maxAge: Math.floor(this.#maxAgeMs / 1000),
    })
  }

  #mac(encodedUserId: string, expiresAt: number): Buffer {
    return createHmac('sha256', this.#secret).update(`${MAC_CONTEXT}${encodedUserId}\0${expiresAt}`).digest()
  }
}
