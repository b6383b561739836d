/**
 * The CLI shows elevated mode (admin mode): the `elevated` field of `list` and `show`, and the ELEVATED column,
 * on the run's single Redis and its Cluster. Sessions are elevated through the library, as an app does.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { HttpContext, Sessionkit } from '../../src/index.js'
import { listCommand } from '../../src/cli/commands/list.js'
import { showCommand } from '../../src/cli/commands/show.js'
import type { CliContext, Connection } from '../../src/cli/connect.js'
import { formatList, formatShow } from '../../src/cli/output.js'
import { USER_AGENTS, appKit, connectTo, deployments, signIn, uniquePrefix } from './helpers.js'

describe.each(deployments())('CLI and elevated mode on $name Redis', (deployment) => {
  let connection: Connection
  let ctx: CliContext
  let kit: Sessionkit

  beforeEach(async () => {
    connection = await connectTo(deployment, uniquePrefix())
    ctx = { store: connection.store }
    kit = appKit(connection)
  })
  afterEach(async () => {
    await connection.close()
  })

  /** Signs in and enters admin mode in one browser; returns the elevated session's id. */
  async function elevatedSession(userId: string): Promise<string> {
    let cookie = ''
    const http = (cookieHeader: string | undefined): HttpContext => ({
      cookieHeader,
      userAgent: USER_AGENTS.chromeWindows,
      ipAddress: '203.0.113.5',
      headersSent: () => false,
      setCookie: (value) => {
        const pair = value?.split(';', 1)[0] ?? ''
        if (pair.startsWith(`${kit.cookieName}=`)) cookie = pair
      },
    })
    const signingIn = await kit.openSession(http(undefined))
    await signingIn.signIn(userId)
    const session = await kit.openSession(http(cookie))
    await session.elevate()
    await session.commit()
    return session.id!
  }

  it('list and show say which session is elevated', async () => {
    const elevated = await elevatedSession('alice')
    const plain = await signIn(kit, 'alice', USER_AGENTS.safariIphone, '203.0.113.6')
    const listed = await listCommand(ctx, { user: 'alice' })
    expect(Object.fromEntries(listed.sessions.map((s) => [s.id, s.elevated]))).toEqual({
      [elevated]: true,
      [plain]: false,
    })
    // The 80-column table marks it before the device (`+`, explained under it); --json has `elevated`.
    const table = formatList(listed).split('\n')
    expect(table.find((line) => line.startsWith(elevated))).toMatch(/\s\+ \S/)
    expect(table.find((line) => line.startsWith(plain))).not.toMatch(/\s\+ /)
    expect(table.at(-2)).toMatch(/\(\+ 1 in admin mode\)$/)

    const shown = await showCommand(ctx, { sessionId: elevated })
    expect(shown.elevated).toBe(true)
    expect(formatShow(shown)).toMatch(/^elevated\s+yes$/m)
    expect((await showCommand(ctx, { sessionId: plain })).elevated).toBe(false)
  })
})
