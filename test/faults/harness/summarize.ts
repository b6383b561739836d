/**
 * Turns the JSON lines a fault-suite run wrote (`SESSIONKIT_FAULTS_REPORT=file.jsonl`) into the Markdown table
 * SECURITY.md quotes.
 *
 *   SESSIONKIT_FAULTS_REPORT=/tmp/faults.jsonl npm run test:faults
 *   node --import tsx test/faults/harness/summarize.ts /tmp/faults.jsonl
 */
import { readFileSync } from 'node:fs'
import type { Counted, FaultReport } from './verify.js'

const file = process.argv[2]
if (!file) throw new Error('usage: summarize.ts <report.jsonl>')

const reports = readFileSync(file, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as FaultReport)

const replays = (r: FaultReport): string => {
  const parts: [string, Counted | undefined][] = [
    ['w', r.replayed.writes],
    ['in', r.replayed.signIns],
    ['out', r.replayed.signOuts],
    ['rev', r.replayed.revocations],
  ]
  return parts.map(([k, c]) => `${k} ${c === undefined ? '–' : c.definite}`).join(', ')
}

const rows = reports.map((r) => {
  const statuses = Object.entries(r.statuses)
    .map(([s, n]) => `${s === '0' ? 'err' : s}: ${n}`)
    .join(', ')
  return [
    r.scenario,
    statuses,
    r.errorWindow ? `${Math.round(r.errorWindow[0])}–${Math.round(r.errorWindow[1])}` : '–',
    `${Math.round(r.failureLatency.p99)} / ${Math.round(r.failureLatency.max)}`,
    `${r.sessions.kept} / ${r.sessions.lost}`,
    `${r.writes.acked} / ${r.writes.lost}`,
    `${r.resurrections.probed} / ${r.resurrections.final}`,
    replays(r),
    `${r.ghosts.total} (${r.ghosts.definite})`,
    r.memory.growthMb.toFixed(1),
  ]
})

const header = [
  'Scenario',
  'Status codes',
  'Error window (ms after fault)',
  '503 p99 / max (ms)',
  'Sessions kept / lost',
  'Writes acked / lost',
  'Resurrections probed / final',
  'Failed calls that took effect (definite)',
  'Ghosts (definite)',
  'Heap growth (MB)',
]
console.log(`| ${header.join(' | ')} |`)
console.log(`| ${header.map(() => '---').join(' | ')} |`)
for (const row of rows) console.log(`| ${row.join(' | ')} |`)
