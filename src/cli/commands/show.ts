/**
 * `sessionkit show SESSION_ID`: one session's metadata and data, read without touching it (no TTL slide, no
 * last-seen update), decoded by the admin service (plain JSON, never evaluated; namespaces grouped).
 *
 * @module
 */
import type { SessionDetails } from '../../admin/session-details.js'
import { parseSessionId, type SessionRef } from '../../core/token.js'
import type { CliContext } from '../connect.js'
import { notFoundError, usageError, type CliError } from '../errors.js'
import { adminOf } from './admin.js'

export type { InvalidValue } from '../../admin/session-details.js'

export interface ShowOptions {
  readonly sessionId?: string | undefined
}

/** What `show --json` prints. */
export type ShowResult = SessionDetails

/** How a session id looks, for help and error messages. */
export const SESSION_ID_FORMAT = '<tag>.<27 base64url>'

/** @throws {CliError} exit 2 for a missing or malformed id */
export function checkShowOptions(options: ShowOptions): SessionRef {
  if (options.sessionId === undefined) throw usageError('show needs a SESSION_ID')
  return parseId(options.sessionId)
}

/** @throws {CliError} exit 2 when `id` is not a session id */
export function parseId(id: string): SessionRef {
  const ref = parseSessionId(id)
  if (!ref) throw usageError(`${describeId(id)} is not a session id (${SESSION_ID_FORMAT}, as list shows it)`)
  return ref
}

export function describeId(id: string): string {
  return JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id)
}

/** @throws {CliError} exit 1 when there is no such session (or its key is not a session) */
export async function showCommand(ctx: CliContext, options: ShowOptions): Promise<ShowResult> {
  const ref = checkShowOptions(options)
  const outcome = await adminOf(ctx).showSession(ref.id)
  if (outcome.status === 'missing') throw notFoundError(`session ${ref.id} not found`)
  if (outcome.status === 'foreign') throw foreignKeyError(ref, outcome.key.reason)
  return outcome.session
}

export function foreignKeyError(ref: SessionRef, reason: string): CliError {
  return notFoundError(
    `session ${ref.id} not found: its key ${reason} (not written by sessionkit, left alone)`,
  )
}
