/**
 * The session cookie: options checked once at construction, the value read from a `Cookie` header, and
 * `Set-Cookie` values written with the `cookie` library (which validates every attribute it serialises).
 *
 * Reading is done here rather than with `cookie.parse`, on purpose: the library trims whitespace around names
 * and keeps only the first of duplicate names, and a session layer must do neither. A name only matches
 * byte-for-byte (`__Host-sid ` or `\u2000__Host-sid` are other cookies, see the cookie-prefix bypass research),
 * and several *different* values for our name are refused as ambiguous instead of guessing which one the
 * browser meant (a subdomain or a longer Path can plant one in front of ours).
 *
 * @module
 */
import { serialize } from 'cookie'
import { InvalidOptionsError } from './errors.js'
import { rejectUnknownOptions } from './option-checks.js'
import { isWellFormedToken } from './token.js'

/**
 * The session cookie (`createSessionkit({ cookie })`). The defaults give `__Host-sid`: `HttpOnly`, `Secure`,
 * `SameSite=Lax`, `Path=/`, no `Domain`; only `secure: false` is needed for plain-HTTP development.
 */
export interface SessionCookieOptions {
  /**
   * Cookie name without prefix: 1-128 RFC 6265 token characters, not starting with `__Host-`/`__Secure-` (ask
   * for the prefix with `hostPrefix`). Default `sid`.
   */
  readonly name?: string
  /**
   * Add the `__Host-` prefix: the browser then only accepts the cookie from this exact host, over HTTPS, with
   * `Path=/` and no `Domain`, which stops a sibling subdomain from planting one ("cookie tossing"). Default: on
   * whenever the cookie is `Secure` with `Path=/` and no `Domain`; `false` opts out.
   */
  readonly hostPrefix?: boolean
  /**
   * Send the cookie over HTTPS only (default true). Setting it to false is the explicit development override for
   * plain-HTTP localhost; never do it in production.
   */
  readonly secure?: boolean
  /** The `SameSite` attribute. Default `lax`. `none` needs `secure: true`. */
  readonly sameSite?: 'lax' | 'strict' | 'none'
  /** The `Path` attribute. Default `/`. */
  readonly path?: string
  /** The `Domain` attribute, a plain host name. Default none (host-only cookie, the safest). */
  readonly domain?: string
}

/** The session cookie's attributes as they are sent, after validation and defaults (it is always `HttpOnly`). */
export interface ResolvedCookieOptions {
  /** The full name, `__Host-` prefix included when it applies (`__Host-sid` by default). */
  readonly name: string
  /** Whether the cookie carries `Secure`. */
  readonly secure: boolean
  /** The `SameSite` attribute. */
  readonly sameSite: 'lax' | 'strict' | 'none'
  /** The `Path` attribute. */
  readonly path: string
  /** The `Domain` attribute; `undefined` for a host-only cookie. */
  readonly domain: string | undefined
}

/** What the request's `Cookie` header says about our session cookie. */
export type CookieReading =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  /** Present, but not a token we could have issued. */
  | { readonly kind: 'malformed' }
  /** Several different values for our name. */
  | { readonly kind: 'ambiguous' }

// RFC 6265 cookie-name token characters.
const NAME_PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$/
const PATH_PATTERN = /^\/[\x21-\x3a\x3c-\x7e]*$/
const DOMAIN_PATTERN = /^\.?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i
// Browsers cap Max-Age at 400 days (RFC 6265bis 5.6.2).
const MAX_AGE_LIMIT_SECONDS = 400 * 24 * 3600

/** Validates cookie options. Throws {@link InvalidOptionsError} with the reason. */
export function resolveCookieOptions(options: SessionCookieOptions = {}): ResolvedCookieOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError('cookie must be an object')
  }
  rejectUnknownOptions('cookie', options, ['name', 'hostPrefix', 'secure', 'sameSite', 'path', 'domain'])
  const base = checkName(options.name ?? 'sid')
  const { secure, sameSite, path, domain } = checkAttributes(options)
  const hostPrefix = checkHostPrefix(options.hostPrefix, secure, path, domain)
  return Object.freeze({ name: hostPrefix ? `__Host-${base}` : base, secure, sameSite, path, domain })
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new InvalidOptionsError(
      `cookie.name must be 1-128 RFC 6265 token characters, got ${JSON.stringify(name)}`,
    )
  }
  if (/^__(host|secure)-/i.test(name)) {
    throw new InvalidOptionsError('cookie.name must not carry a prefix: use cookie.hostPrefix: true instead')
  }
  return name
}

function checkAttributes(options: SessionCookieOptions): Omit<ResolvedCookieOptions, 'name'> {
  const { secure = true, sameSite = 'lax', path = '/', domain } = options
  if (typeof secure !== 'boolean') throw new InvalidOptionsError('cookie.secure must be a boolean')
  if (!['lax', 'strict', 'none'].includes(sameSite)) {
    throw new InvalidOptionsError(
      `cookie.sameSite must be 'lax', 'strict' or 'none', got ${JSON.stringify(sameSite)}`,
    )
  }
  if (sameSite === 'none' && !secure) {
    throw new InvalidOptionsError(
      "cookie.sameSite 'none' requires cookie.secure: true (browsers drop it otherwise)",
    )
  }
  if (typeof path !== 'string' || !PATH_PATTERN.test(path)) {
    throw new InvalidOptionsError(`cookie.path must start with / and contain no ; or control characters`)
  }
  if (domain !== undefined && (typeof domain !== 'string' || !DOMAIN_PATTERN.test(domain))) {
    throw new InvalidOptionsError(`cookie.domain must be a plain host name, got ${JSON.stringify(domain)}`)
  }
  return { secure, sameSite, path, domain }
}

/** The `__Host-` prefix: on by default whenever the browser would accept it (secure, `Path=/`, no `Domain`). */
function checkHostPrefix(value: unknown, secure: boolean, path: string, domain: string | undefined): boolean {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidOptionsError('cookie.hostPrefix must be a boolean')
  }
  if (value === true) {
    if (!secure) throw new InvalidOptionsError('cookie.hostPrefix requires cookie.secure: true')
    if (path !== '/') throw new InvalidOptionsError('cookie.hostPrefix requires cookie.path "/"')
    if (domain !== undefined) throw new InvalidOptionsError('cookie.hostPrefix forbids cookie.domain')
  }
  return value ?? (secure && path === '/' && domain === undefined)
}

/** Finds our cookie in a `Cookie` header, by exact name. */
export function readSessionCookie(header: string | undefined, name: string): CookieReading {
  const found = readCookieValue(header, name)
  if (found === undefined || found === AMBIGUOUS) return { kind: found === undefined ? 'none' : 'ambiguous' }
  return isWellFormedToken(found) ? { kind: 'token', token: found } : { kind: 'malformed' }
}

/** What {@link readCookieValue} returns when a header carries several different values for one name. */
export const AMBIGUOUS: unique symbol = Symbol('ambiguous cookie')

/**
 * The value of the cookie named exactly `name` (byte for byte, no trimming), `undefined` when absent, or
 * {@link AMBIGUOUS} when several different values are present (never a guess at which one the browser meant).
 */
export function readCookieValue(
  header: string | undefined,
  name: string,
): string | typeof AMBIGUOUS | undefined {
  if (header === undefined || header === '' || !header.includes(name)) return undefined
  let found: string | undefined
  let start = 0
  while (start < header.length) {
    let end = header.indexOf(';', start)
    if (end === -1) end = header.length
    // Browsers separate pairs with "; ": skip exactly the spaces after the separator, nothing else.
    let i = start
    while (header.charCodeAt(i) === 0x20) i++
    const eq = header.indexOf('=', i)
    if (eq !== -1 && eq < end && eq - i === name.length && header.startsWith(name, i)) {
      const value = header.slice(eq + 1, end)
      if (found !== undefined && found !== value) return AMBIGUOUS
      found = value
    }
    start = end + 1
  }
  return found
}

/**
 * The `Set-Cookie` value carrying `token`.
 *
 * @param expiresAt for a persistent ("remember me") cookie, when it should expire (epoch ms); omit for a
 *   browser-session cookie
 */
export function serializeSessionCookie(
  options: ResolvedCookieOptions,
  token: string,
  expiresAt?: number,
  now: number = Date.now(),
): string {
  const maxAge =
    expiresAt === undefined
      ? undefined
      : Math.max(0, Math.min(MAX_AGE_LIMIT_SECONDS, Math.floor((expiresAt - now) / 1000)))
  return serialize(options.name, token, {
    httpOnly: true,
    secure: options.secure,
    sameSite: options.sameSite,
    path: options.path,
    ...(options.domain === undefined ? {} : { domain: options.domain }),
    ...(maxAge === undefined ? {} : { maxAge }),
  })
}

/** The `Set-Cookie` value that deletes the cookie (at another `Domain` or `Path` when `scope` says so). */
export function serializeClearedCookie(
  options: ResolvedCookieOptions,
  scope: { readonly domain?: string | undefined; readonly path?: string } = {},
): string {
  const domain = scope.domain ?? options.domain
  return serialize(options.name, '', {
    httpOnly: true,
    secure: options.secure,
    sameSite: options.sameSite,
    path: scope.path ?? options.path,
    ...(domain === undefined ? {} : { domain }),
    maxAge: 0,
    expires: new Date(0),
  })
}

/** Most path levels of the request that get a clear when a cookie was tossed. */
const TOSSED_PATH_LEVELS = 3

/**
 * Where a cookie tossed in front of ours may live: a sibling subdomain can set our name for any parent domain of
 * the host, and for any path prefix of the page (a longer path is sent first). Returns those scopes, so that a
 * response can clear them all and the next sign-in is not locked out by the duplicate. `__Host-` cookies cannot
 * be tossed (browsers refuse `Domain` on them), which is why they are the default when secure.
 */
export function tossedCookieScopes(
  host: string | undefined,
  path: string | undefined,
): { domain: string | undefined; path: string }[] {
  const domains: (string | undefined)[] = [undefined]
  if (host !== undefined && /^[a-z0-9.-]+$/i.test(host) && !/^[\d.]+$/.test(host)) {
    const labels = host.toLowerCase().split('.')
    for (let i = 0; i + 1 < labels.length; i++) domains.push(labels.slice(i).join('.'))
  }
  const paths = ['/']
  const segments =
    (path ?? '/')
      .split('?', 1)[0]
      ?.split('/')
      .filter((s) => s !== '') ?? []
  for (let i = 1; i <= Math.min(segments.length, TOSSED_PATH_LEVELS); i++) {
    const prefix = `/${segments.slice(0, i).join('/')}`
    if (PATH_PATTERN.test(prefix)) paths.push(prefix)
  }
  return domains.flatMap((domain) => paths.map((p) => ({ domain, path: p })))
}
