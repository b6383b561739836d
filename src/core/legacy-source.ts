/**
 * The port through which sessions of another session library are adopted (lazy migration, as GitLab read both
 * session formats until the old one aged out). When a request carries no sessionkit cookie but the cookie of the
 * legacy library, the facade asks the configured {@link LegacySource} for the legacy session; the source checks
 * the cookie's signature and takes the session out of the legacy store (atomically, so it is taken at most once),
 * and sessionkit stores its data as a new session, signed in as its user. Implementations live in
 * `sessionkit/migrate` (`fromExpressSession`, `fromFastifySession`).
 *
 * @module
 */
import { SessionkitError } from './errors.js'
import type { JsonValue } from './json.js'
import type { Session } from './session.js'
import type { HttpContext } from './state.js'
import type { UserIdInput } from './user-id.js'

/** What a legacy source found for a request: `kind` says which case it is. */
export type LegacyLookup =
  /** No usable legacy cookie (absent, unsigned, bad signature): nothing to do. */
  | {
      /** Nothing to adopt. */
      readonly kind: 'none'
    }
  /**
   * A validly signed cookie whose session is gone or unusable (missing key, not a JSON object). The visitor is
   * anonymous; `clearCookie` (a `Set-Cookie` value) removes the legacy cookie so it is not looked up again.
   */
  | {
      /** The cookie named a session that is not there. */
      readonly kind: 'gone'
      /** The `Set-Cookie` value that removes the legacy cookie, if the source knows one. */
      readonly clearCookie: string | undefined
    }
  /** A legacy session, already taken out of the legacy store (no other request can take it any more). */
  | LegacySession

/** A legacy session a source took out of its store, ready to be adopted. */
export interface LegacySession {
  /** A session was found (and taken). */
  readonly kind: 'found'
  /** The session's data, top-level keys to JSON values (the legacy library's own fields removed). */
  readonly data: Readonly<Record<string, JsonValue>>
  /** Who is signed in, as the source's `userId(data)` said; `undefined` for an anonymous session. */
  readonly userId: UserIdInput | undefined
  /** Whether the legacy cookie outlived the browser session (it had an expiry): the new one does too. */
  readonly rememberMe: boolean
  /** The `Set-Cookie` value that removes the legacy cookie, sent once the session is adopted. */
  readonly clearCookie: string | undefined
  /** Puts the legacy session back as it was (best effort), when it could not be adopted. */
  restore(): Promise<void>
}

/**
 * A legacy session store sessionkit can adopt sessions from.
 *
 * @example
 * ```ts
 * import { createSessionkit, fromExpressSession } from 'sessionkit/migrate'
 *
 * const kit = createSessionkit({
 *   store: new RedisStore({ client }),
 *   migrateFrom: fromExpressSession({ client, secret, userId: (data) => data.passport?.user }),
 * })
 * ```
 */
export interface LegacySource {
  /** The legacy cookie's name: requests whose `Cookie` header does not contain it are not looked up. */
  readonly cookieName: string
  /**
   * Looks up the legacy session the `Cookie` header names and, when there is one, takes it out of the legacy
   * store. Bad input (no cookie, bad signature, unparsable data) is never an error: it answers `none` or `gone`.
   *
   * @throws {StoreUnavailableError} the legacy store failed
   */
  take(cookieHeader: string): Promise<LegacyLookup>
}

/**
 * Adopts the legacy session a request names into `session` (a fresh, empty session of that request): its data is
 * stored as a new sessionkit session, signed in as its user (token, device and index, like any sign-in). Keys
 * sessionkit cannot store (a name or value it refuses) are dropped with a process warning; everything else
 * carries over. If storing fails, the legacy session is put back and the error goes to the adapter (a 503).
 */
export async function adoptLegacySession(
  session: Session,
  source: LegacySource,
  http: HttpContext,
  cookieHeader: string,
): Promise<Session> {
  const found = await source.take(cookieHeader)
  if (found.kind === 'none') return session
  if (found.kind === 'gone') {
    if (found.clearCookie !== undefined) http.appendSetCookie?.(found.clearCookie)
    return session
  }
  try {
    for (const [key, value] of Object.entries(found.data)) setOrDrop(session, key, value)
    if (found.userId === undefined) await session.commit()
    else await session.signIn(found.userId, { rememberMe: found.rememberMe })
  } catch (error) {
    await found.restore().catch(() => undefined)
    throw error
  }
  // Only now: had the adoption failed, the browser must keep the cookie that names the restored session.
  if (found.clearCookie !== undefined) http.appendSetCookie?.(found.clearCookie)
  return session
}

/** Key names already warned about, so a legacy store full of one odd key does not flood the log. */
const warned = new Set<string>()
const MAX_WARNED = 100

function setOrDrop(session: Session, key: string, value: JsonValue): void {
  try {
    session.set(key, value)
  } catch (error) {
    if (!(error instanceof SessionkitError)) throw error
    if (warned.has(key) || warned.size >= MAX_WARNED) return
    warned.add(key)
    // The message names the key and the reason (never a value: it may be a secret).
    process.emitWarning(`sessionkit migration: a legacy session key was not carried over: ${error.message}`, {
      code: 'SESSIONKIT_LEGACY_KEY_DROPPED',
    })
  }
}
