/**
 * Cookie tossing in a real browser: a sibling subdomain plants our cookie name for the parent domain (or a longer
 * path), so the browser sends two session cookies. Neither is trusted, and the response clears every scope the
 * planted one can live in, so the visitor's next sign-in is the only cookie left — never a lock-out. (With the
 * default `__Host-` cookie, which browsers refuse to accept with a Domain, tossing is impossible in the first
 * place; this is the plain-HTTP development setup.)
 *
 * Chromium resolves *.example.test to 127.0.0.1, so the app is served on a real host name with a parent domain.
 */
import { existsSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { chromium, type Browser } from 'playwright-core'
import { createSessionkit, MemoryStore } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { signInCookie } from 'sessionkit/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CHROMIUM = '/usr/bin/chromium'

describe('a tossed session cookie (real browser)', () => {
  const kit = createSessionkit({ store: new MemoryStore({ sweepIntervalMs: 0 }), cookie: { secure: false } })
  let server: Server
  let origin: string
  let browser: Browser

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`)
    const app = express()
    app.use(sessionMiddleware(kit))
    const whoami = (req: express.Request, res: express.Response): void => {
      res.type('text/plain').send(req.session.userId ?? 'anonymous')
    }
    app.get('/whoami', whoami)
    app.get('/account/whoami', whoami)
    app.get('/signin', (req, res, next) => {
      req.session.signIn('victim').then(() => res.type('text/plain').send('signed in'), next)
    })
    server = app.listen(0, '127.0.0.1')
    await new Promise<void>((resolve) => server.once('listening', resolve))
    origin = `http://app.example.test:${(server.address() as AddressInfo).port}`
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--host-resolver-rules=MAP *.example.test 127.0.0.1',
      ],
    })
  })

  afterAll(async () => {
    await browser.close()
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it.each([
    ['the parent domain', { domain: '.example.test', path: '/' }, '/whoami'],
    ['the parent domain and a longer path', { domain: '.example.test', path: '/account' }, '/account/whoami'],
  ])(
    'planted for %s: no session while ambiguous, and the next sign-in is not locked out',
    async (_, scope, page) => {
      const context = await browser.newContext()
      try {
        const tab = await context.newPage()
        const text = async (path: string): Promise<string> => {
          const response = await tab.goto(origin + path)
          return (await response?.text()) ?? ''
        }
        expect(await text('/signin')).toBe('signed in')
        expect(await text(page)).toBe('victim')
        // A sibling subdomain (evil.example.test) plants a valid session of the attacker's for the parent domain.
        const planted = (await signInCookie(kit, 'mallory')).split('=')[1]!
        await context.addCookies([{ name: 'sid', value: planted, ...scope }])
        // Two values: neither is trusted, never the attacker's session.
        expect(await text(page)).toBe('anonymous')
        // The victim signs in again, and stays signed in: the planted cookie was cleared.
        expect(await text('/signin')).toBe('signed in')
        expect(await text(page)).toBe('victim')
        const sids = (await context.cookies(origin + page)).filter((cookie) => cookie.name === 'sid')
        expect(sids).toHaveLength(1)
        expect(sids[0]!.value).not.toBe(planted)
      } finally {
        await context.close()
      }
    },
  )
})
