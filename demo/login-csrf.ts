/**
 * CSRF protection for the sign-in form without a session (a signed double-submit token): `GET /login` puts a
 * random nonce signed with the demo's secret both in a cookie and in the form, and `POST /login` accepts the form
 * only when the two match and the signature holds. Nothing is stored server-side, so a flood of `GET /login`
 * creates no session at all (a session-bound token would store one per visit, as GitLab's sign-in page does).
 *
 * The cookie is scoped to the sign-in path and lives two hours. Served over HTTPS, name it `__Host-login_csrf`
 * (with `Secure` and `Path=/`) so a sibling subdomain cannot plant one.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

const COOKIE = 'login_csrf'
const MAX_AGE_S = 2 * 60 * 60
const TOKEN = /^(\d{1,15})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/

export class LoginCsrf {
  readonly #secret: Buffer
  readonly #path: string

  constructor(secret: Uint8Array, path: string) {
    this.#secret = Buffer.from(secret)
    this.#path = path
  }

  /**
   * The token for a sign-in form: the one the browser already holds (so a re-shown form keeps working), else a
   * new one with its `Set-Cookie` value.
   */
  issue(cookieHeader: string | undefined, now = Date.now()): { token: string; setCookie?: string } {
    const held = cookieValue(cookieHeader)
    if (held !== undefined && this.#valid(held, now)) return { token: held }
    const expiresAt = now + MAX_AGE_S * 1000
    const nonce = randomBytes(16).toString('base64url')
    const token = `${expiresAt}.${nonce}.${this.#sign(`${expiresAt}.${nonce}`)}`
    const setCookie = `${COOKIE}=${token}; Path=${this.#path}; Max-Age=${MAX_AGE_S}; HttpOnly; SameSite=Lax`
    return { token, setCookie }
  }

  /** Whether the submitted form token is the browser's cookie token, and genuine. */
  verify(cookieHeader: string | undefined, submitted: unknown, now = Date.now()): boolean {
    const held = cookieValue(cookieHeader)
    if (held === undefined || typeof submitted !== 'string' || !this.#valid(held, now)) return false
    const a = Buffer.from(held)
    const b = Buffer.from(submitted)
    return a.length === b.length && timingSafeEqual(a, b)
  }

  #valid(token: string, now: number): boolean {
    const match = TOKEN.exec(token)
    if (!match || !(Number(match[1]) > now)) return false
    const expected = Buffer.from(this.#sign(`${match[1]}.${match[2]}`))
    const given = Buffer.from(match[3] ?? '')
    return expected.length === given.length && timingSafeEqual(expected, given)
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#secret).update(`login-csrf:${payload}`).digest('base64url')
  }
}

/** The `login_csrf` cookie's value; `undefined` when absent or given twice with different values. */
function cookieValue(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const values = new Set<string>()
  for (const part of header.split(';')) {
    const pair = part.trim()
    if (pair.startsWith(`${COOKIE}=`)) values.add(pair.slice(COOKIE.length + 1))
  }
  return values.size === 1 ? [...values][0] : undefined
}
