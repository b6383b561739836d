/**
 * The JSON shape of an active session, shared by the Active Sessions API and the admin CLI, so the two can never
 * drift apart (field names exactly as the API documents them; times in ISO 8601).
 *
 * @module
 */
import type { ActiveSession } from './active-sessions.js'

/** The fields of an {@link ActiveSession} that the API shows (never the user id or the deadlines). */
export type ShownField =
  | 'id'
  | 'current'
  | 'browser'
  | 'os'
  | 'deviceType'
  | 'deviceName'
  | 'ipAddress'
  | 'signedInAt'
  | 'lastSeenAt'
  | 'elevated'

/** Those fields as JSON: the same names and types, times as ISO 8601 strings. */
export type ActiveSessionJson = {
  readonly [K in ShownField]: ActiveSession[K] extends Date ? string : ActiveSession[K]
}

/**
 * The JSON the Active Sessions API sends for one session: the shown fields only, times as ISO 8601. For an API of
 * your own that must match sessionkit's.
 *
 * @example
 * ```ts
 * app.get('/me/sessions', async (req, res) => {
 *   res.json((await req.session.listSessions()).map(toActiveSessionJson))
 * })
 * ```
 */
export function toActiveSessionJson(session: ActiveSession): ActiveSessionJson {
  return {
    id: session.id,
    current: session.current,
    browser: session.browser,
    os: session.os,
    deviceType: session.deviceType,
    deviceName: session.deviceName,
    ipAddress: session.ipAddress,
    signedInAt: session.signedInAt.toISOString(),
    lastSeenAt: session.lastSeenAt.toISOString(),
    elevated: session.elevated,
  }
}
