/**
 * Output of every command: an aligned plain-text rendering for people, or (`--json`) the command's result as one
 * JSON document for scripts. Everything read from Redis is sanitised before it reaches a terminal.
 *
 * @module
 */
import type { JsonValue } from '../core/json.js'
import type { CleanupResult } from './commands/cleanup.js'
import type { ListResult } from './commands/list.js'
import type { RevokeResult } from './commands/revoke.js'
import type { ShowResult } from './commands/show.js'
import type { StatsResult } from './commands/stats.js'
import type { Tally } from '../admin/stats.js'
import type { FamilyMemory } from './memory.js'

/** The result as pretty-printed JSON, with a trailing newline. */
export function formatJson(result: unknown): string {
  return `${JSON.stringify(result, null, 2)}\n`
}

/**
 * Escapes control characters (C0, DEL, C1, and the bidi controls), so a value stored in Redis can neither move
 * the cursor, recolour the terminal nor reorder the text around it.
 */
export function sanitize(text: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    const code = ch.charCodeAt(0)
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`
  })
}

/** Columns padded to their widest cell, separated by two spaces; empty cells show `-`. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const cells = rows.map((row) => headers.map((_, i) => cell(row[i])))
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...cells.map((row) => (row[i] ?? '').length)),
  )
  const line = (row: readonly string[]): string =>
    row
      .map((text, i) => (i === row.length - 1 ? text : text.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(headers), ...cells.map(line)].join('\n') + '\n'
}

function cell(value: string | undefined): string {
  return value === undefined || value === '' ? '-' : sanitize(value)
}

/** `key  value` lines with the keys aligned. */
function formatPairs(pairs: readonly (readonly [string, string])[], indent = ''): string {
  const width = Math.max(0, ...pairs.map(([key]) => sanitize(key).length))
  return (
    pairs
      .map(([key, value]) => `${indent}${sanitize(key).padEnd(width)}  ${cell(value)}`.trimEnd())
      .join('\n') + '\n'
  )
}

export function formatList(result: ListResult): string {
  if (result.sessions.length === 0) return `no sessions for user ${sanitize(JSON.stringify(result.userId))}\n`
  const rows = result.sessions.map((s) => [
    s.id,
    String(s.current),
    s.browser,
    s.os,
    s.deviceType,
    s.deviceName,
    s.ipAddress,
    s.signedInAt,
    s.lastSeenAt,
    s.expiresAt,
    s.impersonated ? 'yes' : 'no',
    s.elevated ? 'yes' : 'no',
  ])
  const table = formatTable(
    [
      'ID',
      'CURRENT',
      'BROWSER',
      'OS',
      'DEVICE TYPE',
      'DEVICE NAME',
      'IP ADDRESS',
      'SIGNED IN',
      'LAST SEEN',
      'EXPIRES',
      'IMPERSONATED',
      'ELEVATED',
    ],
    rows,
  )
  const n = result.sessions.length
  return `${table}${n} session${n === 1 ? '' : 's'} of user ${sanitize(JSON.stringify(result.userId))}\n`
}

export function formatShow(result: ShowResult): string {
  const ttl = result.ttlSeconds === null ? 'none (the key never expires)' : formatDuration(result.ttlSeconds)
  let out = formatPairs([
    ['id', result.id],
    ['user', result.userId ?? '(anonymous)'],
    ['impersonator', result.impersonator ?? ''],
    ['created', result.createdAt ?? ''],
    ['signed in', result.signedInAt ?? ''],
    ['last seen', result.lastSeenAt ?? ''],
    ['expires', result.expiresAt ?? ''],
    ['ttl', ttl],
    ['absolute deadline', result.absoluteExpiresAt ?? ''],
    ['remember me', result.rememberMe ? 'yes' : 'no'],
    ['elevated', result.elevated ? 'yes' : 'no'],
    ['ip address', result.ipAddress],
    ['browser', result.browser],
    ['os', result.os],
    ['device type', result.deviceType],
    ['device name', result.deviceName],
  ])
  if (!result.validMetadata) {
    out += 'warning: the metadata is missing or malformed: the application treats this session as absent\n'
  }
  out += `\ndata (${Object.keys(result.data).length} keys)\n`
  out += formatValues(result.data)
  for (const namespace of Object.keys(result.namespaces).sort()) {
    const values = result.namespaces[namespace] ?? {}
    out += `\nnamespace ${sanitize(JSON.stringify(namespace))} (${Object.keys(values).length} keys)\n`
    out += formatValues(values)
  }
  if (result.invalidValues.length > 0) {
    out += `\nnot valid JSON (${result.invalidValues.length} fields)\n`
    out += formatPairs(
      result.invalidValues.map((v) => [v.field, v.raw]),
      '  ',
    )
  }
  return out
}

function formatValues(values: Record<string, JsonValue>): string {
  const keys = Object.keys(values).sort()
  if (keys.length === 0) return ''
  return formatPairs(
    keys.map((key) => [key, JSON.stringify(values[key] ?? null)]),
    '  ',
  )
}

export function formatRevoke(result: RevokeResult): string {
  const n = result.revoked
  const what = `${n} session${n === 1 ? '' : 's'}`
  if (result.sessionId !== null) {
    const owner = result.userId === null ? 'anonymous' : `of user ${JSON.stringify(result.userId)}`
    return sanitize(`revoked session ${result.sessionId} (${owner})`) + '\n'
  }
  const kept = result.except === null ? '' : `, kept ${result.except}`
  return sanitize(`revoked ${what} of user ${JSON.stringify(result.userId)}${kept}`) + '\n'
}

export function formatCleanup(result: CleanupResult): string {
  const verb = result.dryRun ? 'would prune' : 'pruned'
  const evict = result.dryRun ? 'would evict' : 'evicted'
  return (
    (result.dryRun ? 'dry run: nothing was written\n' : '') +
    formatPairs([
      ['users checked', String(result.users)],
      [`index entries ${verb}`, String(result.pruned)],
      [`sessions ${evict} (over ${result.maxSessions})`, String(result.evicted)],
    ])
  )
}

export function formatStats(result: StatsResult): string {
  let out = formatPairs([
    ['sessions', String(result.sessions)],
    ['signed-in sessions', String(result.signedInSessions)],
    ['anonymous sessions', String(result.anonymousSessions)],
    ['signed-in users', String(result.signedInUsers)],
    ['impersonated sessions', String(result.impersonatedSessions)],
  ])
  out += section('signed-in sessions by browser', result.byBrowser)
  out += section('by OS', result.byOs)
  out += section('by device type', result.byDeviceType)
  out += section('by device category', result.byDeviceCategory)
  out += '\nmemory by key family (MEMORY USAGE over a random sample)\n'
  const family = (name: string, m: FamilyMemory): string[] => [
    name,
    String(m.keys),
    String(m.sampled),
    formatBytes(m.averageBytes),
    formatBytes(m.estimatedBytes),
  ]
  out += formatTable(
    ['FAMILY', 'KEYS', 'SAMPLED', 'AVERAGE', 'ESTIMATED TOTAL'],
    [family('sessions', result.memory.sessions), family('user indexes', result.memory.userIndexes)],
  )
  if (result.topUsers.length > 0) {
    out += '\ntop users by session count\n'
    out += formatTable(
      ['USER', 'SESSIONS'],
      result.topUsers.map((u) => [u.userId, String(u.sessions)]),
    )
  }
  return out
}

function section(title: string, tallies: readonly Tally[]): string {
  if (tallies.length === 0) return ''
  return `\n${title}\n${formatPairs(
    tallies.map((t) => [t.name, String(t.count)]),
    '  ',
  )}`
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit] ?? ''}`
}

export function formatDuration(seconds: number): string {
  const d = Math.floor(seconds / 86400)
  const h = Math.floor((seconds % 86400) / 3600)
  const m = Math.floor((seconds % 3600) / 60)
  const s = seconds % 60
  const parts = [d > 0 ? `${d}d` : '', h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', `${s}s`].filter(Boolean)
  return `${parts.join(' ')} (${seconds} s)`
}
