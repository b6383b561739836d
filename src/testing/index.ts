/**
 * Test kit: what the peers' users keep asking for (express-session#773, supertest#46).
 *
 * - {@link createTestSessionkit}: a Sessionkit on an in-memory store with the same semantics as Redis, with
 *   insecure cookies allowed (tests talk plain HTTP).
 * - {@link signInCookie}: signs a user in and returns a `Cookie` header value for integration tests.
 * - `withSession` / `detachedSession`: run unit code against a session without any request.
 *
 * @example
 * ```ts
 * const kit = createTestSessionkit()
 * const app = buildApp(kit)
 * const cookie = await signInCookie(kit, 'alice', { data: { role: 'admin' } })
 * const res = await fetch(`${base}/admin`, { headers: { cookie } })
 * ```
 *
 * @module
 */
import type { JsonValue } from '../core/json.js'
import type { SessionkitOptions } from '../core/options.js'
import type { SignInOptions } from '../core/lifecycle.js'
import { createSessionkit, type Sessionkit } from '../core/sessionkit.js'
import type { UserIdInput } from '../core/user-id.js'
import { MemoryStore } from '../stores/memory-store.js'

export { withSession, detachedSession, currentSession } from '../core/current.js'
export { MemoryStore } from '../stores/memory-store.js'

/**
 * A Sessionkit for tests: memory store (no sweep timer), `secure: false` cookies, device parsing on. Override
 * anything; `cookie` options are merged over `{ secure: false }`.
 *
 * @example
 * ```ts
 * const kit = createTestSessionkit({ idleTimeoutMs: 15 * 60 * 1000 }) // what the app configures
 * const app = buildApp(kit)
 * ```
 * @throws {InvalidOptionsError} naming the first invalid option
 */
export function createTestSessionkit(options: Partial<SessionkitOptions> = {}): Sessionkit {
  return createSessionkit({
    ...options,
    store: options.store ?? new MemoryStore({ sweepIntervalMs: 0 }),
    cookie: { secure: false, ...options.cookie },
  })
}

/** Options of {@link signInCookie}: the sign-in's own, and what the fake request carries. */
export interface SignInCookieOptions extends SignInOptions {
  /** The User-Agent recorded for the session. */
  readonly userAgent?: string
  /** The IP address recorded for the session. */
  readonly ipAddress?: string
  /** Session data to store with the sign-in. */
  readonly data?: Record<string, JsonValue>
}

/**
 * Signs `userId` in through the real sign-in path (token rotation, index, device info) and returns the
 * `Cookie` header value (`name=token`) that authenticates as that session.
 *
 * @example
 * ```ts
 * const cookie = await signInCookie(kit, 'alice', { userAgent: 'Mozilla/5.0 ...', data: { role: 'admin' } })
 * const res = await fetch(`${base}/admin`, { headers: { cookie } })
 * ```
 * @throws {InvalidUserIdError}
 * @throws {InvalidSessionValueError} a value of `data` is not JSON-safe
 */
export async function signInCookie(
  kit: Sessionkit,
  userId: UserIdInput,
  options: SignInCookieOptions = {},
): Promise<string> {
  let cookie: string | undefined
  const session = await kit.openSession({
    cookieHeader: undefined,
    userAgent: options.userAgent,
    ipAddress: options.ipAddress,
    headersSent: () => false,
    setCookie(value) {
      const pair = value?.split(';', 1)[0] ?? ''
      // Only the session cookie (not the known-device cookie a sign-in may also set).
      if (value !== undefined && !pair.startsWith(`${kit.cookieName}=`)) return
      cookie = pair.endsWith('=') ? undefined : pair
    },
  })
  for (const [key, value] of Object.entries(options.data ?? {})) session.set(key, value)
  await session.signIn(userId, options)
  await session.commit()
  if (cookie === undefined) throw new Error('sessionkit: sign-in did not issue a cookie')
  return cookie
}
