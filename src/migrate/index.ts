/**
 * `sessionkit/migrate`: switch from express-session + connect-redis or @fastify/session without signing anyone
 * out. Sessions already in Redis are adopted lazily, each at its owner's first request after the switch (see
 * docs/migrating.md).
 *
 * @example
 * ```ts
 * import { RedisStore } from 'sessionkit'
 * import { createSessionkit, fromExpressSession } from 'sessionkit/migrate'
 *
 * const kit = createSessionkit({
 *   store: new RedisStore({ client }),
 *   migrateFrom: fromExpressSession({ client, secret, userId: (data) => data.passport?.user }),
 * })
 * ```
 *
 * @module
 */
export { createSessionkit, Sessionkit } from '../core/sessionkit.js'
export type { SessionkitOptions } from '../core/options.js'
export type { LegacyLookup, LegacySession, LegacySource } from '../core/legacy-source.js'
export { fromExpressSession, type ExpressSessionSourceOptions } from './express-session.js'
export { fromFastifySession, type FastifySessionSourceOptions } from './fastify-session.js'
export type { LegacySessionData, LegacySourceOptions } from './redis-source.js'
export type { RedisClientLike as LegacyRedisClient } from '../stores/redis/redis-client.js'
