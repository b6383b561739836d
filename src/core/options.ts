/**
 * Options of `createSessionkit`, validated once at construction and frozen: a misconfigured session layer fails
 * at boot with a message naming the option, never on the first request.
 *
 * @module
 */
import { resolveCookieOptions, type ResolvedCookieOptions, type SessionCookieOptions } from './cookie.js'
import {
  createDeviceParser,
  DEFAULT_MAX_USER_AGENT_LENGTH,
  MAX_DEVICE_FIELD_LENGTH,
  type DeviceParser,
} from './device.js'
import { InvalidOptionsError } from './errors.js'
import type { UnknownSignInDetection } from './guards.js'
import type { LegacySource } from './legacy-source.js'
import type { UnknownSignIn } from './events.js'
import { KnownDeviceCookie, type KnownDeviceCookieOptions } from './known-device.js'
import type { MeterLike } from './metrics.js'
import { describeValue, rejectUnknownOptions } from './option-checks.js'
import type { AnonymousLimit, SessionStore, StorePolicy, UniqueIpsLimit } from './store.js'
import { MAX_ENCODED_USER_ID_LENGTH } from './user-id.js'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** The defaults of {@link SessionkitOptions} (durations in ms, sizes in bytes), frozen. */
export const DEFAULTS = Object.freeze({
  /** A signed-in session expires after a week without activity (GitLab's `session_expire_delay`). */
  idleTimeoutMs: 7 * DAY,
  /** ...and 30 days after sign-in whatever the activity (ASVS 4.0.3 3.3.2, level 1). */
  absoluteTimeoutMs: 30 * DAY,
  /** A session with no user expires after 2 hours without activity (GitLab's unauthenticated expiry). */
  anonymousTimeoutMs: 2 * HOUR,
  /** The TTL slides and last-seen updates at most once a minute per session. */
  touchIntervalMs: MINUTE,
  /** Application data of one session (names + JSON), in bytes. */
  maxSessionBytes: 64 * 1024,
  /** GitLab's ALLOWED_NUMBER_OF_ACTIVE_SESSIONS. */
  maxSessionsPerUser: 100,
  /** Characters of the User-Agent the default device parser reads (and the most it can read). */
  maxUserAgentLength: DEFAULT_MAX_USER_AGENT_LENGTH,
  /** Anonymous sessions are counted per address for a day after the latest (GitLab's `AnonymousSession`). */
  anonymousCountWindowMs: DAY,
})

/**
 * The most sessionkit's own metadata can take in one stored session, on top of `maxSessionBytes`: the user and
 * impersonator ids at their longest encoding, the four device fields at their cap, an IPv6 address, the times
 * and the field names. The store refuses a session above data + metadata, so a session `set()` accepts is never
 * refused at the next load.
 */
export const METADATA_ALLOWANCE_BYTES =
  2 * MAX_ENCODED_USER_ID_LENGTH + 4 * 3 * MAX_DEVICE_FIELD_LENGTH + 16 + 45 + 5 * 15 + 64

const MAX_DURATION_MS = 10 * 365 * DAY

/**
 * Options of {@link createSessionkit}. Only `store` is required; durations are whole milliseconds (1 ms to 10
 * years), and an unknown option name is refused with the closest valid one.
 *
 * @example
 * ```ts
 * const kit = createSessionkit({
 *   store: new RedisStore({ client }),
 *   idleTimeoutMs: 24 * 60 * 60 * 1000, // a day without activity signs out
 *   cookie: { secure: process.env.NODE_ENV === 'production' },
 * })
 * ```
 */
export interface SessionkitOptions {
  /** Where sessions live: a `RedisStore` in production, a `MemoryStore` in development and tests. */
  readonly store: SessionStore
  /** Sliding lifetime of a signed-in session, ms. Default 7 days; at most `absoluteTimeoutMs`. */
  readonly idleTimeoutMs?: number
  /** Lifetime from sign-in (or creation) that activity never extends, ms. Default 30 days. */
  readonly absoluteTimeoutMs?: number
  /** Sliding lifetime of a session with no signed-in user, ms. Default 2 hours; at most `absoluteTimeoutMs`. */
  readonly anonymousTimeoutMs?: number
  /**
   * Least time between two touches (TTL slide + last-seen) of one session, ms. Default 60 s; must be shorter than
   * both sliding lifetimes.
   */
  readonly touchIntervalMs?: number
  /** Cap on a session's application data (key names + JSON), bytes, 64 to 16 MiB. Default 64 KiB. */
  readonly maxSessionBytes?: number
  /** Cap on one user's sessions, 1 to 100 000; the least recently active are evicted at sign-in. Default 100. */
  readonly maxSessionsPerUser?: number
  /** The session cookie. */
  readonly cookie?: SessionCookieOptions
  /** Parses device details at sign-in. Default: node-device-detector; `false` records none. */
  readonly deviceParser?: DeviceParser | false
  /** Characters of the User-Agent given to the default parser, 16 to 300. Default 300. */
  readonly maxUserAgentLength?: number
  /**
   * Adopt the sessions of another session library (lazy migration): `fromExpressSession(...)` or
   * `fromFastifySession(...)` from `sessionkit/migrate`. Default none.
   */
  readonly migrateFrom?: LegacySource
  /**
   * Most anonymous sessions one client address (an IPv6 one by /64) may create within a day of its latest
   * (GitLab's `AnonymousSession` count); beyond it, a new anonymous session is refused with
   * `TooManyAnonymousSessionsError` (a 429). The count is cleared by a sign-in from the address; read it with
   * `kit.anonymousSessionsFrom(ip)`. `Infinity` counts without refusing. Counting costs one store call when an
   * anonymous session is first stored, and one alongside each sign-in, so it is off by default.
   */
  readonly maxAnonymousSessionsPerIp?: number
  /**
   * At most `max` distinct client addresses per user within `windowMs` (GitLab's `UniqueIpsLimiter`): a sign-in
   * or request from one more is refused with `TooManyIpsError` (a 429). Default: no limit.
   */
  readonly uniqueIpsPerUser?: UniqueIpsLimit
  /**
   * Called after a sign-in from a device the user was not seen on (GitLab's `KnownSignIn`): neither one of the
   * IPs of their other sessions nor a valid known-device cookie. Runs inside the request (`currentSession()` is
   * the new session) before `signIn()` resolves; not awaited, and a failure is only a warning. Needs
   * `knownDeviceCookie`.
   */
  readonly onUnknownSignIn?: (signIn: UnknownSignIn) => unknown
  /**
   * The signed known-device cookie set at every sign-in when unknown-sign-in detection is on: `{ secret }` (32+
   * bytes), or `false` to decide by IP alone. Giving it turns detection on (the `unknownSignIn` event) even
   * without `onUnknownSignIn`.
   */
  readonly knownDeviceCookie?: KnownDeviceCookieOptions | false
  /** Where metrics go: OpenTelemetry's `Meter` (`metrics.getMeter('sessionkit')`) or anything shaped like it. */
  readonly meter?: MeterLike
}

/** The options as the session layer uses them: validated, defaults applied, frozen (`kit.options`). */
export interface ResolvedOptions {
  /** The store, as given. */
  readonly store: SessionStore
  /** The lifetimes and limits the store enforces (the options' durations and caps, resolved). */
  readonly policy: StorePolicy
  /** Cap on a session's application data, bytes. */
  readonly maxSessionBytes: number
  /** The session cookie's attributes, its final name included (`__Host-sid` by default). */
  readonly cookie: ResolvedCookieOptions
  /** The device parser; `undefined` with `deviceParser: false`. */
  readonly deviceParser: DeviceParser | undefined
  /** Where legacy sessions are adopted from; `undefined` without `migrateFrom`. */
  readonly migrateFrom: LegacySource | undefined
  /** The per-address count of anonymous sessions and its cap, when counting is on. */
  readonly anonymousLimit: AnonymousLimit | undefined
  /**
   * Unknown-sign-in detection, when on: the known-device cookie (with its secret) and the callback. The lifecycle's
   * business, not the app's.
   * @internal
   */
  readonly unknownSignIn: UnknownSignInDetection | undefined
  /** Where metrics go; `undefined` without `meter`. */
  readonly meter: MeterLike | undefined
}

const OPTION_NAMES: readonly (keyof SessionkitOptions)[] = [
  'store',
  'idleTimeoutMs',
  'absoluteTimeoutMs',
  'anonymousTimeoutMs',
  'touchIntervalMs',
  'maxSessionBytes',
  'maxSessionsPerUser',
  'cookie',
  'deviceParser',
  'maxUserAgentLength',
  'migrateFrom',
  'maxAnonymousSessionsPerIp',
  'uniqueIpsPerUser',
  'onUnknownSignIn',
  'knownDeviceCookie',
  'meter',
]

/** @throws {InvalidOptionsError} naming the first invalid option */
export function resolveOptions(options: SessionkitOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError('createSessionkit needs options: { store }')
  }
  rejectUnknownOptions('createSessionkit', options, OPTION_NAMES)
  const store = checkStore(options.store)
  const maxSessionBytes = count(
    'maxSessionBytes',
    options.maxSessionBytes,
    DEFAULTS.maxSessionBytes,
    64,
    16 << 20,
  )
  const cookie = resolveCookieOptions(options.cookie)
  return Object.freeze({
    store,
    maxSessionBytes,
    cookie,
    deviceParser: resolveDeviceParser(options),
    migrateFrom: checkLegacySource(options.migrateFrom),
    policy: Object.freeze({
      ...resolveLifetimes(options),
      maxStoredBytes: maxSessionBytes + METADATA_ALLOWANCE_BYTES,
      maxSessionsPerUser: count(
        'maxSessionsPerUser',
        options.maxSessionsPerUser,
        DEFAULTS.maxSessionsPerUser,
        1,
        100_000,
      ),
      uniqueIpsPerUser: resolveUniqueIps(options.uniqueIpsPerUser),
    }),
    anonymousLimit: resolveAnonymousLimit(options.maxAnonymousSessionsPerIp),
    unknownSignIn: resolveUnknownSignIn(options, cookie),
    meter: resolveMeter(options.meter),
  })
}

function resolveAnonymousLimit(max: unknown): AnonymousLimit | undefined {
  if (max === undefined) return undefined
  return Object.freeze({
    max: max === Infinity ? undefined : count('maxAnonymousSessionsPerIp', max, 0, 1, 1_000_000_000),
    windowMs: DEFAULTS.anonymousCountWindowMs,
  })
}

function resolveUniqueIps(value: unknown): UniqueIpsLimit | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object') {
    throw new InvalidOptionsError('uniqueIpsPerUser must be { max, windowMs }')
  }
  rejectUnknownOptions('uniqueIpsPerUser', value, ['max', 'windowMs'])
  const { max, windowMs } = value as Partial<UniqueIpsLimit>
  if (max === undefined || windowMs === undefined) {
    throw new InvalidOptionsError('uniqueIpsPerUser needs both max and windowMs')
  }
  return Object.freeze({
    max: count('uniqueIpsPerUser.max', max, 0, 1, 10_000),
    windowMs: duration('uniqueIpsPerUser.windowMs', windowMs, 0),
  })
}

function resolveUnknownSignIn(
  options: SessionkitOptions,
  cookie: ResolvedCookieOptions,
): UnknownSignInDetection | undefined {
  const notify = options.onUnknownSignIn
  const known = options.knownDeviceCookie
  if (notify !== undefined && typeof notify !== 'function') {
    throw new InvalidOptionsError('onUnknownSignIn must be a function')
  }
  if (notify !== undefined && known === undefined) {
    throw new InvalidOptionsError(
      'onUnknownSignIn needs knownDeviceCookie: { secret } (32+ bytes) to recognise devices, or knownDeviceCookie: false to decide by IP alone',
    )
  }
  if (known === undefined) return undefined
  return Object.freeze({
    cookie: known === false ? undefined : new KnownDeviceCookie(known, cookie),
    notify,
  })
}

function resolveMeter(meter: MeterLike | undefined): MeterLike | undefined {
  if (meter === undefined) return undefined
  const candidate = meter as Partial<MeterLike> | null
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.createCounter !== 'function' ||
    typeof candidate.createHistogram !== 'function' ||
    typeof candidate.createObservableGauge !== 'function'
  ) {
    throw new InvalidOptionsError(
      'meter must have createCounter, createHistogram and createObservableGauge (an OpenTelemetry Meter)',
    )
  }
  return meter
}

function checkStore(store: unknown): SessionStore {
  if (store === null || typeof store !== 'object' || typeof (store as SessionStore).load !== 'function') {
    throw new InvalidOptionsError('options.store must be a session store (RedisStore or MemoryStore)')
  }
  return store as SessionStore
}

function checkLegacySource(source: LegacySource | undefined): LegacySource | undefined {
  if (source === undefined) return undefined
  if (
    source === null ||
    typeof source !== 'object' ||
    typeof source.take !== 'function' ||
    typeof source.cookieName !== 'string'
  ) {
    throw new InvalidOptionsError(
      'migrateFrom must be a legacy session source: fromExpressSession(...) or fromFastifySession(...) from sessionkit/migrate',
    )
  }
  return source
}

type Lifetimes = Pick<
  StorePolicy,
  'idleTimeoutMs' | 'absoluteTimeoutMs' | 'anonymousTimeoutMs' | 'touchIntervalMs'
>

function resolveLifetimes(options: SessionkitOptions): Lifetimes {
  const idleTimeoutMs = duration('idleTimeoutMs', options.idleTimeoutMs, DEFAULTS.idleTimeoutMs)
  const absoluteTimeoutMs = duration(
    'absoluteTimeoutMs',
    options.absoluteTimeoutMs,
    DEFAULTS.absoluteTimeoutMs,
  )
  const anonymousTimeoutMs = duration(
    'anonymousTimeoutMs',
    options.anonymousTimeoutMs,
    DEFAULTS.anonymousTimeoutMs,
  )
  const touchIntervalMs = duration('touchIntervalMs', options.touchIntervalMs, DEFAULTS.touchIntervalMs)
  for (const [name, value] of [
    ['idleTimeoutMs', idleTimeoutMs],
    ['anonymousTimeoutMs', anonymousTimeoutMs],
  ] as const) {
    if (value > absoluteTimeoutMs) {
      throw new InvalidOptionsError(
        `${name} (${value}) must not exceed absoluteTimeoutMs (${absoluteTimeoutMs})`,
      )
    }
  }
  if (touchIntervalMs >= Math.min(idleTimeoutMs, anonymousTimeoutMs)) {
    throw new InvalidOptionsError(
      'touchIntervalMs must be shorter than idleTimeoutMs and anonymousTimeoutMs, or sessions would expire untouched',
    )
  }
  return { idleTimeoutMs, absoluteTimeoutMs, anonymousTimeoutMs, touchIntervalMs }
}

function resolveDeviceParser(options: SessionkitOptions): DeviceParser | undefined {
  // Checked even when a custom parser makes it unused: a typo'd limit should not pass silently.
  const maxUserAgentLength = count(
    'maxUserAgentLength',
    options.maxUserAgentLength,
    DEFAULTS.maxUserAgentLength,
    16,
    DEFAULT_MAX_USER_AGENT_LENGTH,
  )
  const parser = options.deviceParser
  if (parser !== undefined && parser !== false && typeof parser !== 'function') {
    throw new InvalidOptionsError('deviceParser must be a function or false')
  }
  return parser === false ? undefined : (parser ?? createDeviceParser(maxUserAgentLength))
}

function duration(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_DURATION_MS) {
    throw new InvalidOptionsError(
      `${name} must be a whole number of milliseconds between 1 and ${MAX_DURATION_MS} (10 years), got ${describeValue(value)}`,
    )
  }
  return value
}

function count(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionsError(
      `${name} must be an integer between ${min} and ${max}, got ${describeValue(value)}`,
    )
  }
  return value
}
