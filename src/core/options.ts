/**
 * Options of `createSessionkit`, validated once at construction and frozen: a misconfigured session layer fails
 * at boot with a message naming the option, never on the first request.
 *
 * @module
 */
import {
  resolveCookieOptions,
  type ResolvedCookieOptions,
  type SessionCookieOptions,
} from '../http/cookie.js'
import type { SessionStore, StorePolicy } from '../stores/store.js'
import { createDeviceParser, DEFAULT_MAX_USER_AGENT_LENGTH, type DeviceParser } from './device.js'
import { InvalidOptionsError } from './errors.js'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/** The documented defaults. */
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
})

/** Room for sessionkit's own metadata on top of `maxSessionBytes` when the store checks a loaded session. */
const METADATA_ALLOWANCE_BYTES = 4096
const MAX_DURATION_MS = 10 * 365 * DAY

export interface SessionkitOptions {
  /** Where sessions live: a `RedisStore` in production, a `MemoryStore` in development and tests. */
  readonly store: SessionStore
  /** Sliding lifetime of a signed-in session, ms. Default 7 days. */
  readonly idleTimeoutMs?: number
  /** Lifetime from sign-in (or creation) that activity never extends, ms. Default 30 days. */
  readonly absoluteTimeoutMs?: number
  /** Sliding lifetime of a session with no signed-in user, ms. Default 2 hours. */
  readonly anonymousTimeoutMs?: number
  /** Least time between two touches (TTL slide + last-seen) of one session, ms. Default 60 s. */
  readonly touchIntervalMs?: number
  /** Cap on a session's application data, bytes. Default 64 KiB. */
  readonly maxSessionBytes?: number
  /** Cap on one user's sessions; the least recently active are evicted at sign-in. Default 100. */
  readonly maxSessionsPerUser?: number
  /** The session cookie. */
  readonly cookie?: SessionCookieOptions
  /** Parses device details at sign-in. Default: node-device-detector; `false` records none. */
  readonly deviceParser?: DeviceParser | false
  /** Characters of the User-Agent given to the default parser. Default 300. */
  readonly maxUserAgentLength?: number
}

export interface ResolvedOptions {
  readonly store: SessionStore
  readonly policy: StorePolicy
  readonly maxSessionBytes: number
  readonly cookie: ResolvedCookieOptions
  readonly deviceParser: DeviceParser | undefined
}

export function resolveOptions(options: SessionkitOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError('createSessionkit needs options: { store }')
  }
  const { store } = options
  if (store === null || typeof store !== 'object' || typeof store.load !== 'function') {
    throw new InvalidOptionsError('options.store must be a session store (RedisStore or MemoryStore)')
  }
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
  if (idleTimeoutMs > absoluteTimeoutMs) {
    throw new InvalidOptionsError(
      `idleTimeoutMs (${idleTimeoutMs}) must not exceed absoluteTimeoutMs (${absoluteTimeoutMs})`,
    )
  }
  if (anonymousTimeoutMs > absoluteTimeoutMs) {
    throw new InvalidOptionsError(
      `anonymousTimeoutMs (${anonymousTimeoutMs}) must not exceed absoluteTimeoutMs (${absoluteTimeoutMs})`,
    )
  }
  if (touchIntervalMs >= Math.min(idleTimeoutMs, anonymousTimeoutMs)) {
    throw new InvalidOptionsError(
      'touchIntervalMs must be shorter than idleTimeoutMs and anonymousTimeoutMs, or sessions would expire untouched',
    )
  }
  const maxSessionBytes = count(
    'maxSessionBytes',
    options.maxSessionBytes,
    DEFAULTS.maxSessionBytes,
    64,
    16 << 20,
  )
  const maxSessionsPerUser = count(
    'maxSessionsPerUser',
    options.maxSessionsPerUser,
    DEFAULTS.maxSessionsPerUser,
    1,
    100_000,
  )
  const maxUserAgentLength = count(
    'maxUserAgentLength',
    options.maxUserAgentLength,
    DEFAULT_MAX_USER_AGENT_LENGTH,
    16,
    4096,
  )
  const parser = options.deviceParser
  if (parser !== undefined && parser !== false && typeof parser !== 'function') {
    throw new InvalidOptionsError('deviceParser must be a function or false')
  }
  return Object.freeze({
    store,
    maxSessionBytes,
    cookie: resolveCookieOptions(options.cookie),
    deviceParser: parser === false ? undefined : (parser ?? createDeviceParser(maxUserAgentLength)),
    policy: Object.freeze({
      idleTimeoutMs,
      absoluteTimeoutMs,
      anonymousTimeoutMs,
      touchIntervalMs,
      maxStoredBytes: maxSessionBytes + METADATA_ALLOWANCE_BYTES,
      maxSessionsPerUser,
    }),
  })
}

function duration(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > MAX_DURATION_MS) {
    throw new InvalidOptionsError(
      `${name} must be a whole number of milliseconds between 1 and ${MAX_DURATION_MS} (10 years), got ${describe(value)}`,
    )
  }
  return value
}

function count(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new InvalidOptionsError(
      `${name} must be an integer between ${min} and ${max}, got ${describe(value)}`,
    )
  }
  return value
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}
