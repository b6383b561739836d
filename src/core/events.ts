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
  /** The user who signed in. */
  readonly userId: string
  /** The new session's id. */
  readonly publicId: string
  /** The session it replaced (anonymous or signed in), if there was one. */
  readonly previousId: string | undefined
  /** The client address as the framework resolved it; `undefined` when it had none. */
  readonly ipAddress: string | undefined
  /** Device details parsed from the User-Agent; `undefined` with `deviceParser: false`. */
  readonly device: DeviceInfo | undefined
  /** Whether the user asked to be remembered (a cookie that outlives the browser session). */
  readonly rememberMe: boolean
  /** The admin signing in as the user, for an impersonation. */
  readonly impersonator: string | undefined
  /** Whether the device was known (an IP of another session, or a valid known-device cookie); `undefined` when unknown-sign-in detection is off or for an impersonation. */
  readonly knownDevice: boolean | undefined
  /** When it happened (the store's clock). */
  readonly at: Date
}

/** A session signed out (`session.signOut()`). */
export interface SignOutEvent {
  /** The user who signed out; `undefined` for an anonymous session. */
  readonly userId: string | undefined
  /** The id of the session that ended. */
  readonly publicId: string
  /** When it happened. */
  readonly at: Date
}

/** A session got a new token (`session.rotate()`, `session.elevate()`): same data, same user, new id. */
export interface RotateEvent {
  /** The session's user; `undefined` for an anonymous session. */
  readonly userId: string | undefined
  /** The id before the rotation (its token is dead). */
  readonly previousId: string
  /** The id after it. */
  readonly publicId: string
  /** When it happened (the store's clock). */
  readonly at: Date
}

/** Sessions of a user were revoked (from the Active Sessions page, the API, admin code or a job). */
export interface RevokeEvent {
  /** Whose sessions were revoked. */
  readonly userId: string
  /** `one` (by id), `others` (all but the caller's and impersonated ones), `all`. */
  readonly scope: 'one' | 'others' | 'all'
  /** The id asked for, with scope `one`. */
  readonly publicId: string | undefined
  /** How many sessions went. */
  readonly count: number
  /** When it happened. */
  readonly at: Date
}

/** Sessions of a user were evicted because they had more than `maxSessionsPerUser`. */
export interface EvictEvent {
  /** Whose sessions were evicted. */
  readonly userId: string
  /** How many sessions went (the least recently active ones). */
  readonly count: number
  /** `sign-in` (the cap is enforced at each sign-in) or `cleanup` (`kit.cleanupSessions()`). */
  readonly reason: 'sign-in' | 'cleanup'
  /** When it happened. */
  readonly at: Date
}

/** A session's lifetime ran out. */
export interface ExpireEvent {
  /** The id of the session that expired. */
  readonly publicId: string
  /** The user, when known: a session the store dropped by itself no longer says whose it was. */
  readonly userId: string | undefined
  /**
   * `sessionkit`: a request or a rotation found the session past its absolute deadline; `store`: the store
   * expired it (Redis keyspace notifications, or the memory store's expiry), reported once
   * `kit.watchExpirations()` runs.
   */
  readonly detectedBy: 'sessionkit' | 'store'
  /** When it was detected (not when the deadline passed). */
  readonly at: Date
}

/** A sign-in from a device the user was not seen on: what `onUnknownSignIn` receives (GitLab's `KnownSignIn`). */
export interface UnknownSignIn {
  /** The user who signed in: the one to tell. */
  readonly userId: string
  /** Device details parsed from the User-Agent; `undefined` with `deviceParser: false`. */
  readonly device: DeviceInfo | undefined
  /** The client address as the framework resolved it; `undefined` when it had none. */
  readonly ipAddress: string | undefined
  /** When the sign-in happened (the store's clock). */
  readonly signedInAt: Date
  /** The new session's id (safe to show and log; it can revoke the session, never authenticate it). */
  readonly publicId: string
}

/** A store call failed (Redis down, timed out, refused a command): the caller got a StoreUnavailableError. */
export interface StoreErrorEvent {
  /** The store operation: `load`, `save`, `create`, `claim`, `list`... */
  readonly operation: string
  /** The error the call failed with, as the caller got it (usually a StoreUnavailableError, with the cause). */
  readonly error: Error
  /** When the call failed. */
  readonly at: Date
}

/** Every event `kit.on()` offers, with its payload. */
export interface SessionkitEvents {
  /** A user signed in. */
  signIn: SignInEvent
  /** A session signed out. */
  signOut: SignOutEvent
  /** A session got a new token (`rotate()`, `elevate()`). */
  rotate: RotateEvent
  /** Sessions of a user were revoked. */
  revoke: RevokeEvent
  /** Sessions of a user were evicted over `maxSessionsPerUser`. */
  evict: EvictEvent
  /** A session's lifetime ran out. */
  expire: ExpireEvent
  /** A sign-in came from a device the user was not seen on (needs `knownDeviceCookie`). */
  unknownSignIn: UnknownSignIn
  /** A store call failed. */
  storeError: StoreErrorEvent
}

/** The name of an event: `'signIn'`, `'signOut'`, `'rotate'`, `'revoke'`, `'evict'`, `'expire'`, `'unknownSignIn'`, `'storeError'`. */
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
