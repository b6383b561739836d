/**
 * The demo app: sign-in, a home page, and sessionkit's Active Sessions page, JSON API and admin view, using the
 * package exactly as its README shows (public entry points only).
 */
import express, { type NextFunction, type Request, type Response } from 'express'
import type { AdminStore, Sessionkit } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { activeSessionsRouter, csrfToken, resetCsrfToken, verifyCsrfToken } from 'sessionkit/ui/express'
import { CSP, documentOf, html } from './html.js'
import { authenticate, DEMO_USERS, isAdminUser } from './users.js'

export const PATHS = {
  login: '/login',
  logout: '/logout',
  home: '/',
  page: '/profile/active_sessions',
  api: '/api/sessions',
  admin: '/admin/sessions',
  health: '/healthz',
} as const

function sendPage(res: Response, status: number, title: string, body: ReturnType<typeof html>): void {
  res
    .status(status)
    .set({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': CSP,
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    })
    .send(documentOf(title, body))
}

function loginPage(req: Request, res: Response, status: number, error?: string): void {
  const users = DEMO_USERS.map(
    (u) =>
      html`<tr>
        <td><code>${u.username}</code></td>
        <td><code>${u.password}</code></td>
        <td>${u.admin ? 'admin' : ''}</td>
      </tr>`,
  )
  sendPage(
    res,
    status,
    'Sign in',
    html`<h1>Sign in</h1>
      <p class="lead">sessionkit demo: sign in from two browsers, then revoke one from the other.</p>
      ${error !== undefined && html`<p class="error" role="alert">${error}</p>`}
      <form method="post" action="${PATHS.login}" class="card">
        <input type="hidden" name="csrf_token" value="${csrfToken(req.session)}" />
        <label for="username">Username</label>
        <input type="text" id="username" name="username" autocomplete="username" required autofocus />
        <label for="password">Password</label>
        <input type="password" id="password" name="password" autocomplete="current-password" required />
        <label class="check"><input type="checkbox" name="remember_me" value="on" /> Remember me</label>
        <button type="submit">Sign in</button>
      </form>
      <section class="card">
        <table>
          <thead>
            <tr>
              <th>Demo user</th>
              <th>Password</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${users}
          </tbody>
        </table>
      </section>`,
  )
}

/**
 * Builds the demo's Express app around a sessionkit instance. `store` is the kit's store seen through its admin
 * port (both built-in stores have one), for the health check.
 */
export function createDemoApp(kit: Sessionkit, store: Pick<AdminStore, 'ping'>): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.use(sessionMiddleware(kit))
  app.use(express.urlencoded({ extended: false, limit: '8kb' }))

  app.get(PATHS.health, (_req, res) => {
    store.ping().then(
      () => res.status(200).set('cache-control', 'no-store').json({ status: 'ok' }),
      () => res.status(503).set('cache-control', 'no-store').json({ status: 'unavailable' }),
    )
  })

  app.get(PATHS.login, (req, res) => {
    if (req.session.userId !== undefined) {
      res.redirect(303, PATHS.home)
      return
    }
    loginPage(req, res, 200)
  })

  app.post(PATHS.login, (req, res, next) => {
    const body = (req.body ?? {}) as Record<string, unknown>
    if (!verifyCsrfToken(req.session, body.csrf_token)) {
      loginPage(req, res, 403, 'The form expired. Please try again.')
      return
    }
    const user = authenticate(body.username, body.password)
    if (!user) {
      loginPage(req, res, 401, 'Wrong username or password.')
      return
    }
    req.session.signIn(user.username, { rememberMe: body.remember_me === 'on' }).then(() => {
      // A fresh CSRF token for the signed-in session.
      resetCsrfToken(req.session)
      res.redirect(303, PATHS.home)
    }, next)
  })

  app.post(PATHS.logout, (req, res, next) => {
    const body = (req.body ?? {}) as Record<string, unknown>
    if (req.session.userId !== undefined && !verifyCsrfToken(req.session, body.csrf_token)) {
      res.status(403).send('Forbidden')
      return
    }
    req.session.signOut().then(() => res.redirect(303, PATHS.login), next)
  })

  app.get(PATHS.home, (req, res) => {
    const userId = req.session.userId
    if (userId === undefined) {
      res.redirect(303, PATHS.login)
      return
    }
    sendPage(
      res,
      200,
      'sessionkit demo',
      html`<h1>Hello, ${userId}</h1>
        <p class="lead">You are signed in.</p>
        <section class="card">
          <ul class="links">
            <li>
              <a href="${PATHS.page}">Active sessions</a>
              <span class="muted">— your devices, revoke any</span>
            </li>
            <li><a href="${PATHS.api}">${PATHS.api}</a> <span class="muted">— the same as JSON</span></li>
            ${isAdminUser(userId) && html`<li><a href="${PATHS.admin}">Admin: all sessions</a></li>`}
          </ul>
        </section>
        <form method="post" action="${PATHS.logout}">
          <input type="hidden" name="csrf_token" value="${csrfToken(req.session)}" />
          <button type="submit" class="secondary">Sign out</button>
        </form>`,
    )
  })

  app.use(
    activeSessionsRouter(kit, {
      pagePath: PATHS.page,
      apiPath: PATHS.api,
      adminPath: PATHS.admin,
      loginPath: PATHS.login,
      homePath: PATHS.home,
      isAdmin: (req) => isAdminUser(req.session.userId),
    }),
  )

  // Store failures arrive here with statusCode 503 (sessionkit's StoreUnavailableError).
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(error)
      return
    }
    const status = (error as { statusCode?: unknown }).statusCode
    const code = typeof status === 'number' && status >= 400 && status < 600 ? status : 500
    if (code >= 500) console.error(error)
    res
      .status(code)
      .set('cache-control', 'no-store')
      .type('text/plain')
      .send(code === 503 ? 'The session store is unavailable. Try again shortly.' : 'Something went wrong.')
  })
  return app
}
