/**
 * Adopting @fastify/session sessions (stored by connect-redis or any store that keeps `<prefix><sid>` JSON strings).
 *
 * @module
 */
import { getHashes } from 'node:crypto'
import { InvalidOptionsError } from '../core/errors.js'
import type { LegacySource } from '../core/legacy-source.js'
import { unsignSessionId } from './legacy-cookie.js'
import {
  checkCookieName,
  checkSourceOptions,
  RedisLegacySource,
  type LegacySourceOptions,
} from './redis-source.js'

/** Options of {@link fromFastifySession}: the shared ones, and how @fastify/session named and signed its cookie. */
export interface FastifySessionSourceOptions extends LegacySourceOptions {
  /** @fastify/session's `cookieName` option. Default `'sessionId'`. */
  readonly cookieName?: string
  /** @fastify/session's `cookiePrefix` option (e.g. `'s:'`). Default none. */
  readonly cookiePrefix?: string
  /** @fastify/session's `algorithm` option (the HMAC of the cookie signature). Default `'sha256'`. */
  readonly algorithm?: string
}

const OPTION_NAMES = [
  'client',
  'prefix',
  'cookieName',
  'cookiePrefix',
  'algorithm',
  'secret',
  'userId',
  'timeoutMs',
]

/**
 * Sessions that @fastify/session stored, for `createSessionkit({ migrateFrom })`. A request that carries a
 * `sessionId` cookie signed with `secret` (as @fastify/cookie's signer does; any secret of a list) and no
 * sessionkit cookie gets the legacy session's data (minus its `cookie` field) as a new sessionkit session, signed
 * in as `userId(data)`; the legacy key is deleted in the same atomic step that reads it.
 *
 * @example
 * ```ts
 * import { createSessionkit, fromFastifySession } from 'sessionkit/migrate'
 *
 * const kit = createSessionkit({
 *   store: new RedisStore({ client }),
 *   migrateFrom: fromFastifySession({
 *     client,
 *     prefix: 'sess:',
 *     cookieName: 'sessionId',
 *     secret: process.env.SESSION_SECRET,
 *     userId: (data) => data.passport,
 *   }),
 * })
 * ```
 * @throws {InvalidOptionsError} naming the first invalid option
 */
export function fromFastifySession(options: FastifySessionSourceOptions): LegacySource {
  const secrets = checkSourceOptions('fromFastifySession', options, OPTION_NAMES)
  const cookieName = checkCookieName(options.cookieName ?? 'sessionId')
  const prefix = options.cookiePrefix ?? ''
  const algorithm = options.algorithm ?? 'sha256'
  if (typeof prefix !== 'string') throw new InvalidOptionsError('cookiePrefix must be a string')
  if (typeof algorithm !== 'string' || !getHashes().includes(algorithm)) {
    throw new InvalidOptionsError(`algorithm must be a hash Node supports, got ${JSON.stringify(algorithm)}`)
  }
  return new RedisLegacySource(options, cookieName, (value) =>
    value.startsWith(prefix) ? unsignSessionId(value.slice(prefix.length), secrets, algorithm) : undefined,
  )
}
