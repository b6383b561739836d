/**
 * Adopting express-session + connect-redis sessions.
 *
 * @module
 */
import type { LegacySource } from '../core/legacy-source.js'
import { unsignSessionId } from './legacy-cookie.js'
import {
  checkCookieName,
  checkSourceOptions,
  RedisLegacySource,
  type LegacySourceOptions,
} from './redis-source.js'

/** Options of {@link fromExpressSession}: the shared ones, and express-session's cookie name. */
export interface ExpressSessionSourceOptions extends LegacySourceOptions {
  /** express-session's `name` option. Default `'connect.sid'`. */
  readonly cookieName?: string
}

const OPTION_NAMES = ['client', 'prefix', 'cookieName', 'secret', 'userId', 'timeoutMs']

/**
 * Sessions that express-session + connect-redis stored, for `createSessionkit({ migrateFrom })`. A request that
 * carries a `connect.sid` cookie signed with `secret` (one of the secrets, if a list) and no sessionkit cookie gets
 * the legacy session's data (minus its `cookie` field) as a new sessionkit session, signed in as `userId(data)`;
 * the legacy key is deleted in the same atomic step that reads it, so it is migrated at most once.
 *
 * @example
 * ```ts
 * import { RedisStore } from 'sessionkit'
 * import { createSessionkit, fromExpressSession } from 'sessionkit/migrate'
 *
 * const kit = createSessionkit({
 *   store: new RedisStore({ client }),
 *   migrateFrom: fromExpressSession({
 *     client, // the connect-redis client
 *     prefix: 'sess:',
 *     cookieName: 'connect.sid',
 *     secret: process.env.SESSION_SECRET,
 *     userId: (data) => data.passport?.user,
 *   }),
 * })
 * ```
 * @throws {InvalidOptionsError} naming the first invalid option
 */
export function fromExpressSession(options: ExpressSessionSourceOptions): LegacySource {
  const secrets = checkSourceOptions('fromExpressSession', options, OPTION_NAMES)
  const cookieName = checkCookieName(options.cookieName ?? 'connect.sid')
  // express-session signs as `s:<sid>.<signature>`; an unsigned value is no session (express-session ignores it too).
  return new RedisLegacySource(options, cookieName, (value) =>
    value.startsWith('s:') ? unsignSessionId(value.slice(2), secrets) : undefined,
  )
}
