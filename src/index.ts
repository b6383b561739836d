/**
 * sessionkit: Redis-backed sessions with active-session tracking.
 *
 * @module
 */
export { createSessionkit, Sessionkit } from './core/sessionkit.js'
export { Session } from './core/session.js'
export type { SessionServices } from './core/session.js'
export type { HttpContext } from './core/state.js'
export type { SignInOptions } from './core/lifecycle.js'
export type { ActiveSession, RevokeAllOptions } from './core/active-sessions.js'
export { toActiveSessionJson } from './core/active-session-json.js'
export type { ActiveSessionJson } from './core/active-session-json.js'
export { NamespacedSessionStore } from './core/namespaced-store.js'
export type { NamespaceAccess } from './core/current-context.js'
export { currentSession, withSession, detachedSession } from './core/current.js'
export { DEFAULTS } from './core/options.js'
export type { SessionkitOptions, ResolvedOptions } from './core/options.js'
export type { JsonValue } from './core/json.js'
export type { UserIdInput } from './core/user-id.js'
export type { DeviceInfo, DeviceParser, DeviceCategory } from './core/device.js'
export { createDeviceParser, deviceCategory } from './core/device.js'
export type { SessionCookieOptions, ResolvedCookieOptions } from './core/cookie.js'
export { parseSessionId } from './core/token.js'
export {
  SessionkitError,
  InvalidOptionsError,
  InvalidSessionValueError,
  InvalidSessionKeyError,
  SessionTooLargeError,
  InvalidUserIdError,
  StoreUnavailableError,
  SessionConflictError,
  NoRequestError,
  HeadersSentError,
} from './core/errors.js'
export type { SessionkitErrorCode } from './core/errors.js'
export { MemoryStore } from './stores/memory-store.js'
export type { MemoryStoreOptions } from './stores/memory-store.js'
export { RedisStore } from './stores/redis/redis-store.js'
export type { RedisStoreOptions } from './stores/redis/redis-store.js'
export { NEAR_CACHE_CHANNEL } from './stores/redis/near-cache.js'
export type { NearCacheOptions, NearCacheStats, NearCacheEvent } from './stores/redis/near-cache.js'
export type { RedisClientLike } from './stores/redis/redis-client.js'
export type * from './core/store.js'
export type * from './admin/admin-store.js'
