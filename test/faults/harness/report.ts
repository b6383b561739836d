/**
 * Prints a scenario's figures as a table, and appends them as one JSON line to the file named by
 * `SESSIONKIT_FAULTS_REPORT` (if set), so a run's figures can be collected (SECURITY.md quotes them).
 */
import { appendFileSync } from 'node:fs'
import type { Counted, FaultReport } from './verify.js'

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`
const ms = (value: number): string => `${Math.round(value)} ms`
const counted = (c: Counted | undefined): string =>
  c === undefined ? 'n/a (data not kept)' : `${c.definite} (in doubt: ${c.inDoubt})`

export function reportRows(r: FaultReport): [string, string][] {
  const statuses = Object.entries(r.statuses)
    .map(([status, n]) => `${status === '0' ? 'socket error' : status}: ${n}`)
    .join(', ')
  return [
    ['requests', String(r.requests)],
    ['status codes', statuses],
    [
      'error window (vs fault)',
      r.errorWindow ? `${ms(r.errorWindow[0])} .. ${ms(r.errorWindow[1])}` : 'no failed request',
    ],
    [
      '503 latency p50 / p99 / max',
      `${ms(r.failureLatency.p50)} / ${ms(r.failureLatency.p99)} / ${ms(r.failureLatency.max)}`,
    ],
    [
      '200 latency p50 / p99 / max',
      `${ms(r.successLatency.p50)} / ${ms(r.successLatency.p99)} / ${ms(r.successLatency.max)}`,
    ],
    ['recovery after Redis back', ms(r.recoveryMs)],
    ['failed answers with Set-Cookie', String(r.cookieOnFailure)],
    [
      'sessions kept / lost / in doubt / ended',
      `${r.sessions.kept} / ${r.sessions.lost} / ${r.sessions.inDoubt} / ${r.sessions.ended}`,
    ],
    [
      'writes acked / lost (acked >2 s before fault)',
      `${r.writes.acked} / ${r.writes.lost} (${r.writes.lostWellBeforeFault})`,
    ],
    [
      'resurrections probed / final / in store',
      `${r.resurrections.probed} / ${r.resurrections.final} / ${r.resurrections.inStore}`,
    ],
    ['replayed writes', counted(r.replayed.writes)],
    ['replayed sign-ins', counted(r.replayed.signIns)],
    ['replayed sign-outs', counted(r.replayed.signOuts)],
    ['replayed revocations', counted(r.replayed.revocations)],
    ['ghost sessions (definite)', `${r.ghosts.total} (${r.ghosts.definite})`],
    ['keys without TTL', String(r.keysWithoutTtl)],
    ['live sessions missing from index', String(r.unindexed)],
    ['answers naming another session', String(r.crossedSessions)],
    [
      'heap+external baseline / peak / growth',
      `${mb(r.memory.baseline.heapUsed + r.memory.baseline.external)} / ${mb(r.memory.peak.heapUsed + r.memory.peak.external)} / ${r.memory.growthMb.toFixed(1)} MB`,
    ],
    ['app process alive', r.appAlive ? 'yes' : 'NO'],
  ]
}

export function printReport(r: FaultReport): void {
  const rows = reportRows(r)
  const width = Math.max(...rows.map(([k]) => k.length))
  const valueWidth = Math.max(...rows.map(([, v]) => v.length))
  const line = `+${'-'.repeat(width + 2)}+${'-'.repeat(valueWidth + 2)}+`
  const out = [`\n${r.scenario}`, line]
  for (const [k, v] of rows) out.push(`| ${k.padEnd(width)} | ${v.padEnd(valueWidth)} |`)
  out.push(line)
  console.log(out.join('\n'))
  const file = process.env.SESSIONKIT_FAULTS_REPORT
  if (file) appendFileSync(file, `${JSON.stringify(r)}\n`)
}
