/**
 * The CLI drives the library's own user-level API (`Sessionkit`), so listing, revoking and cleaning up behave
 * exactly as they do inside the app. No device parser is loaded: the CLI never signs anyone in.
 *
 * @module
 */
import { createSessionkit, type Sessionkit } from '../../core/sessionkit.js'
import type { CliContext } from '../connect.js'

export function adminKit(ctx: CliContext, maxSessionsPerUser?: number): Sessionkit {
  return createSessionkit({ store: ctx.store, deviceParser: false, maxSessionsPerUser })
}
