/** Pure formatting: no Redis needed. */
import { describe, expect, it } from 'vitest'
import { formatBytes, formatTable, sanitize } from '../../src/cli/output.js'

describe('CLI output', () => {
  it('escapes terminal control characters and bidi overrides from stored values', () => {
    expect(sanitize('ok\u001b[2J\r\u0085\u202eevil')).toBe('ok\\x1b[2J\\x0d\\x85\\u202eevil')
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

  it('formats byte sizes', () => {
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
  })
})
