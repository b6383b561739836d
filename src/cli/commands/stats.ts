/**
 * `sessionkit stats`: totals, sessions by browser/OS/device type, memory by key family (sampled MEMORY USAGE)
 * and the users with the most sessions. One SCAN walk over sessions (the admin service's stats) and one over user
 * indexes; keys that are not sessionkit's are skipped and reported.
 *
 * @module
 */
import { SkippedCollector } from '../../admin/skipped.js'
import { Reservoir, type SessionStats } from '../../admin/stats.js'
import type { CliContext } from '../connect.js'
import { usageError } from '../errors.js'
import { sampleMemory, type MemoryStats } from '../memory.js'
import { ofTotal, totalForProgress } from '../progress.js'
import { adminOf } from './admin.js'

export interface StatsOptions {
  /** Users listed in `topUsers`. Default 10. */
  readonly top?: number | undefined
  /** Keys of each family whose MEMORY USAGE is read. Default 200. */
  readonly samples?: number | undefined
}

export interface StatsResult extends SessionStats {
  readonly memory: MemoryStats
}

export function checkStatsOptions(options: StatsOptions): { top: number; samples: number } {
  const top = options.top ?? 10
  const samples = options.samples ?? 200
  if (!Number.isSafeInteger(top) || top < 0 || top > 10_000) {
    throw usageError('--top must be an integer from 0 to 10000')
  }
  if (!Number.isSafeInteger(samples) || samples < 0 || samples > 100_000) {
    throw usageError('--samples must be an integer from 0 to 100000')
  }
  return { top, samples }
}

export async function statsCommand(ctx: CliContext, options: StatsOptions = {}): Promise<StatsResult> {
  const { top, samples } = checkStatsOptions(options)
  const { keys } = ctx.store
  const sessionTotal = await totalForProgress(ctx, 'stats: counting sessions', keys.sessionPattern)
  const indexTotal = await totalForProgress(ctx, 'stats: counting user indexes', keys.userIndexPattern)
  const skipped = new SkippedCollector()
  const sessionKeys = new Reservoir<string>(samples)
  const stats = await adminOf(ctx).stats({
    topUsers: top,
    skipped,
    onSession: (session) => sessionKeys.offer(keys.session(session.ref)),
    onProgress: reporter(ctx, sessionTotal, (n, total) => `stats: ${ofTotal(n, total)} sessions`),
  })
  const memory = await sampleMemory(ctx.store, {
    sessionKeys,
    samples,
    skipped,
    onProgress: reporter(ctx, indexTotal, (n, total) => `stats: ${ofTotal(n, total)} user indexes`),
  })
  return { ...stats, memory, skipped: skipped.report() }
}

function reporter(
  ctx: CliContext,
  total: number | undefined,
  line: (done: number, total: number) => string,
): ((done: number) => void) | undefined {
  const progress = ctx.progress
  if (!progress || total === undefined) return undefined
  return (done) => {
    progress(line(done, total))
  }
}
