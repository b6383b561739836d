/** Pure formatting: no Redis needed. */
import { describe, expect, it } from 'vitest'
import {
  formatAgo,
  formatBytes,
  formatJson,
  formatList,
  formatTable,
  sanitize,
} from '../../src/cli/output.js'
import type { ListResult } from '../../src/cli/commands/list.js'

describe('CLI output', () => {
  it('escapes terminal control characters and bidi overrides from stored values', () => {
    expect(sanitize('ok\u001b[2J\r\u0085\u202eevil\u2028')).toBe('ok\\x1b[2J\\x0d\\x85\\u202eevil\\u2028')
  })

  it('--json escapes DEL, C1, bidi controls and U+2028/9 that JSON.stringify leaves raw, losslessly', () => {
    const hostile = { ua: 'a\u007fb\u009bc\u0085d\u202ee\u2066f\u2029g\u200fh\u061c', 'k\u202e': 1 }
    const out = formatJson(hostile)
    expect(out).not.toMatch(
      // eslint-disable-next-line no-control-regex -- the characters that must not reach a terminal raw
      /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/,
    )
    expect(out).toContain('"a\\u007fb\\u009bc\\u0085d\\u202ee\\u2066f\\u2029g\\u200fh\\u061c"')
    expect(JSON.parse(out)).toEqual(hostile)
    expect(out.endsWith('}\n')).toBe(true)
  })

  it('aligns table columns and shows empty cells as -', () => {
    expect(
      formatTable(
        ['ID', 'BROWSER', 'IP'],
        [
          ['a', 'Chrome', '203.0.113.5'],
          ['bbbb', '', '::1'],
        ],
      ),
    ).toBe('ID    BROWSER  IP\na     Chrome   203.0.113.5\nbbbb  -        ::1\n')
  })

  it('cuts only the last column to fit a width, with an ellipsis', () => {
    expect(formatTable(['A', 'B'], [['xxxx', 'a long last column']], 16)).toBe(
      'A     B\nxxxx  a long last…\n',
    )
  })

  it('list fits 80 columns with a long device name and a full IPv4 address', () => {
    const now = Date.parse('2026-12-01T12:00:00.000Z')
    const session = {
      id: `a1b.${'x'.repeat(27)}`,
      current: false as const,
      userId: 'alice',
      browser: 'Samsung Internet for Android Automotive',
      os: 'Android Automotive OS',
      deviceType: 'car browser',
      deviceName: 'Polestar 2',
      ipAddress: '203.113.255.255',
      signedInAt: '2026-11-30T12:00:00.000Z',
      lastSeenAt: '2026-12-01T11:17:00.000Z',
      expiresAt: '2026-12-08T11:17:00.000Z',
      absoluteExpiresAt: '2026-12-30T12:00:00.000Z',
      impersonated: true,
      rememberMe: false,
      elevated: false,
    }
    const result: ListResult = { userId: 'alice', sessions: [session], skipped: { count: 0, keys: [] } }
    const lines = formatList(result, now).trimEnd().split('\n')
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80)
    expect(lines[1]).toBe(`a1b.${'x'.repeat(27)}  43m ago    203.113.255.255  * Samsung Internet…`)
    expect(lines[2]).toBe('1 session of user "alice" (* 1 impersonated by an admin)')
  })

  it('says how long ago a session was last seen', () => {
    const now = Date.parse('2026-12-01T12:00:00.000Z')
    expect(formatAgo('2026-12-01T11:59:30.000Z', now)).toBe('just now')
    expect(formatAgo('2026-12-01T11:48:00.000Z', now)).toBe('12m ago')
    expect(formatAgo('2026-12-01T09:00:00.000Z', now)).toBe('3h ago')
    expect(formatAgo('2026-11-28T12:00:00.000Z', now)).toBe('3d ago')
  })

  it('formats byte sizes', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
  })
})
