/**
 * The current session outside route handlers: the equivalent of `Gitlab::Session.current` and
 * `Gitlab::Session.with_session`, on AsyncLocalStorage. Adapters bind it before route handlers run; it survives
 * `await`s, timers and body parsing.
 *
 * @module
 */
import { currentContext } from './current-context.js'
import type { JsonValue } from './json.js'
import { Session } from './session.js'
import { SessionState } from './state.js'

/** Default size cap of sessions made by `withSession` from plain data. */
const DETACHED_MAX_BYTES = 64 * 1024

/**
 * The session of the request being handled, or `undefined` where there is none (a job, a token-authenticated
 * call, module top level).
 *
 * @example
 * ```ts
 * function canSeeBeta(): boolean {
 *   return currentSession()?.get('beta') === true
 * }
 * ```
 */
export function currentSession(): Session | undefined {
  // Only Sessions are ever bound (below), so the narrowing is safe.
  return currentContext.getStore() as Session | undefined
}

/**
 * Runs `fn` with `session` as the current session, then restores the previous one, also when `fn` throws.
 * Pass a plain object to get a detached session holding that data (for tests and jobs); pass `undefined` to run
 * `fn` with no session.
 *
 * @example
 * ```ts
 * withSession({ my_feature: true }, () => {
 *   currentSession()?.get('my_feature') // true
 * })
 * ```
 */
export function withSession<T>(session: Session | Record<string, JsonValue> | undefined, fn: () => T): T {
  return currentContext.run(
    session === undefined || session instanceof Session ? session : detachedSession(session),
    fn,
  )
}

/**
 * A session that belongs to no request and no store: its data lives only in memory. Lifecycle methods
 * (`signIn`, `signOut`...) throw `NoRequestError` on it.
 *
 * @example
 * ```ts
 * const session = detachedSession({ role: 'admin' })
 * session.get('role') // 'admin'
 * ```
 */
export function detachedSession(
  data: Record<string, JsonValue> = {},
  maxBytes = DETACHED_MAX_BYTES,
): Session {
  const session = new Session(new SessionState(undefined, maxBytes), undefined)
  for (const [key, value] of Object.entries(data)) session.set(key, value)
  return session
}

/** Binds `session` as the current session for the rest of `fn`'s async work. Used by the adapters. */
export function runWithSession<T>(session: Session, fn: () => T): T {
  return currentContext.run(session, fn)
}
