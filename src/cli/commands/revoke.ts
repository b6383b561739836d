/**
 * `sessionkit revoke SESSION_ID` and `sessionkit revoke --user ID [--except SESSION_ID]`.
 *
 * A signed-in session is revoked through the store's per-user script, so the session and its index entry go
 * together atomically; an anonymous session is destroyed directly. The session id carries its slot tag, so no
 * lookup table is needed to find the key.
 *
 * @module
 */
import { META } from '../../core/stored-fields.js'
import { parseSessionId, type SessionRef } from '../../core/token.js'
import { decodeStoredUserId, type UserRef } from '../../core/user-id.js'
import type { CliContext } from '../connect.js'
import { notFoundError, usageError, userFromArgument } from '../errors.js'
import { adminKit } from './kit.js'
import { describeId } from './show.js'

export interface RevokeOptions {
  readonly sessionId?: string | undefined
  readonly user?: string | undefined
  readonly except?: string | undefined
}

export interface RevokeResult {
  /** How many sessions were removed. */
  readonly revoked: number
  /** The user whose sessions were revoked; `null` for an anonymous session. */
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

function parseId(id: string): SessionRef {
  const ref = parseSessionId(id)
  if (!ref) throw usageError(`${describeId(id)} is not a session id (<tag>.<64 hex>)`)
  return ref
}

export async function revokeCommand(ctx: CliContext, options: RevokeOptions): Promise<RevokeResult> {
  const target = checkRevokeOptions(options)
  const kit = adminKit(ctx)
  if (target.kind === 'user') {
    const { user, except } = target
    if (!except) {
      const revoked = await kit.revokeAllSessions(user.id, { includeImpersonated: true })
      return { revoked, userId: user.id, sessionId: null, except: null }
    }
    // Refuse rather than revoke everything when the session to keep is not this user's.
    if ((await ownerOf(ctx, except)) !== user.encoded) {
      throw notFoundError(
        `session ${except.id} (--except) is not a session of user ${JSON.stringify(user.id)}`,
      )
    }
    const revoked = await ctx.store.revoke(user, {
      kind: 'all',
      exceptHash: except.hash,
      spareImpersonated: false,
    })
    return { revoked, userId: user.id, sessionId: null, except: except.id }
  }
  const { ref, user } = target
  if (user) {
    if (!(await kit.revokeSession(user.id, ref.id))) {
      throw notFoundError(`session ${ref.id} of user ${JSON.stringify(user.id)} not found`)
    }
    return { revoked: 1, userId: user.id, sessionId: ref.id, except: null }
  }
  const owner = await ownerOf(ctx, ref)
  if (owner === undefined) throw notFoundError(`session ${ref.id} not found`)
  if (owner !== null) {
    const userId = safeDecode(owner)
    if (userId !== undefined && (await kit.revokeSession(userId, ref.id))) {
      return { revoked: 1, userId, sessionId: ref.id, except: null }
    }
  }
  // Anonymous, or a session whose owner field does not match its slot (the library treats it as absent):
  // delete it and whatever index entry names it.
  if (!(await ctx.store.destroy(ref))) throw notFoundError(`session ${ref.id} not found`)
  return {
    revoked: 1,
    userId: owner === null ? null : (safeDecode(owner) ?? owner),
    sessionId: ref.id,
    except: null,
  }
}

/** The encoded owner of a session, `null` when anonymous, `undefined` when there is no such session. */
async function ownerOf(ctx: CliContext, ref: SessionRef): Promise<string | null | undefined> {
  const found = await ctx.store.inspect(ref)
  if (!found) return undefined
  return found.fields.find(([name]) => name === META.userId)?.[1] ?? null
}

function safeDecode(encoded: string): string | undefined {
  return decodeStoredUserId(encoded)
}
