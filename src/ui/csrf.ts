/**
 * A per-session CSRF token (the synchronizer-token pattern) for the HTML forms, kept in the session under the
 * `sessionkit` namespace. It is made on first use, so a form shown to an anonymous visitor creates a (short-lived,
 * anonymous) session, as GitLab's sign-in page does.
 *
 * @module
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { Session } from '../core/session.js'

const NAMESPACE = 'sessionkit'
const KEY = 'csrf'

/**
 * The session's CSRF token (32 random bytes, base64url), made (and stored with the session) on first use. Put it
 * in a hidden `csrf_token` field and check it with {@link verifyCsrfToken}.
 *
 * @example
 * ```ts
 * res.send(`<form method="post"><input type="hidden" name="csrf_token" value="${csrfToken(req.session)}">...`)
 * // on POST:
 * if (!verifyCsrfToken(req.session, req.body.csrf_token)) return res.status(403).end()
 * ```
 */
export function csrfToken(session: Session): string {
  const store = session.namespace(NAMESPACE)
  const existing = store.get(KEY)
  if (typeof existing === 'string' && existing.length > 0) return existing
  const token = randomBytes(32).toString('base64url')
  store.set(KEY, token)
  return token
}

/** Whether `candidate` (a submitted `csrf_token`) is the session's token. Constant-time; false without a token. */
export function verifyCsrfToken(session: Session, candidate: unknown): boolean {
  const expected = session.namespace(NAMESPACE).get(KEY)
  if (typeof expected !== 'string' || expected.length === 0 || typeof candidate !== 'string') return false
  const a = Buffer.from(expected)
  const b = Buffer.from(candidate)
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * Drops the session's CSRF token (a new one is made on next use). Every sign-in already does (sessionkit's own
 * namespace starts afresh); call it after another privilege change, so that forms shown before it stop working.
 */
export function resetCsrfToken(session: Session): void {
  session.namespace(NAMESPACE).delete(KEY)
}
