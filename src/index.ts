/**
 * sessionkit: Redis-backed sessions with active-session tracking.
 *
 * @module
 */
export { createSessionkit, Sessionkit } from './core/sessionkit.js'
export { Session } from './core/session.js'
export type { HttpContext } from './core/state.js'
export type { SignInOptions } from './core/lifecycle.js'
export type { ActiveSession, RevokeAllOptions } from './core/active-sessions.js'
export { toActiveSessionJson } from './core/active-session-json.js'
export type { ActiveSessionJson, ShownField } from './core/active-session-json.js'
export { NamespacedSessionStore } from './core/namespaced-store.js'
export type { NamespaceAccess } from './core/current-context.js'
export { currentSession, withSession, detachedSession } from './core/current.js'
export { DEFAULTS } from './core/options.js'
export type { SessionkitOptions, ResolvedOptions } from './core/options.js'
export type { JsonValue } from './core/json.js'
export type { UserIdInput, UserRef } from './core/user-id.js'
export type { DeviceInfo, DeviceParser, DeviceCategory } from './core/device.js'
export { createDeviceParser, deviceCategory } from './core/device.js'
export type { SessionCookieOptions, ResolvedCookieOptions } from './core/cookie.js'
export { parseSessionId } from './core/token.js'
export type { SessionRef } from './core/token.js'
export type { SessionSnapshot } from './core/snapshots.js'
export type { ElevateOptions } from './core/elevation.js'
export { DEFAULT_ELEVATION_MS } from './core/elevation.js'
export type { KnownDeviceCookieOptions } from './core/known-device.js'
export { CHANNEL_NAMES } from './core/events.js'
export type {
  SessionkitEvents,
  SessionkitEventName,
  SessionkitListener,
  SignInEvent,
  SignOutEvent,
  RotateEvent,
  RevokeEvent,
  EvictEvent,
  ExpireEvent,
  UnknownSignIn,
  StoreErrorEvent,
} from './core/events.js'
export type {
  MeterLike,
  CounterLike,
  HistogramLike,
  ObservableGaugeLike,
  ObservableResultLike,
  MetricAttributes,
  InstrumentOptions,
} from './core/metrics.js'
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
  InvalidArgumentError,
  NotSignedInError,
  TooManyAnonymousSessionsError,
  TooManyIpsError,
} from './core/errors.js'
export type { SessionkitErrorCode } from './core/errors.js'
export { MemoryStore } from './stores/memory-store.js'
export type { MemoryStoreOptions } from './stores/memory-store.js'
export { RedisStore } from './stores/redis/redis-store.js'
export type { RedisStoreOptions } from './stores/redis/redis-store.js'
export type {
  RedisClientLike,
  NodeRedisClientLike,
  NodeRedisClusterLike,
  NodeRedisSentinelLike,
  NodeRedisSentinelLeaseLike,
  IoRedisLike,
} from './stores/redis/redis-client.js'
export type { CircuitBreakerOptions } from './stores/redis/circuit-breaker.js'
export type { ReplicaConfirmation } from './stores/redis/script-runner.js'
export { NEAR_CACHE_CHANNEL } from './stores/redis/near-cache.js'
export type { NearCacheOptions, NearCacheStats, NearCacheEvent } from './stores/redis/near-cache.js'
export type { TrackingState } from './stores/redis/tracking.js'
export type * from './core/store.js'
export type * from './admin/admin-store.js'
