/**
 * The Active Sessions page, its JSON API and the admin view as framework-agnostic handlers: pure functions over
 * (sessionkit, the request's session, a few request facts) that return a status, headers and a body. The
 * Express router and the Fastify plugin only translate requests and responses.
 *
 * @module
 */
import { toActiveSessionJson, type ActiveSessionJson } from '../core/active-session-json.js'
import type { ActiveSession } from '../core/active-sessions.js'
import type { Session } from '../core/session.js'
import type { Sessionkit } from '../core/sessionkit.js'
import { InvalidOptionsError, InvalidUserIdError } from '../core/errors.js'
import { describeValue, rejectUnknownOptions } from '../core/option-checks.js'
import { SessionAdmin } from '../admin/admin-service.js'
import { NO_SKIPPED_KEYS } from '../admin/skipped.js'
import { csrfToken, verifyCsrfToken } from './csrf.js'
import { htmlHeaders, jsonHeaders } from './layout.js'
import {
  renderAdminPage,
  renderConfirmRevoke,
  renderConfirmRevokeOthers,
  renderMessage,
  renderUserPage,
  type AdminLookup,
  type AdminNotice,
  type Notice,
  type PageContext,
} from './pages.js'

/** Options shared by the Express router and the Fastify plugin. */
export interface ActiveSessionsOptions {
  /** The user's page. Default `/profile/active_sessions`. */
  readonly pagePath?: string
  /** The JSON API's collection (`GET`, `DELETE <apiPath>/:id`, `DELETE <apiPath>?scope=others`). Default `/api/sessions`. */
  readonly apiPath?: string
  /** The admin view, or `false` for none. Default `/admin/sessions`. */
  readonly adminPath?: string | false
  /** Where signed-out visitors of the pages are sent (303). Without it they get a 401 page. */
  readonly loginPath?: string
  /** A "Home" link on the pages. */
  readonly homePath?: string
  /**
   * Origins, besides the app's own (`<protocol>://<Host>`), allowed to send state-changing requests, e.g.
   * `['https://app.example.com']` behind a proxy that rewrites `Host`.
   */
  readonly allowedOrigins?: readonly string[]
  /** IANA time zone for the times shown on the pages. Default `UTC`. */
  readonly timeZone?: string
}

/** Options with defaults applied. */
export interface ResolvedActiveSessionsOptions {
  readonly pagePath: string
  readonly apiPath: string
  readonly adminPath: string | undefined
  readonly loginPath: string | undefined
  readonly homePath: string | undefined
  readonly allowedOrigins: readonly string[]
  readonly timeZone: string
}

const OPTION_NAMES = [
  'pagePath',
  'apiPath',
  'adminPath',
  'loginPath',
  'homePath',
  'allowedOrigins',
  'timeZone',
]

/**
 * @param frameworkNames the names the framework's mount adds (`isAdmin`, Fastify's `prefix`...)
 * @throws {InvalidOptionsError} naming the first invalid (or unknown) option
 */
export function resolveActiveSessionsOptions(
  options: ActiveSessionsOptions = {},
  frameworkNames: readonly string[] = [],
): ResolvedActiveSessionsOptions {
  rejectUnknownOptions('activeSessions', options, [...OPTION_NAMES, ...frameworkNames])
  const path = (name: string, value: string | undefined, fallback: string): string => {
    const p = value ?? fallback
    if (
      typeof p !== 'string' ||
      !p.startsWith('/') ||
      p.includes('?') ||
      p.includes('#') ||
      (p.length > 1 && p.endsWith('/'))
    ) {
      throw new InvalidOptionsError(
        `activeSessions: ${name} must be an absolute path without a trailing slash, got ${describeValue(p)}`,
      )
    }
    return p
  }
  const timeZone = options.timeZone ?? 'UTC'
  // Throws a RangeError for an unknown zone now, not on the first page view.
  new Intl.DateTimeFormat('en', { timeZone })
  return {
    pagePath: path('pagePath', options.pagePath, '/profile/active_sessions'),
    apiPath: path('apiPath', options.apiPath, '/api/sessions'),
    adminPath:
      options.adminPath === false ? undefined : path('adminPath', options.adminPath, '/admin/sessions'),
    loginPath: options.loginPath,
    homePath: options.homePath,
    allowedOrigins: [...(options.allowedOrigins ?? [])],
    timeZone,
  }
}

/** What the handlers need to know about a request. */
export interface UiRequest {
  /** The `Origin` header, if any. */
  readonly origin: string | undefined
  /** The `Sec-Fetch-Site` header, if any. */
  readonly secFetchSite: string | undefined
  /** The app's own origin as this request reached it: `<protocol>://<Host>`. */
  readonly ownOrigin: string | undefined
  /** First value of a query parameter. */
  query(name: string): string | undefined
  /** A field of the url-encoded form body (POST only). */
  form(name: string): string | undefined
  /** Route parameters (`id`). */
  readonly params: { readonly id?: string | undefined }
}

export interface UiResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

export interface UiContext {
  readonly kit: Sessionkit
  readonly session: Session
  readonly options: ResolvedActiveSessionsOptions
  readonly request: UiRequest
  /** Whether the signed-in user may see the admin view (the host app decides). */
  isAdmin(): Promise<boolean>
}

export type UiMethod = 'GET' | 'POST' | 'DELETE'

export interface UiRoute {
  readonly method: UiMethod
  /** Express / Fastify path pattern (`:id` is the only parameter). */
  readonly path: string
  handle(ctx: UiContext): Promise<UiResponse>
}

/** Every route of the UI, for the given options. */
export function activeSessionsRoutes(options: ResolvedActiveSessionsOptions): UiRoute[] {
  const { pagePath, apiPath, adminPath } = options
  const routes: UiRoute[] = [
    { method: 'GET', path: pagePath, handle: userPage },
    { method: 'GET', path: `${pagePath}/revoke-others`, handle: confirmRevokeOthers },
    { method: 'POST', path: `${pagePath}/revoke-others`, handle: formRevokeOthers },
    { method: 'GET', path: `${pagePath}/:id/revoke`, handle: confirmRevoke },
    { method: 'POST', path: `${pagePath}/:id/revoke`, handle: formRevoke },
    { method: 'GET', path: apiPath, handle: apiList },
    { method: 'DELETE', path: apiPath, handle: apiRevokeOthers },
    { method: 'DELETE', path: `${apiPath}/:id`, handle: apiRevoke },
  ]
  if (adminPath !== undefined) {
    routes.push(
      { method: 'GET', path: adminPath, handle: adminPage },
      { method: 'POST', path: `${adminPath}/revoke`, handle: adminRevoke },
      { method: 'POST', path: `${adminPath}/revoke-all`, handle: adminRevokeAll },
    )
  }
  return routes
}

// ---------------------------------------------------------------------------------------------------------------
// Responses

function page(status: number, body: string): UiResponse {
  return { status, headers: htmlHeaders(), body }
}

function json(status: number, value: unknown): UiResponse {
  return { status, headers: jsonHeaders(), body: status === 204 ? '' : JSON.stringify(value) }
}

function redirect(location: string): UiResponse {
  return { status: 303, headers: { ...htmlHeaders(), location }, body: '' }
}

function message(status: number, title: string, text: string, back?: string): UiResponse {
  return page(status, renderMessage(title, text, back))
}

/** Signed-out visitor of a page: to the sign-in page if there is one, else a 401 page. */
function signedOutPage(ctx: UiContext): UiResponse {
  if (ctx.options.loginPath !== undefined) return redirect(ctx.options.loginPath)
  return message(401, 'Sign in required', 'Sign in to see your active sessions.')
}

// ---------------------------------------------------------------------------------------------------------------
// Request checks

/**
 * Whether a state-changing request comes from another origin: `Sec-Fetch-Site` other than same-origin/none, or
 * an `Origin` that is neither the app's own nor allowed. Requests without either header (non-browser clients)
 * pass: browsers always send `Origin` on cross-origin POST and DELETE.
 */
export function isCrossOrigin(ctx: Pick<UiContext, 'request' | 'options'>): boolean {
  const { origin, secFetchSite, ownOrigin } = ctx.request
  if (secFetchSite !== undefined && secFetchSite !== 'same-origin' && secFetchSite !== 'none') return true
  if (origin === undefined) return false
  // Under `Referrer-Policy: no-referrer` (which these pages send) browsers serialize the Origin of a same-origin
  // form POST as "null": accept it only when the browser vouches for the request with Sec-Fetch-Site.
  if (origin === 'null') return secFetchSite !== 'same-origin'
  return origin !== ownOrigin && !ctx.options.allowedOrigins.includes(origin)
}

/** The form checks: same origin (when the browser says) and the session's CSRF token. */
function formRefused(ctx: UiContext): UiResponse | undefined {
  if (isCrossOrigin(ctx) || !verifyCsrfToken(ctx.session, ctx.request.form('csrf_token'))) {
    return message(
      403,
      'Request refused',
      'The form was stale or came from another site. Reload the page and try again.',
      ctx.options.pagePath,
    )
  }
  return undefined
}

function pageContext(ctx: UiContext, userId: string, isAdmin: boolean): PageContext {
  return {
    pagePath: ctx.options.pagePath,
    adminPath: ctx.options.adminPath,
    homePath: ctx.options.homePath,
    timeZone: ctx.options.timeZone,
    userId,
    isAdmin,
  }
}

/** The user's sessions as the page shows them: impersonated sessions are hidden, as in GitLab. */
async function visibleSessions(session: Session): Promise<ActiveSession[]> {
  return (await session.listSessions()).filter((s) => !s.impersonated)
}

// ---------------------------------------------------------------------------------------------------------------
// The user's page

async function userPage(ctx: UiContext): Promise<UiResponse> {
  const userId = ctx.session.userId
  if (userId === undefined) return signedOutPage(ctx)
  const [sessions, isAdmin] = await Promise.all([visibleSessions(ctx.session), ctx.isAdmin()])
  let notice: Notice
  const flash = ctx.request.query('notice')
  if (flash === 'revoked') notice = { kind: 'revoked' }
  else if (flash === 'revoked-others') {
    const count = Number(ctx.request.query('count'))
    notice = { kind: 'revoked-others', count: Number.isSafeInteger(count) && count >= 0 ? count : 0 }
  }
  return page(200, renderUserPage(pageContext(ctx, userId, isAdmin), sessions, notice))
}

async function confirmRevoke(ctx: UiContext): Promise<UiResponse> {
  const userId = ctx.session.userId
  if (userId === undefined) return signedOutPage(ctx)
  const target = (await visibleSessions(ctx.session)).find((s) => s.id === ctx.request.params.id)
  if (!target) return notFoundPage(ctx)
  return page(200, renderConfirmRevoke(pageContext(ctx, userId, false), target, csrfToken(ctx.session)))
}

async function formRevoke(ctx: UiContext): Promise<UiResponse> {
  if (ctx.session.userId === undefined) return signedOutPage(ctx)
  const refused = formRefused(ctx)
  if (refused) return refused
  const outcome = await revokeOwn(ctx.session, ctx.request.params.id)
  if (outcome === 'not-found') return notFoundPage(ctx)
  if (outcome === 'signed-out') return signedOutPage(ctx)
  return redirect(`${ctx.options.pagePath}?notice=revoked`)
}

async function confirmRevokeOthers(ctx: UiContext): Promise<UiResponse> {
  const userId = ctx.session.userId
  if (userId === undefined) return signedOutPage(ctx)
  const others = (await visibleSessions(ctx.session)).filter((s) => !s.current).length
  if (others === 0) return redirect(ctx.options.pagePath)
  return page(200, renderConfirmRevokeOthers(pageContext(ctx, userId, false), others, csrfToken(ctx.session)))
}

async function formRevokeOthers(ctx: UiContext): Promise<UiResponse> {
  if (ctx.session.userId === undefined) return signedOutPage(ctx)
  const refused = formRefused(ctx)
  if (refused) return refused
  const count = await ctx.session.revokeOtherSessions()
  return redirect(`${ctx.options.pagePath}?notice=revoked-others&count=${count}`)
}

function notFoundPage(ctx: UiContext): UiResponse {
  return message(404, 'Session not found', 'That session does not exist any more.', ctx.options.pagePath)
}

/**
 * Revokes one of the user's own sessions. An id that is not theirs, or that is hidden from them (impersonated),
 * is "not found" and nothing is touched. Revoking the current session signs out (and clears the cookie).
 */
async function revokeOwn(
  session: Session,
  id: string | undefined,
): Promise<'revoked' | 'signed-out' | 'not-found'> {
  if (id === undefined) return 'not-found'
  const target = (await visibleSessions(session)).find((s) => s.id === id)
  if (!target) return 'not-found'
  if (target.current) {
    await session.signOut()
    return 'signed-out'
  }
  return (await session.revokeSession(id)) ? 'revoked' : 'not-found'
}

// ---------------------------------------------------------------------------------------------------------------
// The JSON API

/** The JSON shape of one session. */
export type ApiSession = ActiveSessionJson

const UNAUTHORIZED = { error: 'unauthorized', message: 'Sign in first.' }
const CROSS_ORIGIN = { error: 'forbidden', message: 'Cross-origin requests are refused.' }

async function apiList(ctx: UiContext): Promise<UiResponse> {
  if (ctx.session.userId === undefined) return json(401, UNAUTHORIZED)
  return json(200, { sessions: (await visibleSessions(ctx.session)).map(toActiveSessionJson) })
}

async function apiRevoke(ctx: UiContext): Promise<UiResponse> {
  if (isCrossOrigin(ctx)) return json(403, CROSS_ORIGIN)
  if (ctx.session.userId === undefined) return json(401, UNAUTHORIZED)
  const outcome = await revokeOwn(ctx.session, ctx.request.params.id)
  if (outcome === 'not-found') return json(404, { error: 'not_found', message: 'No such session.' })
  return json(204, undefined)
}

async function apiRevokeOthers(ctx: UiContext): Promise<UiResponse> {
  if (isCrossOrigin(ctx)) return json(403, CROSS_ORIGIN)
  if (ctx.session.userId === undefined) return json(401, UNAUTHORIZED)
  if (ctx.request.query('scope') !== 'others') {
    return json(400, {
      error: 'bad_request',
      message: 'Use DELETE with ?scope=others to revoke other sessions.',
    })
  }
  return json(200, { revoked: await ctx.session.revokeOtherSessions() })
}

// ---------------------------------------------------------------------------------------------------------------
// The admin view

async function adminGate(ctx: UiContext): Promise<UiResponse | string> {
  const userId = ctx.session.userId
  if (userId === undefined) return signedOutPage(ctx)
  if (!(await ctx.isAdmin())) return message(403, 'Forbidden', 'This page is for administrators.')
  return userId
}

/** The admin gate, then the form's CSRF check: what every admin POST needs before it acts. */
async function adminFormRefused(ctx: UiContext): Promise<UiResponse | undefined> {
  const gate = await adminGate(ctx)
  return typeof gate === 'string' ? formRefused(ctx) : gate
}

async function adminPage(ctx: UiContext): Promise<UiResponse> {
  const gate = await adminGate(ctx)
  if (typeof gate !== 'string') return gate
  const admin = adminService(ctx)
  const wanted = ctx.request.query('user')?.trim()
  const [stats, lookup] = await Promise.all([
    admin.stats(),
    wanted === undefined || wanted === '' ? undefined : lookUp(admin, wanted, ctx.session.id),
  ])
  let notice: AdminNotice
  const revoked = Number(ctx.request.query('revoked'))
  if (lookup && Number.isSafeInteger(revoked) && revoked >= 0 && ctx.request.query('revoked') !== undefined) {
    notice = { kind: 'revoked', count: revoked, userId: lookup.userId }
  }
  return page(
    200,
    renderAdminPage(pageContext(ctx, gate, true), stats, lookup, csrfToken(ctx.session), notice),
  )
}

/** The admin service over the app's store and policy (the same one the CLI uses). */
function adminService(ctx: UiContext): SessionAdmin {
  try {
    return SessionAdmin.of(ctx.kit)
  } catch (error) {
    if (!(error instanceof InvalidOptionsError)) throw error
    throw new Error(
      `sessionkit ui: the admin view needs a store that can be scanned (RedisStore, MemoryStore)`,
      {
        cause: error,
      },
    )
  }
}

async function lookUp(
  admin: SessionAdmin,
  userId: string,
  currentId: string | undefined,
): Promise<AdminLookup> {
  try {
    const { sessions, skipped } = await admin.listSessions(userId, currentId)
    return { userId, sessions, skipped }
  } catch (error) {
    if (!(error instanceof InvalidUserIdError)) throw error
    return { userId, sessions: [], skipped: NO_SKIPPED_KEYS, error: 'That is not a valid user id.' }
  }
}

function adminBack(ctx: UiContext, userId: string, revoked: number): UiResponse {
  return redirect(`${ctx.options.adminPath ?? ''}?user=${encodeURIComponent(userId)}&revoked=${revoked}`)
}

async function adminRevoke(ctx: UiContext): Promise<UiResponse> {
  const refused = await adminFormRefused(ctx)
  if (refused) return refused
  const userId = ctx.request.form('user_id') ?? ''
  const id = ctx.request.form('session_id') ?? ''
  let revoked = false
  try {
    revoked = (await adminService(ctx).revokeSession(id, { userId })).status === 'revoked'
  } catch (error) {
    if (!(error instanceof InvalidUserIdError)) throw error
  }
  if (!revoked)
    return message(404, 'Session not found', 'That session does not exist any more.', ctx.options.adminPath)
  return adminBack(ctx, userId, 1)
}

async function adminRevokeAll(ctx: UiContext): Promise<UiResponse> {
  const refused = await adminFormRefused(ctx)
  if (refused) return refused
  const userId = ctx.request.form('user_id') ?? ''
  try {
    const outcome = await adminService(ctx).revokeUserSessions(userId)
    return adminBack(ctx, userId, outcome.status === 'revoked' ? outcome.revoked : 0)
  } catch (error) {
    if (!(error instanceof InvalidUserIdError)) throw error
    return message(400, 'Invalid user', 'That is not a valid user id.', ctx.options.adminPath)
  }
}
