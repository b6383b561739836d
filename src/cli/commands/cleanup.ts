/**
 * `sessionkit cleanup [--user ID] [--dry-run] [--max-sessions N]`: prunes index entries whose session is gone
 * and evicts the least recently active sessions beyond the cap, for one user or (SCAN over every master) for all,
 * through the admin service. Index keys that are not sessionkit's are skipped and reported.
 *
 * @module
 */
import type { CleanupProgress, CleanupReport } from '../../admin/admin-service.js'
import { DEFAULTS } from '../../core/options.js'
import type { CliContext } from '../connect.js'
import { usageError, userFromArgument } from '../errors.js'
import { formatCount, ofTotal, totalForProgress } from '../progress.js'
import { adminOf } from './admin.js'

export interface CleanupOptions {
  readonly user?: string | undefined
  readonly dryRun?: boolean | undefined
  /** The per-user cap to enforce. Default 100 (the library's default). */
  readonly maxSessions?: number | undefined
}

/** What `cleanup --json` prints. */
export type CleanupResult = CleanupReport

export const MAX_SESSIONS_LIMIT = 100_000

/** @throws {CliError} exit 2 for an invalid user id or cap */
export function checkCleanupOptions(options: CleanupOptions): {
  userId: string | undefined
  maxSessions: number
} {
  const maxSessions = options.maxSessions ?? DEFAULTS.maxSessionsPerUser
  if (!Number.isSafeInteger(maxSessions) || maxSessions < 1 || maxSessions > MAX_SESSIONS_LIMIT) {
    throw usageError(`--max-sessions must be an integer from 1 to ${MAX_SESSIONS_LIMIT}`)
  }
  const userId = options.user === undefined ? undefined : userFromArgument(options.user).id
  return { userId, maxSessions }
}

export async function cleanupCommand(ctx: CliContext, options: CleanupOptions): Promise<CleanupResult> {
  const { userId, maxSessions } = checkCleanupOptions(options)
  const dryRun = options.dryRun === true
  const total =
    userId === undefined
      ? await totalForProgress(ctx, 'cleanup: counting users', ctx.store.keys.userIndexPattern)
      : undefined
  const progress = ctx.progress
  const onProgress =
    progress && total !== undefined
      ? (p: CleanupProgress): void => {
          const { pruned, evicted } = p
          progress(
            `cleanup: ${ofTotal(p.users, total)} users, ${formatCount(pruned)} pruned, ${formatCount(evicted)} evicted`,
          )
        }
      : undefined
  return adminOf(ctx).cleanup({ userId, dryRun, maxSessions, onProgress })
}
