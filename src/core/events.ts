/**
 * Lifecycle events: `kit.on('signIn', ...)` and friends, mirrored on `node:diagnostics_channel` channels
 * (`sessionkit:signIn`...) and counted by the optional metrics. Payloads never carry a token: sessions are named by
 * their id (`<tag>.<hash>`), which is safe to log.
 *
 * Nobody listening costs nothing: every emitter asks `Telemetry.wants` first and builds its payload only when a
 * listener, a channel subscriber or a meter is there (see `telemetry.ts`).
 *
 * @module
 */
import type { DeviceInfo } from './device.js'

/** A user signed in (a new session under a new token). */
export interface SignInEvent {
  readonly userId: string
  /** The new session's id. */
  readonly publicId: string
  /** The session it replaced (anonymous or signed in), if there was one. */
  readonly previousId: string | undefined
  readonly ipAddress: string | undefined
  readonly device: DeviceInfo | undefined
  readonly rememberMe: boolean
  /** The admin signing in as the user, for an impersonation. */
  readonly impersonator: string | undefined
  /** Whether the device was known (an IP of another session, or a valid known-device cookie); `undefined` when unknown-sign-in detection is off or for an impersonation. */
  readonly knownDevice: boolean | undefined
  readonly at: Date
}

/** A session signed out (`session.signOut()`). */
export interface SignOutEvent {
  /** `undefined` for an anonymous session. */
  readonly userId: string | undefined
  readonly publicId: string
  readonly at: Date
}

/** A session got a new token (`session.rotate()`, `session.elevate()`): same data, same user, new id. */
export interface RotateEvent {
  readonly userId: string | undefined
  readonly previousId: string
  readonly publicId: string
  readonly at: Date
}

/** Sessions of a user were revoked (from the Active Sessions page, the API, admin code or a job). */
export interface RevokeEvent {
  readonly userId: string
  /** `one` (by id), `others` (all but the caller's and impersonated ones), `all`. */
  readonly scope: 'one' | 'others' | 'all'
  /** The id asked for, with scope `one`. */
  readonly publicId: string | undefined
  /** How many sessions went. */
  readonly count: number
  readonly at: Date
}

/** Sessions of a user were evicted because they had more than `maxSessionsPerUser`. */
export interface EvictEvent {
  readonly userId: string
  readonly count: number
  /** `sign-in` (the cap is enforced at each sign-in) or `cleanup` (`kit.cleanupSessions()`). */
  readonly reason: 'sign-in' | 'cleanup'
  readonly at: Date
}

/** A session's lifetime ran out. */
export interface ExpireEvent {
  readonly publicId: string
  /** The user, when known: a session the store dropped by itself no longer says whose it was. */
  readonly userId: string | undefined
  /**
   * `sessionkit`: a request or a rotation found the session past its absolute deadline; `store`: the store
   * expired it (Redis keyspace notifications, or the memory store's expiry), reported once
   * `kit.watchExpirations()` runs.
   */
  readonly detectedBy: 'sessionkit' | 'store'
  readonly at: Date
}

/** A sign-in from a device the user was not seen on: what `onUnknownSignIn` receives (GitLab's `KnownSignIn`). */
export interface UnknownSignIn {
  readonly userId: string
  readonly device: DeviceInfo | undefined
  readonly ipAddress: string | undefined
  readonly signedInAt: Date
  /** The new session's id (safe to show and log; it can revoke the session, never authenticate it). */
  readonly publicId: string
}

/** A store call failed (Redis down, timed out, refused a command): the caller got a StoreUnavailableError. */
export interface StoreErrorEvent {
  /** The store operation: `load`, `save`, `create`, `claim`, `list`... */
  readonly operation: string
  readonly error: Error
  readonly at: Date
}

/** Every event `kit.on()` offers, with its payload. */
export interface SessionkitEvents {
  signIn: SignInEvent
  signOut: SignOutEvent
  rotate: RotateEvent
  revoke: RevokeEvent
  evict: EvictEvent
  expire: ExpireEvent
  unknownSignIn: UnknownSignIn
  storeError: StoreErrorEvent
}

export type SessionkitEventName = keyof SessionkitEvents

/** A listener: its return value is ignored; a promise it returns is only watched for a rejection (a warning). */
export type SessionkitListener<E extends SessionkitEventName> = (payload: SessionkitEvents[E]) => unknown

export const EVENT_NAMES: readonly SessionkitEventName[] = [
  'signIn',
  'signOut',
  'rotate',
  'revoke',
  'evict',
  'expire',
  'unknownSignIn',
  'storeError',
]

/**
 * The `node:diagnostics_channel` channel of each event: `sessionkit:signIn`, `sessionkit:signOut`... Shared by
 * every Sessionkit in the process (as channels are), with the same payloads as `kit.on()`.
 */
export const CHANNEL_NAMES: { readonly [E in SessionkitEventName]: string } = Object.freeze(
  Object.fromEntries(EVENT_NAMES.map((name) => [name, `sessionkit:${name}`])) as {
    [E in SessionkitEventName]: string
  },
)

export function isEventName(name: unknown): name is SessionkitEventName {
  return typeof name === 'string' && (EVENT_NAMES as readonly string[]).includes(name)
}
