/**
 * `sessionkit stats`: totals, sessions by browser/OS/device type, memory by key family (sampled MEMORY USAGE)
 * and the users with the most sessions. One SCAN walk over sessions and one over user indexes.
 *
 * @module
 */
import type { CliContext } from '../connect.js'
import { usageError } from '../errors.js'
import { Reservoir, collectStats, type SessionStats } from '../../admin/stats.js'
import { sampleMemory, type MemoryStats } from '../memory.js'

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
  const sessionKeys = new Reservoir<string>(samples)
  const stats = await collectStats(ctx.store, {
    topUsers: top,
    onSession: (session) => sessionKeys.offer(ctx.store.keys.session(session.ref)),
  })
  const memory = await sampleMemory(ctx.store, { sessionKeys, samples })
  return { ...stats, memory }
}
