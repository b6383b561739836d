/**
 * The CLI drives the same admin service as the admin view (`SessionAdmin`), over the library's own user-level
 * API, so listing, revoking and cleaning up behave exactly as they do inside the app. No device parser is loaded:
 * the CLI never signs anyone in. Skipped sessions are reported under their Redis key name.
 *
 * @module
 */
import { SessionAdmin } from '../../admin/admin-service.js'
import { createSessionkit } from '../../core/sessionkit.js'
import type { CliContext } from '../connect.js'

export function adminOf(ctx: CliContext): SessionAdmin {
  const kit = createSessionkit({ store: ctx.store, deviceParser: false })
  return SessionAdmin.of(kit, (ref) => ctx.store.keys.session(ref))
}
