/**
 * `sessionkit list --user ID`: a user's live sessions, with the fields of the Active Sessions API.
 *
 * @module
 */
import { toActiveSessionJson, type ActiveSessionJson } from '../../core/active-session-json.js'
import type { SkippedKeys } from '../../admin/skipped.js'
import type { CliContext } from '../connect.js'
import { usageError, userFromArgument } from '../errors.js'
import { adminOf } from './admin.js'

export interface ListOptions {
  readonly user?: string | undefined
}

/**
 * One session as `list --json` shows it: the API's fields (times as ISO 8601) plus what an admin needs. `current`
 * is always false (the CLI has no request); it stays so the shape is the API's.
 */
export interface ListedSessionView extends ActiveSessionJson {
  readonly current: false
  readonly userId: string
  /** When the session expires unless used. */
  readonly expiresAt: string
  readonly absoluteExpiresAt: string
  readonly impersonated: boolean
  readonly rememberMe: boolean
}

export interface ListResult {
  readonly userId: string
  readonly sessions: readonly ListedSessionView[]
  /** Index entries whose session the library would refuse (malformed metadata): not listed above. */
  readonly skipped: SkippedKeys
}

/** @throws {CliError} exit 2 without a valid `--user` */
export function checkListOptions(options: ListOptions): { userId: string } {
  if (options.user === undefined) throw usageError('list needs --user ID')
  return { userId: userFromArgument(options.user).id }
}

export async function listCommand(ctx: CliContext, options: ListOptions): Promise<ListResult> {
  const { userId } = checkListOptions(options)
  const { sessions, skipped } = await adminOf(ctx).listSessions(userId)
  return {
    userId,
    sessions: sessions.map((s) => ({
      ...toActiveSessionJson(s),
      current: false,
      userId: s.userId,
      expiresAt: s.expiresAt.toISOString(),
      absoluteExpiresAt: s.absoluteExpiresAt.toISOString(),
      impersonated: s.impersonated,
      rememberMe: s.rememberMe,
    })),
    skipped,
  }
}
