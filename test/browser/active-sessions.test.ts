/**
 * The demo app in a real browser (Debian's Chromium through playwright-core): alice signs in from a Windows
 * desktop and an iPhone, sees both devices, revokes the phone (which lands on the sign-in page at its next
 * request), then revokes every other session; the admin view's charts render. Screenshots of both pages at
 * desktop (1280) and phone (390) widths are written to .artifacts/screenshots/ (ignored by git), or to the folder
 * SESSIONKIT_SCREENSHOTS names, relative to the repository root: `SESSIONKIT_SCREENSHOTS=docs/screenshots npm
 * test -- test/browser` refreshes the README's pictures.
 */
import { existsSync, mkdirSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core'
import { createSessionkit, MemoryStore } from 'sessionkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDemoApp } from '../../demo/app.js'

const CHROMIUM = '/usr/bin/chromium'
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const SCREENSHOTS = resolve(ROOT, process.env.SESSIONKIT_SCREENSHOTS ?? '.artifacts/screenshots')

const UA = {
  windowsChrome:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  iphoneSafari:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  ipad: 'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  linuxFirefox: 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  android:
    'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  macSafari:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  curl: 'curl/8.5.0',
} as const

describe('Active Sessions in a browser (demo app, memory store)', () => {
  let store: MemoryStore
  let server: Server
  let base: string
  let browser: Browser
  const contexts: BrowserContext[] = []

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\``)
    }
    mkdirSync(SCREENSHOTS, { recursive: true })
    store = new MemoryStore()
    const kit = createSessionkit({ store, cookie: { secure: false } })
    server = createDemoApp(kit, store).listen(0, '127.0.0.1')
    await new Promise<void>((resolve) => server.once('listening', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
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
      ],
    })
  })

  afterAll(async () => {
    for (const context of contexts) await context.close()
    await browser?.close()
    server?.closeAllConnections()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    store?.close()
  })

  async function newPage(userAgent: string, width: number, mobile: boolean): Promise<Page> {
    const context = await browser.newContext({
      userAgent,
      viewport: { width, height: mobile ? 844 : 900 },
      deviceScaleFactor: mobile ? 2 : 1,
      isMobile: mobile,
      hasTouch: mobile,
      timezoneId: 'UTC',
      locale: 'en-GB',
    })
    contexts.push(context)
    return context.newPage()
  }

  async function signIn(page: Page, username: string, password: string): Promise<void> {
    await page.goto(`${base}/login`)
    await page.fill('#username', username)
    await page.fill('#password', password)
    await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit]')])
  }

  /** Signs in without a browser, as another device would (the demo's own form, CSRF token included). */
  async function signInWithFetch(username: string, password: string, userAgent: string): Promise<void> {
    const form = await fetch(`${base}/login`, { headers: { 'user-agent': userAgent } })
    const cookie = form.headers.getSetCookie()[0]!.split(';', 1)[0]!
    const token = /name="csrf_token" value="([^"]+)"/.exec(await form.text())![1]!
    const reply = await fetch(`${base}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        cookie,
        'user-agent': userAgent,
        'content-type': 'application/x-www-form-urlencoded',
        origin: base,
      },
      body: new URLSearchParams({ username, password, csrf_token: token }).toString(),
    })
    expect(reply.status).toBe(303)
  }

  /** A failed sign-in (wrong password): the demo keeps the failed count in an anonymous session, as GitLab does. */
  async function failSignIn(userAgent: string): Promise<void> {
    const form = await fetch(`${base}/login`, { headers: { 'user-agent': userAgent } })
    const cookie = form.headers.getSetCookie()[0]!.split(';', 1)[0]!
    const token = /name="csrf_token" value="([^"]+)"/.exec(await form.text())![1]!
    const reply = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { cookie, 'user-agent': userAgent, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice', password: 'wrong', csrf_token: token }).toString(),
    })
    expect(reply.status).toBe(401)
  }

  /** The admin view needs admin mode: the demo asks for the password again. */
  async function enterAdminMode(page: Page, password: string): Promise<void> {
    await page.goto(`${base}/admin/sessions`)
    expect(new URL(page.url()).pathname).toBe('/admin-mode')
    await page.fill('#password', password)
    await Promise.all([page.waitForURL(`${base}/admin/sessions`), page.click('button[type=submit]')])
  }

  const rows = (page: Page) => page.locator('li.session')

  /** An attribute of every element a locator matches, in order. */
  async function attributes(locator: Locator, name: string): Promise<(string | null)[]> {
    const out: (string | null)[] = []
    for (const item of await locator.all()) out.push(await item.getAttribute(name))
    return out
  }

  /** How many CSS pixels the page is wider than the viewport (0 when nothing overflows). */
  async function horizontalOverflow(page: Page): Promise<number> {
    // A string expression: this project compiles without the DOM lib.
    return Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'))
  }

  let desktop: Page
  let phone: Page

  it('shows both of alice’s browsers with the right browser, OS and device icon', async () => {
    desktop = await newPage(UA.windowsChrome, 1280, false)
    await signIn(desktop, 'alice', 'alice-password')
    // Other devices of alice's, so the page shows every icon family.
    await signInWithFetch('alice', 'alice-password', UA.ipad)
    await signInWithFetch('alice', 'alice-password', UA.linuxFirefox)
    await signInWithFetch('alice', 'alice-password', UA.curl)
    phone = await newPage(UA.iphoneSafari, 390, true)
    await signIn(phone, 'alice', 'alice-password')

    await desktop.goto(`${base}/profile/active_sessions`)
    await expect.poll(() => rows(desktop).count()).toBe(5)
    const current = desktop.locator('li.session.current')
    await expect.poll(() => current.count()).toBe(1)
    expect(await current.locator('.browser-os').innerText()).toBe('Chrome on Windows')
    expect(await current.getAttribute('data-device')).toBe('desktop')
    expect(await current.locator('.current-badge').innerText()).toBe('This is your current session')
    expect(await current.locator('a.revoke').count()).toBe(0)

    // Newest first: the iPhone signed in last.
    const first = rows(desktop).first()
    expect(await first.locator('.browser-os').innerText()).toBe('Mobile Safari on iOS')
    expect(await first.locator('.device-name').innerText()).toContain('iPhone')
    expect(await first.getAttribute('data-device')).toBe('phone')
    expect(await first.locator('svg.device-icon').getAttribute('aria-label')).toBe('Smartphone')
    expect(await first.locator('a.revoke').innerText()).toBe('Revoke')
    const devices = await attributes(rows(desktop), 'data-device')
    expect(new Set(devices)).toEqual(new Set(['phone', 'desktop', 'tablet', 'other']))
    // The inline stylesheet is allowed by the CSP (the page is styled, not raw HTML).
    const background: unknown = await desktop.evaluate('getComputedStyle(document.body).backgroundColor')
    expect(background).toBe('rgb(245, 246, 248)')

    await desktop.screenshot({ path: join(SCREENSHOTS, 'active-sessions-desktop.png'), fullPage: true })

    await phone.goto(`${base}/profile/active_sessions`)
    const phoneCurrent = phone.locator('li.session.current')
    expect(await phoneCurrent.locator('.browser-os').innerText()).toBe('Mobile Safari on iOS')
    // Nothing overflows the phone's width.
    const overflow = await horizontalOverflow(phone)
    expect(overflow).toBeLessThanOrEqual(0)
    await phone.screenshot({ path: join(SCREENSHOTS, 'active-sessions-phone.png'), fullPage: true })
  })

  it('renders the admin view’s charts for an admin, and refuses alice', async () => {
    await signInWithFetch('bob', 'bob-password', UA.android)
    await signInWithFetch('bob', 'bob-password', UA.macSafari)
    // Two visitors who failed to sign in (the demo keeps their failed count in an anonymous session).
    for (const ua of [UA.linuxFirefox, UA.android]) await failSignIn(ua)
    const admin = await newPage(UA.macSafari, 1280, false)
    await signIn(admin, 'admin', 'admin-password')
    await enterAdminMode(admin, 'admin-password')
    await admin.goto(`${base}/admin/sessions?user=alice`)
    expect(await admin.locator('[data-stat=users] .value').innerText()).toBe('3')
    expect(await admin.locator('[data-stat=signed-in] .value').innerText()).toBe('8')
    expect(await admin.locator('[data-stat=anonymous] .value').innerText()).toBe('2')
    expect(await admin.locator('[data-stat=total] .value').innerText()).toBe('10')
    for (const chart of ['browser', 'os', 'device']) {
      const svg = admin.locator(`[data-chart=${chart}] svg.chart`)
      const box = await svg.boundingBox()
      expect(box?.width).toBeGreaterThan(200)
      expect(await svg.locator('g.bar').count()).toBeGreaterThan(1)
    }
    const deviceBars = admin.locator('[data-chart=device] g.bar')
    const labels = await attributes(deviceBars, 'data-label')
    const values = await attributes(deviceBars, 'data-value')
    const bars = labels.map((label, i) => [label, values[i]])
    expect(bars).toContainEqual(['Desktop', '4'])
    expect(bars).toContainEqual(['Smartphone', '2'])
    const top = await admin.locator('.top-users tbody tr').first().innerText()
    expect(top).toMatch(/alice\s+5/)
    expect(await admin.locator('.lookup-result li.session').count()).toBe(5)
    await admin.screenshot({ path: join(SCREENSHOTS, 'admin-desktop.png'), fullPage: true })

    const adminPhone = await newPage(UA.iphoneSafari, 390, true)
    await signIn(adminPhone, 'admin', 'admin-password')
    await enterAdminMode(adminPhone, 'admin-password')
    const overflow = await horizontalOverflow(adminPhone)
    expect(overflow).toBeLessThanOrEqual(0)
    await adminPhone.screenshot({ path: join(SCREENSHOTS, 'admin-phone.png'), fullPage: true })

    const refused = await desktop.goto(`${base}/admin/sessions`)
    expect(refused?.status()).toBe(403)
  })

  it('revokes the iPhone from the desktop; the iPhone lands on the sign-in page at its next request', async () => {
    await desktop.goto(`${base}/profile/active_sessions`)
    const iphoneRow = rows(desktop).filter({ hasText: 'Mobile Safari on iOS' })
    await iphoneRow.locator('a.revoke').click()
    await desktop.waitForURL(/\/revoke$/)
    expect(await desktop.locator('body').innerText()).toContain(
      'Are you sure? The device will be signed out.',
    )
    await Promise.all([
      desktop.waitForURL(`${base}/profile/active_sessions?notice=revoked`),
      desktop.click('button.confirm-revoke'),
    ])
    expect(await desktop.locator('.notice').innerText()).toContain('revoked')
    expect(await rows(desktop).count()).toBe(4)
    expect(await rows(desktop).filter({ hasText: 'Mobile Safari on iOS' }).count()).toBe(0)

    await phone.reload()
    expect(new URL(phone.url()).pathname).toBe('/login')
    expect(await phone.locator('h1').innerText()).toBe('Sign in')
  })

  it('revokes all other sessions', async () => {
    await desktop.goto(`${base}/profile/active_sessions`)
    await desktop.click('a.revoke-others')
    expect(await desktop.locator('body').innerText()).toContain('3 other devices will be signed out')
    await Promise.all([
      desktop.waitForURL(/notice=revoked-others/),
      desktop.click('button.confirm-revoke-others'),
    ])
    expect(await desktop.locator('.notice').innerText()).toBe('3 other sessions were revoked.')
    expect(await rows(desktop).count()).toBe(1)
    expect(await desktop.locator('li.session.current').count()).toBe(1)
    expect(await desktop.locator('a.revoke-others').count()).toBe(0)
    // Bob was not touched.
    const bob = await fetch(`${base}/healthz`)
    expect(bob.status).toBe(200)
  })
})
