/**
 * Renderers of the Active Sessions pages (user and admin): pure functions from data to HTML strings.
 *
 * @module
 */
import { deviceCategory } from '../core/device.js'
import type { ActiveSession } from '../core/active-sessions.js'
import type { SkippedKeys } from '../admin/skipped.js'
import { UNKNOWN_LABEL, type SessionStats, type Tally } from '../admin/stats.js'
import { barChart } from './chart.js'
import { html, type SafeHtml } from './html.js'
import { deviceIcon } from './icons.js'
import { renderDocument } from './layout.js'

/** What the renderers need to know about where things are mounted. */
export interface PageContext {
  readonly pagePath: string
  readonly adminPath: string | undefined
  readonly homePath: string | undefined
  readonly timeZone: string
  readonly userId: string
  /** Whether to link the admin view. */
  readonly isAdmin: boolean
}

/** "Chrome on Windows", with fallbacks for what the User-Agent did not say. */
export function browserOnOs(session: Pick<ActiveSession, 'browser' | 'os'>): string {
  const browser = session.browser.trim()
  const os = session.os.trim()
  if (browser === '' && os === '') return 'Unknown browser'
  if (os === '') return browser
  return `${browser === '' ? 'Unknown browser' : browser} on ${os}`
}

/** "Smartphone", "Desktop", "Unknown device type". */
export function humanDeviceType(deviceType: string): string {
  const t = deviceType.trim()
  return t === '' ? 'Unknown device type' : t.charAt(0).toUpperCase() + t.slice(1)
}

const formatters = new Map<string, Intl.DateTimeFormat>()

/** "25 Nov 2026, 22:37 UTC" in the configured time zone. */
export function formatTime(date: Date, timeZone: string): string {
  let format = formatters.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      timeZone,
      timeZoneName: 'short',
    })
    formatters.set(timeZone, format)
  }
  return format.format(date)
}

function time(date: Date, timeZone: string): SafeHtml {
  return html`<time datetime="${date.toISOString()}">${formatTime(date, timeZone)}</time>`
}

function revokePath(ctx: PageContext, id: string): string {
  return `${ctx.pagePath}/${encodeURIComponent(id)}/revoke`
}

function nav(ctx: PageContext, here: 'user' | 'admin'): SafeHtml {
  return html`<nav class="topnav">
    ${ctx.homePath !== undefined && html`<a href="${ctx.homePath}">← Home</a>`}
    ${here === 'admin' && html`<a href="${ctx.pagePath}">Your active sessions</a>`}
    ${here === 'user' && ctx.isAdmin && ctx.adminPath !== undefined && html`<a href="${ctx.adminPath}">Admin: all sessions</a>`}
    <span class="spacer"></span><span class="muted">Signed in as <b>${ctx.userId}</b></span>
  </nav>`
}

function sessionSummary(session: ActiveSession): SafeHtml {
  return html`<span class="browser-os">${browserOnOs(session)}</span>${
      session.deviceName !== '' && html`<span class="device-name"> · ${session.deviceName}</span>`
    }`
}

function sessionRow(ctx: PageContext, session: ActiveSession, action: SafeHtml | false): SafeHtml {
  const category = deviceCategory(session.deviceType)
  return html`<li
    class="${session.current ? 'session current' : 'session'}"
    data-session-id="${session.id}"
    data-device="${category}"
  >
    <div class="icon">${deviceIcon(category, humanDeviceType(session.deviceType))}</div>
    <div class="title">${sessionSummary(session)}</div>
    <div class="meta">
      <span>IP <b class="ip">${session.ipAddress === '' ? 'unknown' : session.ipAddress}</b></span>
      <span
        >Signed in
        ${time(session.signedInAt, ctx.timeZone)}${
          session.elevated && html` <span class="badge warn admin-mode">with admin mode</span>`
        }</span
      >
      <span class="seen"
        >${
          session.current
            ? html`<span class="badge current-badge">This is your current session</span>`
            : html`Last seen ${time(session.lastSeenAt, ctx.timeZone)}`
        }
        ${session.impersonated && html`<span class="badge warn">Impersonated</span>`}</span
      >
    </div>
    ${action !== false && html`<div class="action">${action}</div>`}
  </li>`
}

export type Notice = { kind: 'revoked' } | { kind: 'revoked-others'; count: number } | undefined

function noticeBanner(notice: Notice): SafeHtml | false {
  if (!notice) return false
  const text =
    notice.kind === 'revoked'
      ? 'The session was revoked. That device is signed out.'
      : `${notice.count} other ${notice.count === 1 ? 'session was' : 'sessions were'} revoked.`
  return html`<p class="notice" role="status">${text}</p>`
}

/** The user's Active Sessions page. `sessions` are already filtered (no impersonated ones). */
export function renderUserPage(ctx: PageContext, sessions: readonly ActiveSession[], notice: Notice): string {
  const others = sessions.filter((s) => !s.current).length
  const rows = sessions.map((s) =>
    sessionRow(
      ctx,
      s,
      !s.current && html`<a class="button danger revoke" href="${revokePath(ctx, s.id)}">Revoke</a>`,
    ),
  )
  const body = html`${nav(ctx, 'user')}
    <h1>Active sessions</h1>
    <p class="lead">
      This is a list of devices that have signed in to your account. Revoke any sessions that you do not
      recognize.
    </p>
    ${noticeBanner(notice)}
    <section class="card flush">
      ${
        sessions.length === 0
          ? html`<p class="empty">No active sessions.</p>`
          : html`<ul class="sessions">
              ${rows}
            </ul>`
      }
      <div class="footer-actions">
        <span class="muted">${sessions.length} active ${sessions.length === 1 ? 'session' : 'sessions'}</span>
        ${
          others > 0
            ? html`<a class="button danger revoke-others" href="${ctx.pagePath}/revoke-others"
                >Revoke all other sessions</a
              >`
            : html`<span class="muted">No other sessions.</span>`
        }
      </div>
    </section>`
  return renderDocument({ title: 'Active sessions', body })
}

/** The no-JavaScript confirmation step before revoking one session. */
export function renderConfirmRevoke(ctx: PageContext, session: ActiveSession, csrf: string): string {
  const body = html`${nav(ctx, 'user')}
    <h1>Revoke this session?</h1>
    <section class="card flush confirm">
      <ul class="sessions">
        ${sessionRow(ctx, session, false)}
      </ul>
    </section>
    <section class="card confirm">
      <p>
        <strong>Are you sure? The device will be signed out.</strong>${
          session.current && html` This is your current session: you will be signed out here.`
        }
      </p>
      <form method="post" action="${revokePath(ctx, session.id)}" class="actions">
        <input type="hidden" name="csrf_token" value="${csrf}" />
        <button type="submit" class="button danger solid confirm-revoke">Revoke session</button>
        <a class="button" href="${ctx.pagePath}">Cancel</a>
      </form>
    </section>`
  return renderDocument({ title: 'Revoke session', body })
}

/** The confirmation step before revoking every other session. */
export function renderConfirmRevokeOthers(ctx: PageContext, others: number, csrf: string): string {
  const body = html`${nav(ctx, 'user')}
    <h1>Revoke all other sessions?</h1>
    <section class="card confirm">
      <p>
        <strong
          >Are you sure? ${others} other ${others === 1 ? 'device' : 'devices'} will be signed out.</strong
        >
        This session stays signed in.
      </p>
      <form method="post" action="${ctx.pagePath}/revoke-others" class="actions">
        <input type="hidden" name="csrf_token" value="${csrf}" />
        <button type="submit" class="button danger solid confirm-revoke-others">
          Revoke all other sessions
        </button>
        <a class="button" href="${ctx.pagePath}">Cancel</a>
      </form>
    </section>`
  return renderDocument({ title: 'Revoke all other sessions', body })
}

/** A plain message page (errors). */
export function renderMessage(title: string, message: string, back: string | undefined): string {
  const body = html`<h1>${title}</h1>
    <section class="card">
      <p>${message}</p>
      ${back !== undefined && html`<p><a href="${back}">Go back</a></p>`}
    </section>`
  return renderDocument({ title, body })
}

export interface AdminLookup {
  readonly userId: string
  readonly sessions: readonly ActiveSession[]
  /** Listed entries the library would refuse (malformed metadata): counted and listed, never shown as sessions. */
  readonly skipped: SkippedKeys
  readonly error?: string
}

export type AdminNotice = { kind: 'revoked'; count: number; userId: string } | undefined

function entries(tallies: readonly Tally[], label: (name: string) => string = (name) => name) {
  return tallies.map((t) => ({ label: t.name === UNKNOWN_LABEL ? 'Unknown' : label(t.name), value: t.count }))
}

function stat(value: number, label: string, key: string): SafeHtml {
  return html`<div class="stat" data-stat="${key}">
    <div class="value">${value}</div>
    <div class="label">${label}</div>
  </div>`
}

/** The admin view: totals, charts, top users, skipped keys, and a look-up of one user's sessions. */
export function renderAdminPage(
  ctx: PageContext,
  stats: SessionStats,
  lookup: AdminLookup | undefined,
  csrf: string,
  notice: AdminNotice,
): string {
  const body = html`${nav(ctx, 'admin')}
    <h1>Sessions overview</h1>
    <p class="lead">Every live session in the store, and any user's sessions on request.</p>
    ${notice && html`<p class="notice" role="status">Revoked ${notice.count} ${notice.count === 1 ? 'session' : 'sessions'} of ${notice.userId}.</p>`}
    ${statTiles(stats)} ${charts(stats)}
    <div class="charts two admin-lower">${topUsersCard(ctx, stats)} ${lookupCard(ctx, lookup)}</div>
    ${lookup && renderLookup(ctx, lookup, csrf)} ${skippedCard('Skipped keys', stats.skipped)}`
  return renderDocument({ title: 'Sessions overview', body, wide: true })
}

function statTiles(stats: SessionStats): SafeHtml {
  return html`<div class="stats">
    ${stat(stats.sessions, 'Sessions', 'total')} ${stat(stats.signedInUsers, 'Signed-in users', 'users')}
    ${stat(stats.signedInSessions, 'Signed-in sessions', 'signed-in')}
    ${stat(stats.anonymousSessions, 'Anonymous sessions', 'anonymous')}
  </div>`
}

function charts(stats: SessionStats): SafeHtml {
  return html`<div class="charts">
    <section class="card" data-chart="browser">
      <h2>By browser</h2>
      ${barChart(entries(stats.byBrowser), { title: 'Signed-in sessions by browser' })}
    </section>
    <section class="card" data-chart="os">
      <h2>By operating system</h2>
      ${barChart(entries(stats.byOs), { title: 'Signed-in sessions by operating system' })}
    </section>
    <section class="card" data-chart="device">
      <h2>By device type</h2>
      ${barChart(entries(stats.byDeviceType, humanDeviceType), { title: 'Signed-in sessions by device type' })}
    </section>
  </div>`
}

function topUsersCard(ctx: PageContext, stats: SessionStats): SafeHtml {
  const adminPath = ctx.adminPath ?? ''
  const rows = stats.topUsers.map(
    (u) =>
      html`<tr>
        <td><a href="${adminPath}?user=${encodeURIComponent(u.userId)}">${u.userId}</a></td>
        <td class="num">${u.sessions}</td>
      </tr>`,
  )
  return html`<section class="card top-users">
    <h2>Most sessions</h2>
    ${
      rows.length === 0
        ? html`<p class="muted">Nobody is signed in.</p>`
        : html`<table>
            <thead>
              <tr>
                <th>User</th>
                <th class="num">Sessions</th>
              </tr>
            </thead>
            <tbody>
              ${rows}
            </tbody>
          </table>`
    }
  </section>`
}

function lookupCard(ctx: PageContext, lookup: AdminLookup | undefined): SafeHtml {
  return html`<section class="card lookup-card">
    <h2>Look up a user</h2>
    <form method="get" action="${ctx.adminPath ?? ''}" class="lookup" role="search">
      <input
        type="search"
        name="user"
        aria-label="User id"
        placeholder="User id"
        value="${lookup?.userId ?? ''}"
        required
      />
      <button type="submit" class="button primary">Show sessions</button>
    </form>
  </section>`
}

/** Keys that are not sessions sessionkit wrote: counted and listed, so one stray key is seen, never fatal. */
function skippedCard(title: string, skipped: SkippedKeys): SafeHtml | false {
  if (skipped.count === 0) return false
  const listed = skipped.keys.length < skipped.count ? ` (the first ${skipped.keys.length} are listed)` : ''
  return html`<section class="card skipped" data-skipped="${skipped.count}">
    <h2>${title}: ${skipped.count}</h2>
    <p class="muted">Not written by sessionkit, so left out of every figure and left alone${listed}.</p>
    <table>
      <thead>
        <tr>
          <th>Key</th>
          <th>Why</th>
        </tr>
      </thead>
      <tbody>
        ${skipped.keys.map(
          (k) =>
            html`<tr>
              <td class="key">${k.key}</td>
              <td>${k.reason}</td>
            </tr>`,
        )}
      </tbody>
    </table>
  </section>`
}

function renderLookup(ctx: PageContext, lookup: AdminLookup, csrf: string): SafeHtml {
  const adminPath = ctx.adminPath ?? ''
  if (lookup.error !== undefined) {
    return html`<section class="card lookup-result"><p class="notice error">${lookup.error}</p></section>`
  }
  const hidden = html`<input type="hidden" name="csrf_token" value="${csrf}" /><input
      type="hidden"
      name="user_id"
      value="${lookup.userId}"
    />`
  const rows = lookup.sessions.map((s) =>
    sessionRow(
      ctx,
      s,
      html`<form method="post" action="${adminPath}/revoke">
        ${hidden}<input type="hidden" name="session_id" value="${s.id}" /><button
          type="submit"
          class="button danger"
        >
          Revoke
        </button>
      </form>`,
    ),
  )
  return html`<section class="card flush lookup-result" data-user="${lookup.userId}">
      <div class="section-head">
        <h2>Sessions of ${lookup.userId}</h2>
        ${
          lookup.sessions.length > 0 &&
          html`<form method="post" action="${adminPath}/revoke-all">
            ${hidden}<button type="submit" class="button danger revoke-all">
              Revoke all ${lookup.sessions.length}
            </button>
          </form>`
        }
      </div>
      ${
        lookup.sessions.length === 0
          ? html`<p class="empty">No active sessions.</p>`
          : html`<ul class="sessions">
              ${rows}
            </ul>`
      }
    </section>
    ${skippedCard(`Skipped sessions of ${lookup.userId}`, lookup.skipped)}`
}
