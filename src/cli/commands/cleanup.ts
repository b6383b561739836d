/**
 * `sessionkit cleanup [--user ID] [--dry-run] [--max-sessions N]`: prunes index entries whose session is gone
 * and evicts the least recently active sessions beyond the cap, for one user or (SCAN over every master) for all.
 *
 * @module
 */
import { DEFAULTS } from '../../core/options.js'
import { toUserRef } from '../../core/user-id.js'
import type { CliContext } from '../connect.js'
import { usageError, userFromArgument } from '../errors.js'
import { adminKit } from './kit.js'

export interface CleanupOptions {
  readonly user?: string | undefined
  readonly dryRun?: boolean | undefined
  /** The per-user cap to enforce. Default 100 (the library's default). */
  readonly maxSessions?: number | undefined
}

export interface CleanupResult {
  /** True when nothing was written: the counts are what a real run would do. */
  readonly dryRun: boolean
  readonly maxSessions: number
  /** Users whose index was checked. */
  readonly users: number
  /** Index entries whose session was gone (expired, revoked, signed out). */
  readonly pruned: number
  /** Live sessions over the cap, least recently active first. */
  readonly evicted: number
}

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

const PROGRESS_EVERY = 100

export async function cleanupCommand(ctx: CliContext, options: CleanupOptions): Promise<CleanupResult> {
  const { userId, maxSessions } = checkCleanupOptions(options)
  const dryRun = options.dryRun === true
  const kit = adminKit(ctx, maxSessions)
  if (userId !== undefined) {
    const result = await kit.cleanupSessions(userId, { dryRun })
    return { dryRun, maxSessions, users: 1, ...result }
  }
  let users = 0
  let pruned = 0
  let evicted = 0
  // SCAN may return a key twice: clean each user once, so dry-run counts are exact too.
  const done = new Set<string>()
  const report = (): void => {
    ctx.progress?.(`cleanup: ${users} users, ${pruned} pruned, ${evicted} evicted`)
  }
  await ctx.store.scanUsers(async (batch) => {
    for (const id of batch) {
      if (done.has(id)) continue
      done.add(id)
      let user: string
      try {
        user = toUserRef(id).id
      } catch {
        continue // an index key whose user id the library would refuse: not one of ours
      }
      const result = await kit.cleanupSessions(user, { dryRun })
      users++
      pruned += result.pruned
      evicted += result.evicted
      if (users % PROGRESS_EVERY === 0) report()
    }
  })
  report()
  return { dryRun, maxSessions, users, pruned, evicted }
}
