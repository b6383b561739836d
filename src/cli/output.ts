/**
 * Output of every command: an aligned plain-text rendering for people, or (`--json`) the command's result as one
 * JSON document for scripts. Everything read from Redis is sanitised before it reaches a terminal.
 *
 * @module
 */
import type { JsonValue } from '../core/json.js'
import type { CleanupResult } from './commands/cleanup.js'
import type { ListedSessionView, ListResult } from './commands/list.js'
import type { RevokeResult } from './commands/revoke.js'
import type { ShowResult } from './commands/show.js'
import type { StatsResult } from './commands/stats.js'
import type { SkippedKeys } from '../admin/skipped.js'
import type { Tally } from '../admin/stats.js'
import type { FamilyMemory } from './memory.js'

/**
 * The result as pretty-printed JSON, with a trailing newline. JSON already escapes C0 controls; the other
 * characters a terminal acts on (DEL, C1 controls such as the 8-bit CSI, bidi overrides and isolates, the line
 * and paragraph separators) are escaped too, so `--json` piped to a terminal shows a hostile User-Agent or user id
 * as text. The escapes are plain JSON: parsing gives back the stored value unchanged.
 */
export function formatJson(result: unknown): string {
  // Outside its strings, JSON.stringify writes only punctuation, digits and its own indentation, so every match
  // is inside a string, where `\uXXXX` is a valid escape.
  return `${JSON.stringify(result, null, 2).replace(JSON_UNSAFE, (ch) => `\\u${hex4(ch)}`)}\n`
}

// C0, DEL and C1 controls; ALM, LRM, RLM; the line and paragraph separators; bidi embeddings, overrides, isolates.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g
// The same but C0, which JSON.stringify already escapes inside strings (and uses as indentation outside them).
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g

function hex4(ch: string): string {
  return ch.charCodeAt(0).toString(16).padStart(4, '0')
}

/**
 * Escapes the characters a terminal acts on (see {@link formatJson}), so a value stored in Redis can neither move
 * the cursor, recolour the terminal nor reorder the text around it.
 */
export function sanitize(text: string): string {
  return text.replace(TERMINAL_UNSAFE, (ch) => {
    const code = ch.charCodeAt(0)
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${hex4(ch)}`
  })
}

/** Columns padded to their widest cell, separated by two spaces; empty cells show `-`. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  maxWidth = Infinity,
): string {
  const cells = rows.map((row) => headers.map((_, i) => cell(row[i])))
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...cells.map((row) => (row[i] ?? '').length)),
  )
  // Only the last column gives way to a narrow terminal: the others (ids, addresses) are copied whole.
  const last = headers.length - 1
  const room = Math.max(MIN_LAST_COLUMN, maxWidth - widths.slice(0, last).reduce((a, w) => a + w + 2, 0))
  const line = (row: readonly string[]): string =>
    row
      .map((text, i) => (i === last ? truncate(text, room) : text.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(headers), ...cells.map(line)].join('\n') + '\n'
}

const MIN_LAST_COLUMN = 12

function truncate(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`
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

/** The width `list` fits its table in. */
export const TERMINAL_WIDTH = 80

/** The `list` table: what tells sessions apart at a glance, in 80 columns; everything else is in `show`/`--json`. */
export function formatList(result: ListResult, now = Date.now()): string {
  const user = sanitize(JSON.stringify(result.userId))
  const n = result.sessions.length
  let out = `no sessions for user ${user}\n`
  if (n > 0) {
    const rows = result.sessions.map((s) => [
      s.id,
      formatAgo(s.lastSeenAt, now),
      s.ipAddress,
      marks(s) + browserOnOs(s.browser, s.os),
    ])
    const impersonated = result.sessions.filter((s) => s.impersonated).length
    const elevated = result.sessions.filter((s) => s.elevated).length
    out = formatTable(['ID', 'LAST SEEN', 'IP ADDRESS', 'DEVICE'], rows, TERMINAL_WIDTH)
    const notes = [
      ...(impersonated > 0 ? [`* ${impersonated} impersonated by an admin`] : []),
      ...(elevated > 0 ? [`+ ${elevated} in admin mode`] : []),
    ]
    out += `${n} session${n === 1 ? '' : 's'} of user ${user}`
    out += notes.length > 0 ? ` (${notes.join(', ')})\n` : '\n'
  }
  return out + formatSkipped(result.skipped)
}

/** `*` impersonated, `+` in admin mode: the table's marks before the device (explained under it). */
function marks(session: ListedSessionView): string {
  const mark = (session.impersonated ? '*' : '') + (session.elevated ? '+' : '')
  return mark === '' ? '' : `${mark} `
}

function browserOnOs(browser: string, os: string): string {
  if (browser === '' && os === '') return ''
  return os === '' ? browser : `${browser === '' ? 'unknown browser' : browser} on ${os}`
}

/** `just now`, `12m ago`, `3h ago`, `2d ago`. */
export function formatAgo(iso: string, now: number): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000))
  if (!Number.isFinite(seconds)) return ''
  if (seconds < 60) return 'just now'
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ago`
  return `${Math.floor(seconds / 86400)}d ago`
}

/** The skipped keys of a walk: nothing when there were none. */
export function formatSkipped(skipped: SkippedKeys): string {
  if (skipped.count === 0) return ''
  const listed = skipped.keys.length < skipped.count ? ` (first ${skipped.keys.length} listed)` : ''
  return (
    `\nskipped ${skipped.count} key${skipped.count === 1 ? '' : 's'} not written by sessionkit${listed}\n` +
    formatPairs(
      skipped.keys.map((k) => [k.key, k.reason]),
      '  ',
    )
  )
}

export function formatShow(result: ShowResult): string {
  const ttl = result.ttlSeconds === null ? 'none (the key never expires)' : formatDuration(result.ttlSeconds)
  let out = formatPairs([
    ['id', result.id],
    ['user', result.userId ?? (result.anonymous ? '(anonymous)' : '(does not decode: see below)')],
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
    out += `\nfields that do not decode (${result.invalidValues.length})\n`
    out += formatPairs(
      result.invalidValues.map((v) => [v.field, `${v.reason}: ${v.raw}`]),
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
    ]) +
    formatSkipped(result.skipped)
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
  return out + formatSkipped(result.skipped)
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
