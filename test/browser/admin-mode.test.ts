/**
 * Admin mode in a real browser (Debian's Chromium through playwright-core), on the demo app: the administrator
 * re-enters the password, and both the Active Sessions page and the admin view show the session "with admin
 * mode"; leaving admin mode removes the badge and closes the admin view again.
 */
import { existsSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { createSessionkit, MemoryStore } from 'sessionkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp, demoSessionkitOptions } from '../../demo/app.js'

const CHROMIUM = '/usr/bin/chromium'

describe('admin mode in a browser (demo app, memory store)', () => {
  let store: MemoryStore
  let server: Server
  let base: string
  let browser: Browser
  let context: BrowserContext
  let page: Page

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\``)
    }
    store = new MemoryStore()
    const kit = createSessionkit({
      ...demoSessionkitOptions({ log: () => undefined }),
      store,
      cookie: { secure: false },
    })
    server = createDemoApp(kit, store).listen(0, '127.0.0.1')
    await new Promise<void>((resolve) => server.once('listening', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    })
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'UTC' })
    page = await context.newPage()
  })

  afterAll(async () => {
    await context?.close()
    await browser?.close()
    server?.closeAllConnections()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    store?.close()
  })

  it('asks for the password again, then shows the "with admin mode" badge until the admin leaves it', async () => {
    await page.goto(`${base}/login`)
    await page.fill('#username', 'admin')
    await page.fill('#password', 'admin-password')
    await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')])
    // A first sign-in from this browser: the demo shows the "new sign-in" notice once.
    expect(await page.locator('.notice').innerText()).toContain('New sign-in to your account')

    await page.goto(`${base}/profile/active_sessions`)
    expect(await page.locator('.admin-mode').count()).toBe(0)

    await page.goto(`${base}/admin/sessions`)
    expect(new URL(page.url()).pathname).toBe('/admin-mode')
    await page.fill('#password', 'not-the-password')
    await page.click('button[type=submit]')
    expect(await page.locator('[role=alert]').innerText()).toBe('Wrong password.')
    await page.fill('#password', 'admin-password')
    await Promise.all([page.waitForURL(`${base}/admin/sessions`), page.click('button[type=submit]')])

    await page.goto(`${base}/profile/active_sessions`)
    const badge = page.locator('li.session.current .admin-mode')
    expect(await badge.innerText()).toBe('with admin mode')
    expect(await badge.isVisible()).toBe(true)

    await page.goto(`${base}/admin/sessions?user=admin`)
    expect(await page.locator('.lookup-result li.session .admin-mode').innerText()).toBe('with admin mode')

    await page.goto(`${base}/`)
    await Promise.all([page.waitForURL(`${base}/`), page.click('text=Leave admin mode')])
    expect(await page.locator('a', { hasText: 'Enter admin mode' }).count()).toBe(1)
    await page.goto(`${base}/profile/active_sessions`)
    expect(await page.locator('.admin-mode').count()).toBe(0)
    await page.goto(`${base}/admin/sessions`)
    expect(new URL(page.url()).pathname).toBe('/admin-mode')
  })
})
