/**
 * A legacy source over a Redis store that keeps each session as a JSON string under `<prefix><sid>` (connect-redis,
 * which both express-session and @fastify/session apps use), with the cookie format as a parameter.
 *
 * @module
 */
import { serialize } from 'cookie'
import { InvalidOptionsError } from '../core/errors.js'
import { parseJsonSafe, type JsonValue } from '../core/json.js'
import type { LegacyLookup, LegacySource } from '../core/legacy-source.js'
import { rejectUnknownOptions } from '../core/option-checks.js'
import { normalizeUserId } from '../core/user-id.js'
import { readLegacyCookie } from './legacy-cookie.js'
import { LegacyRedisSessions, type TakenValue } from '../stores/redis/legacy-sessions.js'
import type { RedisClientLike } from '../stores/redis/redis-client.js'

/** Legacy session data as the `userId` option sees it (the legacy `cookie` field removed). */
export type LegacySessionData = Readonly<Record<string, JsonValue>>

/** Options both sources share. */
export interface LegacySourceOptions {
  /** The client the legacy store used: node-redis or ioredis, single node, Sentinel or Cluster. Never closed here. */
  readonly client: RedisClientLike
  /** The legacy store's key prefix. Default `'sess:'` (connect-redis's). */
  readonly prefix?: string
  /** The secret the legacy cookies were signed with, or the list of secrets of a rotation (any one verifies). */
  readonly secret: string | Buffer | readonly (string | Buffer)[]
  /**
   * Who is signed in, from the legacy data: a user id, or `undefined`/`null` for nobody (passport on
   * express-session: `(data) => data.passport?.user`; @fastify/passport: `(data) => data.passport`). Without it,
   * migrated sessions are anonymous.
   */
  readonly userId?: (data: LegacySessionData) => unknown
  /** Deadline of each legacy Redis call, in ms. Default 1000. */
  readonly timeoutMs?: number
}

/** How a source finds the legacy session id in its cookie value (after URI-decoding). */
export type SessionIdReader = (cookieValue: string) => string | undefined

const NONE: LegacyLookup = Object.freeze({ kind: 'none' })

export class RedisLegacySource implements LegacySource {
  readonly cookieName: string
  readonly #prefix: string
  readonly #redis: LegacyRedisSessions
  readonly #readSid: SessionIdReader
  readonly #userId: ((data: LegacySessionData) => unknown) | undefined
  readonly #clearCookie: string

  constructor(options: LegacySourceOptions, cookieName: string, readSid: SessionIdReader) {
    this.cookieName = cookieName
    this.#prefix = options.prefix ?? 'sess:'
    this.#redis = new LegacyRedisSessions(options.client, options.timeoutMs ?? 1000)
    this.#readSid = readSid
    this.#userId = options.userId
    this.#clearCookie = serialize(cookieName, '', { path: '/', maxAge: 0, expires: new Date(0) })
  }

  async take(cookieHeader: string): Promise<LegacyLookup> {
    const value = readLegacyCookie(cookieHeader, this.cookieName)
    const sid = value === undefined ? undefined : this.#readSid(value)
    if (sid === undefined) return NONE
    const key = this.#prefix + sid
    const taken = await this.#redis.take(key)
    if (taken === undefined || taken === 'unusable') return { kind: 'gone', clearCookie: this.#clearCookie }
    const restore = (): Promise<void> => this.#redis.restore(key, taken)
    const parsed = parseLegacyData(taken)
    if (parsed === undefined) {
      await restore()
      return { kind: 'gone', clearCookie: this.#clearCookie }
    }
    const { data, rememberMe } = parsed
    let userId: string | undefined
    try {
      const raw = this.#userId?.(data)
      userId = raw === undefined || raw === null ? undefined : normalizeUserId(raw)
    } catch (error) {
      await restore().catch(() => undefined)
      throw error
    }
    return { kind: 'found', data, userId, rememberMe, clearCookie: this.#clearCookie, restore }
  }
}

/**
 * The legacy data without its `cookie` field, and whether that cookie was persistent (an expiry still ahead: the
 * app had set `cookie.maxAge`); `undefined` when the text is not a JSON object.
 */
function parseLegacyData(taken: TakenValue): { data: LegacySessionData; rememberMe: boolean } | undefined {
  const parsed = parseJsonSafe(taken.value)
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined
  const data: Record<string, JsonValue> = {}
  for (const [key, value] of Object.entries(parsed)) if (key !== 'cookie') data[key] = value
  const cookie = parsed.cookie
  const expires =
    cookie !== null && typeof cookie === 'object' && !Array.isArray(cookie) ? cookie.expires : undefined
  const rememberMe = typeof expires === 'string' && Date.parse(expires) > Date.now()
  return { data, rememberMe }
}

/** The secrets as a non-empty list. */
export function checkSecrets(
  secret: LegacySourceOptions['secret'] | undefined,
): readonly (string | Buffer)[] {
  const list = Array.isArray(secret) ? (secret as readonly (string | Buffer)[]) : [secret]
  if (
    list.length === 0 ||
    list.some((s) => !(typeof s === 'string' && s.length > 0) && !(Buffer.isBuffer(s) && s.length > 0))
  ) {
    throw new InvalidOptionsError('secret must be the legacy secret (a non-empty string) or a list of them')
  }
  return list as readonly (string | Buffer)[]
}

/** Checks the options every source shares. */
export function checkSourceOptions(
  where: string,
  options: LegacySourceOptions,
  known: readonly string[],
): readonly (string | Buffer)[] {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionsError(`${where} needs options: { client, secret }`)
  }
  rejectUnknownOptions(where, options, known)
  if (options.prefix !== undefined && typeof options.prefix !== 'string') {
    throw new InvalidOptionsError('prefix must be a string')
  }
  if (options.userId !== undefined && typeof options.userId !== 'function') {
    throw new InvalidOptionsError('userId must be a function: (data) => the signed-in user id, or undefined')
  }
  const timeout = options.timeoutMs
  if (timeout !== undefined && (!Number.isSafeInteger(timeout) || timeout <= 0)) {
    throw new InvalidOptionsError(`timeoutMs must be a positive integer, got ${String(timeout)}`)
  }
  return checkSecrets(options.secret)
}

// RFC 6265 cookie-name token characters.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$/

/** The legacy cookie name, checked. */
export function checkCookieName(name: unknown): string {
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) {
    throw new InvalidOptionsError(
      `cookieName must be a cookie name (RFC 6265 token), got ${JSON.stringify(name)}`,
    )
  }
  return name
}
