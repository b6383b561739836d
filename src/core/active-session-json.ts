/**
 * The JSON shape of an active session, shared by the Active Sessions API and the admin CLI, so the two can never
 * drift apart (field names exactly as the API documents them; times in ISO 8601).
 *
 * @module
 */
import type { ActiveSession } from './session.js'

export interface ActiveSessionJson {
  readonly id: string
  readonly current: boolean
  readonly browser: string
  readonly os: string
  readonly deviceType: string
  readonly deviceName: string
  readonly ipAddress: string
  /** ISO 8601. */
  readonly signedInAt: string
  /** ISO 8601. */
  readonly lastSeenAt: string
}

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
  }
}
