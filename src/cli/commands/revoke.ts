/**
 * `sessionkit revoke SESSION_ID` and `sessionkit revoke --user ID [--except SESSION_ID]`, through the admin
 * service: a signed-in session goes with its index entry in one atomic step, an anonymous one is destroyed. The
 * session id carries its slot tag, so no lookup table is needed to find the key.
 *
 * @module
 */
import type { SessionRef } from '../../core/token.js'
import type { UserRef } from '../../core/user-id.js'
import type { CliContext } from '../connect.js'
import { notFoundError, usageError, userFromArgument } from '../errors.js'
import { adminOf } from './admin.js'
import { foreignKeyError, parseId } from './show.js'

export interface RevokeOptions {
  readonly sessionId?: string | undefined
  readonly user?: string | undefined
  readonly except?: string | undefined
}

export interface RevokeResult {
  /** How many sessions were removed. */
  readonly revoked: number
  /** The user whose sessions were revoked; `null` for an anonymous session (or an owner that does not decode). */
  readonly userId: string | null
  /** The one session asked for, if any. */
  readonly sessionId: string | null
  /** The session spared by `--except`, if any. */
  readonly except: string | null
}

type RevokeTarget =
  | { readonly kind: 'session'; readonly ref: SessionRef; readonly user: UserRef | undefined }
  | { readonly kind: 'user'; readonly user: UserRef; readonly except: SessionRef | undefined }

/** @throws {CliError} exit 2 for a bad combination or a malformed id or user id */
export function checkRevokeOptions(options: RevokeOptions): RevokeTarget {
  const user = options.user === undefined ? undefined : userFromArgument(options.user)
  const ref = options.sessionId === undefined ? undefined : parseId(options.sessionId)
  if (options.except !== undefined) {
    if (!user) throw usageError('--except needs --user')
    if (ref) throw usageError('give either SESSION_ID or --except, not both')
    return { kind: 'user', user, except: parseId(options.except) }
  }
  if (ref) return { kind: 'session', ref, user }
  if (user) return { kind: 'user', user, except: undefined }
  throw usageError('revoke needs a SESSION_ID or --user ID')
}

/** @throws {CliError} exit 1 when the session (or the `--except` session) is not found */
export async function revokeCommand(ctx: CliContext, options: RevokeOptions): Promise<RevokeResult> {
  const target = checkRevokeOptions(options)
  const admin = adminOf(ctx)
  if (target.kind === 'user') {
    const { user, except } = target
    const outcome = await admin.revokeUserSessions(user.id, { except: except?.id })
    if (outcome.status === 'except-not-theirs') {
      throw notFoundError(
        `session ${except?.id ?? ''} (--except) is not a session of user ${JSON.stringify(user.id)}`,
      )
    }
    return { revoked: outcome.revoked, userId: user.id, sessionId: null, except: except?.id ?? null }
  }
  const { ref, user } = target
  const outcome = await admin.revokeSession(ref.id, { userId: user?.id })
  if (outcome.status === 'foreign') throw foreignKeyError(ref, outcome.key.reason)
  if (outcome.status === 'missing') {
    const whose = user ? ` of user ${JSON.stringify(user.id)}` : ''
    throw notFoundError(`session ${ref.id}${whose} not found`)
  }
  return { revoked: 1, userId: outcome.userId, sessionId: ref.id, except: null }
}
