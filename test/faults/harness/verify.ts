/**
 * After the fault and the recovery: asks the app (and, through its admin routes, the store) what survived, and
 * compares it with the ledger. Everything is counted, nothing asserted here: the scenarios assert what their
 * deployment guarantees (see ./guarantees.ts).
 */
import { send } from './http.js'
import type { LoadGenerator } from './load.js'
import { COOKIE } from './load.js'
import type { FailedCall, RequestRecord, TrackedSession } from './ledger.js'
import type { Memory } from './app-process.js'

export interface Counted {
  /**
   * Failed calls that were sent after the fault began, yet took effect: writes, or sessions ended (each counted
   * once, however many failed calls named it).
   */
  readonly definite: number
  /** The same for calls in doubt (sent before the fault, failed after it began). */
  readonly inDoubt: number
}

export interface FaultReport {
  readonly scenario: string
  readonly requests: number
  /** Status code → count; `0` = the request failed at the socket. */
  readonly statuses: Readonly<Record<string, number>>
  /**
   * From the first to the last failed answer, relative to the fault (to the start of the load when Redis was down
   * from the start), ms; undefined when nothing failed.
   */
  readonly errorWindow: readonly [number, number] | undefined
  /** How long 503 answers took (ms). */
  readonly failureLatency: { readonly p50: number; readonly p99: number; readonly max: number }
  /** How long 200 answers took (ms): what the machine's load alone costs a request, for comparison. */
  readonly successLatency: { readonly p50: number; readonly p99: number; readonly max: number }
  /** Failed answers that set or cleared the session cookie. */
  readonly cookieOnFailure: number
  /**
   * Sessions that should be alive: kept, lost, and in doubt (gone, but a sign-in, sign-out or revocation of theirs
   * failed, so that call may have ended them: see `replayed`); `ended` = sessions whose end was acknowledged.
   */
  readonly sessions: {
    readonly kept: number
    readonly lost: number
    readonly inDoubt: number
    readonly ended: number
  }
  readonly writes: {
    readonly acked: number
    readonly lost: number
    /** Lost writes that had been acknowledged more than `lostBeforeMs` before the fault. */
    readonly lostWellBeforeFault: number
  }
  /** Sessions whose end (sign-out, revocation, rotation) was acknowledged and that worked again. */
  readonly resurrections: { readonly probed: number; readonly final: number; readonly inStore: number }
  /**
   * Failed calls that took effect anyway. Sign-ins, sign-outs and revocations are judged by their session being
   * gone, so only where the deployment keeps data through the fault (`undefined` elsewhere: everything is gone).
   */
  readonly replayed: {
    readonly writes: Counted
    readonly signIns: Counted | undefined
    readonly signOuts: Counted | undefined
    readonly revocations: Counted | undefined
  }
  /** Sessions in the store that no client was ever given (a late create); definite = not explained by doubt. */
  readonly ghosts: { readonly total: number; readonly definite: number }
  readonly keysWithoutTtl: number
  /** Live signed-in sessions missing from their user's index. */
  readonly unindexed: number
  /** Answers that named another session than the cookie's. */
  readonly crossedSessions: number
  readonly memory: { readonly baseline: Memory; readonly peak: Memory; readonly growthMb: number }
  /** How long after Redis was back the first fully successful round (sign-in, write, read) came (ms). */
  readonly recoveryMs: number
  /** Whether the app process was still running at the end. */
  readonly appAlive: boolean
}

export interface VerifyInput {
  readonly scenario: string
  readonly base: string
  readonly load: LoadGenerator
  readonly memory: { readonly baseline: Memory; readonly samples: readonly Memory[] }
  readonly recoveryMs: number
  readonly appAlive: () => boolean
  /** Writes acknowledged this long before the fault count as "well before" it. Default 2000 ms. */
  readonly lostBeforeMs?: number
  /** Whether the deployment keeps data through this fault (a pause, AOF always, a graceful failover). */
  readonly durable: boolean
}

/**
 * A request of the final checks. The app has recovered by then, but a client may still be settling (a Cluster
 * client refreshing its slots): a 503 is retried for a while before it counts as a failure of the check.
 */
async function ask(base: string, path: string, cookie?: string): Promise<unknown> {
  const deadline = performance.now() + 20_000
  for (;;) {
    const reply = await send(base, 'GET', path, cookie, 60_000)
    if (reply.status === 200) return reply.body
    if (performance.now() > deadline) {
      throw new Error(`${path} answered ${reply.status} after recovery: ${JSON.stringify(reply.body)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

async function readSession(base: string, session: TrackedSession) {
  return (await ask(base, '/read', `${COOKIE}=${session.token}`)) as {
    id: string | null
    user: string | null
    keys: string[]
  }
}

/** Runs `fn` over `items`, `width` at a time. */
async function inParallel<T>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!)
    }),
  )
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

export async function verify(input: VerifyInput): Promise<FaultReport> {
  const { base, load } = input
  const ledger = load.ledger
  const lostWrites = [...load.lostWrites]
  const lostSessions = new Set(load.lostSessions)
  const foundKeys = new Set<string>()
  let kept = 0
  let crossed = load.crossedSessions.length

  // 1. Every session that should be alive: does it still work, with every acknowledged write?
  await inParallel(ledger.aliveSessions(), 8, async (session) => {
    const body = await readSession(base, session)
    if (body.id === null) {
      lostSessions.add(session)
      for (const [marker, ackedAt] of session.acked)
        lostWrites.push({ marker, sessionId: session.id, ackedAt })
      ledger.end(session, 'gone', performance.now())
      return
    }
    if (body.id !== session.id || body.user !== (session.user ?? null)) crossed++
    kept++
    for (const key of body.keys) foundKeys.add(key)
    for (const [marker, ackedAt] of session.acked) {
      if (!body.keys.includes(marker)) lostWrites.push({ marker, sessionId: session.id, ackedAt })
    }
  })

  // 2. Every session whose end was acknowledged: it must not load.
  const dead = ledger.deadSessions()
  const resurrectedIds = new Set<string>()
  await inParallel(dead, 8, async (session) => {
    const body = await readSession(base, session)
    if (body.id === session.id) resurrectedIds.add(session.id)
  })

  // 3. The whole store: sessions nobody was given, sessions that should be gone, keys without a TTL.
  const stored = (await ask(base, '/admin/scan')) as {
    sessions: { id: string; user: string | null }[]
    keysWithoutTtl: string[]
  }
  const deadIds = new Set(dead.map((s) => s.id))
  const unknownByUser = new Map<string, number>()
  let inStore = 0
  for (const s of new Map(stored.sessions.map((x) => [x.id, x])).values()) {
    if (deadIds.has(s.id)) inStore++
    if (!ledger.sessions.has(s.id)) {
      const group = s.user ?? ''
      unknownByUser.set(group, (unknownByUser.get(group) ?? 0) + 1)
    }
  }
  // A sign-in (or an anonymous visitor's first write) in doubt may have created a session nobody got.
  const doubtByUser = new Map<string, number>()
  for (const f of ledger.failures) {
    if (ledger.isDefinite(f)) continue
    const group = f.kind === 'signin' ? (f.user ?? '') : f.kind === 'write' && !f.sessionId ? '' : undefined
    if (group !== undefined) doubtByUser.set(group, (doubtByUser.get(group) ?? 0) + 1)
  }
  let ghosts = 0
  let definiteGhosts = 0
  for (const [group, count] of unknownByUser) {
    ghosts += count
    definiteGhosts += Math.max(0, count - (doubtByUser.get(group) ?? 0))
  }

  // 4. Every live signed-in session is in its user's index.
  const byUser = new Map<string, TrackedSession[]>()
  for (const s of ledger.aliveSessions()) {
    if (s.user !== undefined) byUser.set(s.user, [...(byUser.get(s.user) ?? []), s])
  }
  let unindexed = 0
  await inParallel([...byUser], 8, async ([user, sessions]) => {
    const ids = new Set(((await ask(base, `/admin/list?user=${user}`)) as { ids: string[] }).ids)
    unindexed += sessions.filter((s) => !ids.has(s.id)).length
  })

  // A session ended by a failed sign-in, sign-out or revocation is not counted lost: a call in doubt may simply
  // have worked before the fault, and a definite one that took effect is counted as a replay.
  const doubtful = new Set(
    ledger.failures
      .filter((f) => f.kind !== 'write')
      .map((f) => f.sessionId)
      .filter((id) => id !== undefined),
  )
  const lostForSure = [...lostSessions].filter((s) => !doubtful.has(s.id))
  const writesLost = lostWrites.filter((w) => !doubtful.has(w.sessionId))
  return {
    scenario: input.scenario,
    ...requestFigures(load),
    sessions: {
      kept,
      lost: lostForSure.length,
      inDoubt: lostSessions.size - lostForSure.length,
      ended: dead.length,
    },
    writes: {
      acked: countAcked(load),
      lost: writesLost.length,
      lostWellBeforeFault: writesLost.filter((w) => w.ackedAt < ledger.faultAt - (input.lostBeforeMs ?? 2000))
        .length,
    },
    resurrections: {
      probed: new Set(ledger.liveResurrections.map((r) => r.id)).size,
      final: resurrectedIds.size,
      inStore,
    },
    replayed: replays(load, foundKeys, lostSessions, input.durable),
    ghosts: { total: ghosts, definite: definiteGhosts },
    keysWithoutTtl: stored.keysWithoutTtl.length,
    unindexed,
    crossedSessions: crossed,
    memory: memoryFigures(input.memory),
    recoveryMs: input.recoveryMs,
    appAlive: input.appAlive(),
  }
}

function requestFigures(load: LoadGenerator) {
  const { requests, faultAt, loadStartedAt } = load.ledger
  const statuses: Record<string, number> = {}
  for (const r of requests) statuses[r.status] = (statuses[r.status] ?? 0) + 1
  const failed = requests.filter((r) => r.status === 0 || r.status >= 500)
  const origin = Number.isFinite(faultAt) ? faultAt : loadStartedAt
  const errorWindow =
    failed.length === 0
      ? undefined
      : ([
          // Not Math.min(...list): a long outage fails more requests than a call may take arguments.
          failed.reduce((min, r) => Math.min(min, r.endedAt), Infinity) - origin,
          failed.reduce((max, r) => Math.max(max, r.endedAt), -Infinity) - origin,
        ] as const)
  const latencies = latencyOf(requests, 503)
  const successes = latencyOf(requests, 200)
  return {
    requests: requests.length,
    statuses,
    errorWindow,
    failureLatency: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? 0,
    },
    successLatency: {
      p50: percentile(successes, 50),
      p99: percentile(successes, 99),
      max: successes.at(-1) ?? 0,
    },
    cookieOnFailure: requests.filter((r) => r.cookieOnFailure).length,
  }
}

function latencyOf(requests: readonly RequestRecord[], status: number): number[] {
  return requests
    .filter((r) => r.status === status)
    .map((r) => r.endedAt - r.startedAt)
    .sort((a, b) => a - b)
}

function countAcked(load: LoadGenerator): number {
  const markers = new Set<string>()
  for (const s of load.ledger.sessions.values()) for (const m of s.acked.keys()) markers.add(m)
  for (const w of load.lostWrites) markers.add(w.marker)
  return markers.size
}

/**
 * Failed calls that took effect anyway: a failed write whose marker is stored; a session gone although nobody
 * acknowledged ending it, after a failed sign-in, sign-out or revocation of it. A session is counted once (a
 * visitor retries the same sign-in through a whole outage, and each retry fails on the same session), and it is
 * in doubt, not definite, when any call that may have ended it was in doubt: that call may have worked before the
 * fault, which is allowed.
 */
function replays(
  load: LoadGenerator,
  foundKeys: ReadonlySet<string>,
  lost: ReadonlySet<TrackedSession>,
  durable: boolean,
) {
  const ledger = load.ledger
  const lostIds = new Set([...lost].map((s) => s.id))
  const ending = ledger.failures.filter(
    (f) => f.kind !== 'write' && !f.unconfirmed && f.sessionId !== undefined && lostIds.has(f.sessionId),
  )
  const explained = new Set(ending.filter((f) => !ledger.isDefinite(f)).map((f) => f.sessionId))
  const sessionsEndedBy = (kind: FailedCall['kind']): Counted => {
    const ids = new Set(ending.filter((f) => f.kind === kind).map((f) => f.sessionId))
    const inDoubt = [...ids].filter((id) => explained.has(id)).length
    return { definite: ids.size - inDoubt, inDoubt }
  }
  const storedWrites = ledger.failures.filter(
    (f) => f.kind === 'write' && f.marker !== undefined && foundKeys.has(f.marker),
  )
  const definiteWrites = storedWrites.filter((f) => ledger.isDefinite(f)).length
  return {
    writes: { definite: definiteWrites, inDoubt: storedWrites.length - definiteWrites },
    signIns: durable ? sessionsEndedBy('signin') : undefined,
    signOuts: durable ? sessionsEndedBy('signout') : undefined,
    revocations: durable ? sessionsEndedBy('revoke') : undefined,
  }
}

function memoryFigures(memory: VerifyInput['memory']) {
  const total = (m: Memory): number => m.heapUsed + m.external
  const peak = memory.samples.reduce((a, b) => (total(b) > total(a) ? b : a), memory.baseline)
  return {
    baseline: memory.baseline,
    peak,
    growthMb: Math.max(0, total(peak) - total(memory.baseline)) / 2 ** 20,
  }
}
