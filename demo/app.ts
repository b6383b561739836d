/**
 * The demo app: sign-in, a home page, and sessionkit's Active Sessions page, JSON API and admin view, using the
 * package exactly as its README shows (public entry points only). It also shows what GitLab builds on its
 * sessions: admin mode after re-entering the password, a "new sign-in" notice for an unknown device, and a cap on
 * the anonymous sessions one address may create.
 */
import { randomBytes } from 'node:crypto'
import express, { type NextFunction, type Request, type Response } from 'express'
import {
  currentSession,
  type AdminStore,
  type Session,
  type Sessionkit,
  type SessionkitOptions,
  type UnknownSignIn,
} from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { activeSessionsRouter, csrfToken, resetCsrfToken, verifyCsrfToken } from 'sessionkit/ui/express'
import { CSP, documentOf, html } from './html.js'
import { LoginCsrf } from './login-csrf.js'
import { authenticate, DEMO_USERS, isAdminUser } from './users.js'

export const PATHS = {
  login: '/login',
  logout: '/logout',
  home: '/',
  adminMode: '/admin-mode',
  leaveAdminMode: '/admin-mode/leave',
  page: '/profile/active_sessions',
  api: '/api/sessions',
  admin: '/admin/sessions',
  health: '/healthz',
} as const

/** The demo's own namespace in the session (the "new sign-in" notice waits there for the next page). */
const DEMO_NAMESPACE = 'demo'

/** The failed sign-ins of a visitor, kept in their (anonymous) session, as GitLab does. */
const FAILED_SIGN_INS = 'failed_sign_ins'

/**
 * The sessionkit options the demo runs with (besides the store and the cookie): GitLab's unknown-sign-in notice,
 * a cap on anonymous sessions per address, and a limit on distinct addresses per user.
 */
export function demoSessionkitOptions(
  settings: {
    knownDeviceSecret?: Uint8Array
    maxAnonymousSessionsPerIp?: number
    log?: (line: string) => void
  } = {},
): Pick<
  SessionkitOptions,
  'onUnknownSignIn' | 'knownDeviceCookie' | 'maxAnonymousSessionsPerIp' | 'uniqueIpsPerUser'
> {
  const log = settings.log ?? console.log
  return {
    knownDeviceCookie: { secret: settings.knownDeviceSecret ?? randomBytes(32) },
    onUnknownSignIn: (signIn) => {
      const text = newSignInNotice(signIn)
      // What the demo would email; a real app sends it (GitLab: "A new sign-in to your account").
      log(`sessionkit demo: mail to ${signIn.userId}: ${text}`)
      // Runs inside the sign-in's request: the notice is shown on the next page.
      currentSession()?.namespace(DEMO_NAMESPACE).set('notice', text)
    },
    maxAnonymousSessionsPerIp: settings.maxAnonymousSessionsPerIp ?? 50,
    uniqueIpsPerUser: { max: 10, windowMs: 24 * 60 * 60 * 1000 },
  }
}

function newSignInNotice(signIn: UnknownSignIn): string {
  const device = signIn.device
  const where =
    device && device.browser !== ''
      ? `${device.browser}${device.os === '' ? '' : ` on ${device.os}`}`
      : 'an unknown browser'
  return `New sign-in to your account from ${where} at ${signIn.ipAddress ?? 'an unknown address'}, ${signIn.signedInAt.toISOString()}. If this was not you, revoke it on your Active sessions page.`
}

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

function loginPage(req: Request, res: Response, status: number, login: LoginCsrf, error?: string): void {
  const { token, setCookie } = login.issue(req.headers.cookie)
  if (setCookie !== undefined) res.append('Set-Cookie', setCookie)
  const failed = req.session.get(FAILED_SIGN_INS)
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
      ${typeof failed === 'number' && html`<p class="muted">Failed attempts from this browser: ${failed}</p>`}
      <form method="post" action="${PATHS.login}" class="card">
        <input type="hidden" name="csrf_token" value="${token}" />
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
export function createDemoApp(
  kit: Sessionkit,
  store: Pick<AdminStore, 'ping'>,
  options: { loginSecret?: Uint8Array } = {},
): express.Express {
  const login = new LoginCsrf(options.loginSecret ?? randomBytes(32), PATHS.login)
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
    loginPage(req, res, 200, login)
  })

  app.post(PATHS.login, (req, res, next) => {
    const body = (req.body ?? {}) as Record<string, unknown>
    if (!login.verify(req.headers.cookie, body.csrf_token)) {
      loginPage(req, res, 403, login, 'The form expired. Please try again.')
      return
    }
    const user = authenticate(body.username, body.password)
    if (!user) {
      // Stored in the visitor's session: this is what creates anonymous sessions (capped per address).
      const failed = req.session.get(FAILED_SIGN_INS)
      req.session.set(FAILED_SIGN_INS, (typeof failed === 'number' ? failed : 0) + 1)
      loginPage(req, res, 401, login, 'Wrong username or password.')
      return
    }
    req.session.delete(FAILED_SIGN_INS)
    req.session.signIn(user.username, { rememberMe: body.remember_me === 'on' }).then(() => {
      // A fresh CSRF token for the signed-in session.
      resetCsrfToken(req.session)
      res.redirect(303, PATHS.home)
    }, next)
  })

  mountAdminMode(app)

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
    // The "new sign-in" notice is shown once.
    const notice = req.session.namespace(DEMO_NAMESPACE).get('notice')
    if (notice !== undefined) req.session.namespace(DEMO_NAMESPACE).delete('notice')
    sendPage(
      res,
      200,
      'sessionkit demo',
      html`<h1>Hello, ${userId}</h1>
        <p class="lead">You are signed in.</p>
        ${typeof notice === 'string' && html`<p class="notice" role="status">${notice}</p>`}
        <section class="card">
          <ul class="links">
            <li>
              <a href="${PATHS.page}">Active sessions</a>
              <span class="muted">— your devices, revoke any</span>
            </li>
            <li><a href="${PATHS.api}">${PATHS.api}</a> <span class="muted">— the same as JSON</span></li>
            ${isAdminUser(userId) && adminLinks(req.session)}
          </ul>
        </section>
        <form method="post" action="${PATHS.logout}">
          <input type="hidden" name="csrf_token" value="${csrfToken(req.session)}" />
          <button type="submit" class="secondary">Sign out</button>
        </form>`,
    )
  })

  // An administrator outside admin mode is asked to enter it, as GitLab's admin area does.
  app.get(PATHS.admin, (req, res, next) => {
    if (isAdminUser(req.session.userId) && !req.session.isElevated()) res.redirect(303, PATHS.adminMode)
    else next()
  })

  app.use(
    activeSessionsRouter(kit, {
      pagePath: PATHS.page,
      apiPath: PATHS.api,
      adminPath: PATHS.admin,
      loginPath: PATHS.login,
      homePath: PATHS.home,
      // The admin view needs admin mode (a re-entered password, for 6 hours).
      isAdmin: (req) => isAdminUser(req.session.userId) && req.session.isElevated(),
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
      .send(ERROR_TEXT[code] ?? 'Something went wrong.')
  })
  return app
}

/**
 * 429: sessionkit's TooManyAnonymousSessionsError (this address created too many anonymous sessions today) and
 * TooManyIpsError (the account was used from too many addresses).
 */
const ERROR_TEXT: Readonly<Record<number, string>> = {
  503: 'The session store is unavailable. Try again shortly.',
  429: 'Too many requests from your address or for this account. Try again later.',
}

function adminLinks(session: Session): ReturnType<typeof html> {
  const until = session.elevatedUntil
  if (until === undefined) {
    return html`<li>
      <a href="${PATHS.adminMode}">Enter admin mode</a>
      <span class="muted">— re-enter your password to see all sessions</span>
    </li>`
  }
  return html`<li><a href="${PATHS.admin}">Admin: all sessions</a></li>
    <li>
      <span class="muted">Admin mode until ${until.toISOString().slice(11, 16)} UTC</span>
      <form method="post" action="${PATHS.leaveAdminMode}" class="inline">
        <input type="hidden" name="csrf_token" value="${csrfToken(session)}" />
        <button type="submit" class="secondary">Leave admin mode</button>
      </form>
    </li>`
}

/** Admin mode (GitLab's): an administrator re-enters the password, and the session is elevated for 6 hours. */
function mountAdminMode(app: express.Express): void {
  app.get(PATHS.adminMode, (req, res) => {
    if (!isAdminUser(req.session.userId)) {
      res.redirect(303, PATHS.home)
      return
    }
    adminModePage(req, res, 200)
  })

  app.post(PATHS.adminMode, (req, res, next) => {
    const userId = req.session.userId
    const body = (req.body ?? {}) as Record<string, unknown>
    if (!isAdminUser(userId) || !verifyCsrfToken(req.session, body.csrf_token)) {
      res.status(403).send('Forbidden')
      return
    }
    if (authenticate(userId, body.password) === undefined) {
      adminModePage(req, res, 401, 'Wrong password.')
      return
    }
    req.session.elevate().then(() => res.redirect(303, PATHS.admin), next)
  })

  app.post(PATHS.leaveAdminMode, (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>
    if (req.session.userId === undefined || !verifyCsrfToken(req.session, body.csrf_token)) {
      res.status(403).send('Forbidden')
      return
    }
    req.session.dropElevation()
    res.redirect(303, PATHS.home)
  })
}

function adminModePage(req: Request, res: Response, status: number, error?: string): void {
  sendPage(
    res,
    status,
    'Enter admin mode',
    html`<h1>Enter admin mode</h1>
      <p class="lead">Re-enter your password to use the admin area for the next 6 hours.</p>
      ${error !== undefined && html`<p class="error" role="alert">${error}</p>`}
      <form method="post" action="${PATHS.adminMode}" class="card">
        <input type="hidden" name="csrf_token" value="${csrfToken(req.session)}" />
        <label for="password">Password</label>
        <input
          type="password"
          id="password"
          name="password"
          autocomplete="current-password"
          required
          autofocus
        />
        <button type="submit">Enter admin mode</button>
      </form>`,
  )
}
