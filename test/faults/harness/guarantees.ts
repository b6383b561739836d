/**
 * The guarantees a scenario asserts, named after the promises they check. Each scenario says which hold for its
 * deployment: everything that does not depend on data surviving holds everywhere.
 */
import { expect } from 'vitest'
import type { FaultReport } from './verify.js'

export interface Expectations {
  /** The app's store deadline (ms). */
  readonly timeoutMs: number
  /** Data survives the fault (pause, AOF always, graceful failover): nothing acknowledged is lost. */
  readonly durable: boolean
  /** Acknowledged sign-outs, revocations and rotations are never undone by the fault. */
  readonly revocationsDurable: boolean
  /** Definite failures never take effect later (writes, sign-ins, sign-outs, revocations, ghosts). */
  readonly noReplays: boolean
  /** Only writes acknowledged within the last ~2 s before the fault may be lost (AOF everysec). */
  readonly onlyRecentLost?: boolean
  /** Most growth of heap + external memory over the baseline, MB. */
  readonly maxGrowthMb?: number
}

/**
 * A 503 must come within the store deadline. The machine's own load delays every answer, failed or not, so the
 * bound is relative to what a successful request took in the same run: nearly all 503s (the 99th percentile)
 * within the deadline plus the 99th percentile of successes plus a second (the deadline sweep, HTTP); every 503
 * within the deadline plus the slowest success plus five seconds. That still catches what this is about: a
 * request hanging on a dead store (for the client's retries, or for good), not one that was merely slow.
 */
const P99_SLACK_MS = 1000
const MAX_SLACK_MS = 5000

export function expectGuarantees(r: FaultReport, e: Expectations): void {
  // The process never crashes, and every failure is a clean 503 (or a 409 conflict), never a 500 or a hang-up.
  expect(r.appAlive, 'the app process is alive').toBe(true)
  const unexpected = Object.keys(r.statuses).filter((s) => !['200', '409', '503'].includes(s))
  expect(unexpected, 'status codes other than 200, 409, 503').toEqual([])
  expect(r.failureLatency.p99, '503 answers come within the store deadline (p99)').toBeLessThanOrEqual(
    e.timeoutMs + r.successLatency.p99 + P99_SLACK_MS,
  )
  expect(r.failureLatency.max, 'no request hangs on a failed store').toBeLessThanOrEqual(
    e.timeoutMs + r.successLatency.max + MAX_SLACK_MS,
  )
  // A store failure never clears or replaces the cookie.
  expect(r.cookieOnFailure, 'failed answers that touched the cookie').toBe(0)
  expect(r.crossedSessions, 'answers naming another session').toBe(0)
  expect(r.keysWithoutTtl, 'keys without a TTL').toBe(0)
  expect(r.unindexed, 'live sessions missing from their index').toBe(0)
  if (e.durable) {
    expect(r.sessions.lost, 'sessions lost').toBe(0)
    expect(r.writes.lost, 'acknowledged writes lost').toBe(0)
  }
  if (e.onlyRecentLost) {
    expect(r.writes.lostWellBeforeFault, 'writes acknowledged >2 s before the fault lost').toBe(0)
  }
  if (e.revocationsDurable) {
    // What counts is that no ended session authenticates again, while the load runs or after (`inStore` is only
    // reported: how a store marks an ended session is its own business).
    expect(
      { probed: r.resurrections.probed, final: r.resurrections.final },
      'ended sessions that worked again',
    ).toEqual({ probed: 0, final: 0 })
  }
  if (e.noReplays) {
    const definite = {
      writes: r.replayed.writes.definite,
      signIns: r.replayed.signIns?.definite ?? 0,
      signOuts: r.replayed.signOuts?.definite ?? 0,
      revocations: r.replayed.revocations?.definite ?? 0,
      ghosts: r.ghosts.definite,
    }
    expect(definite, 'calls that failed with 503 and took effect later').toEqual({
      writes: 0,
      signIns: 0,
      signOuts: 0,
      revocations: 0,
      ghosts: 0,
    })
  }
  if (e.maxGrowthMb !== undefined) {
    expect(r.memory.growthMb, 'heap + external growth (MB)').toBeLessThanOrEqual(e.maxGrowthMb)
  }
}
