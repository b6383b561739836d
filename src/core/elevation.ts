/**
 * Elevated mode (GitLab's admin mode, a "sudo" window): after the app re-authenticates a signed-in user,
 * `session.elevate()` stores when the window ends in the session's `current_user_mode` namespace. Reading it is a
 * comparison with the clock: an expired window is simply not elevated (nothing has to run to end it), and every
 * sign-in drops the namespace (see `AUTHENTICATION_NAMESPACES`), so a new authentication never inherits one.
 *
 * @module
 */
import { InvalidArgumentError } from './errors.js'
import { toTime } from './stored-fields.js'

/** How long `session.elevate()` lasts by default, in ms: 6 hours (GitLab's `MAX_ADMIN_MODE_TIME`). */
export const DEFAULT_ELEVATION_MS = 6 * 60 * 60 * 1000
const MAX_ELEVATION_MS = 30 * 24 * 60 * 60 * 1000

/** Options of `session.elevate()`. */
export interface ElevateOptions {
  /** How long the elevation lasts, in ms (1 s to 30 days). Default 6 hours, as GitLab's admin mode. */
  readonly maxAgeMs?: number
}

/** @throws {InvalidArgumentError} */
export function elevationLength(options: ElevateOptions): number {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('options', 'elevate() takes { maxAgeMs? }')
  }
  const ms = options.maxAgeMs ?? DEFAULT_ELEVATION_MS
  if (!Number.isSafeInteger(ms) || ms < 1000 || ms > MAX_ELEVATION_MS) {
    throw new InvalidArgumentError(
      'maxAgeMs',
      `elevate(): maxAgeMs must be whole ms between 1000 and ${MAX_ELEVATION_MS} (30 days), got ${String(ms)}`,
    )
  }
  return ms
}

/**
 * When the elevation stored as `json` ends (epoch ms), if it is still running at `now`. Anything but a plain
 * whole number (which is all `elevate()` writes) is no elevation.
 */
export function elevatedUntil(json: string | undefined, now: number): number | undefined {
  const until = toTime(json)
  return until !== undefined && until > now ? until : undefined
}
