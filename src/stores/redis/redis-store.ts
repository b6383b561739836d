/**
 * The Redis store: every operation is one EVALSHA of a script in `./scripts`, whose keys share one Cluster slot.
 * How calls are run (deadlines, stale-work refusal, load shedding, replica confirmation) is `ScriptRunner`'s.
 *
 * @module
 */
import type {
  AdminStore,
  ForeignKey,
  InspectedSession,
  ScannedSession,
  SessionScanBatch,
  UserScanBatch,
} from '../../admin/admin-store.js'
import { InvalidOptionsError } from '../../core/errors.js'
import { rejectUnknownOptions } from '../../core/option-checks.js'
import type {
  AnonymousCount,
  AnonymousLimit,
  CleanupResult,
  CreateResult,
  CreateSpec,
  ListedSession,
  LoadResult,
  PeekResult,
  RevokeSpec,
  SnapshotEntry,
  SaveResult,
  SaveTarget,
  SessionDelta,
  SessionStore,
  StoredFields,
  StorePolicy,
  Successor,
} from '../../core/store.js'
import { LISTED_FIELDS } from '../../core/stored-fields.js'
import { parseSessionId, refFromParts, type SessionRef } from '../../core/token.js'
import { toUserRef, type UserRef } from '../../core/user-id.js'
import type { CircuitBreakerOptions } from './circuit-breaker.js'
import { watchKeyExpirations } from './expiry-watch.js'
import { KeyLayout } from './keys.js'
import {
  NearCache,
  resolveNearCacheOptions,
  type NearCacheOptions,
  type NearCacheStats,
  type TrackedLoad,
} from './near-cache.js'
import { toRedisCommander, type RedisClientLike, type RedisCommander } from './redis-client.js'
import { ScriptRunner, type ReplicaConfirmation, type RunOptions } from './script-runner.js'
import { scripts, type LuaScript } from './scripts.js'
import { countSessionKeys } from './session-count.js'

/**
 * Options of {@link RedisStore}. Only `client` is required; an unknown option name is refused with the closest
 * valid one.
 */
export interface RedisStoreOptions {
  /** A connected node-redis or ioredis client: single node, Sentinel or Cluster. sessionkit never closes it. */
  readonly client: RedisClientLike
  /** Prefix of every key. Default `sk:`. */
  readonly prefix?: string
  /**
   * Deadline of one store call, in ms (default 1000). A call that takes longer fails with
   * StoreUnavailableError, so a slow or unreachable Redis turns into a fast 503 instead of a hung request; and
   * it never takes effect afterwards (the scripts refuse work that reaches Redis past its deadline).
   */
  readonly timeoutMs?: number
  /** Most calls waiting for Redis at once; more fail at once with StoreUnavailableError. Default 1000. */
  readonly maxInFlight?: number
  /**
   * After `failures` calls in a row got no answer, calls fail at once for `cooldownMs`, then one probe call tries
   * again. Default `{ failures: 5, cooldownMs: 1000 }`; `false` turns it off.
   */
  readonly circuitBreaker?: CircuitBreakerOptions | false
  /**
   * Confirm sign-outs, revocations and the end of the old token at every sign-in and rotation with `WAIT
   * replicas timeoutMs`: such a call resolves only once that many replicas have the change, so a failover to one
   * of them cannot bring the session back; otherwise it fails with StoreUnavailableError. Off by default (needs
   * replicas).
   */
  readonly waitForReplicas?: ReplicaConfirmation
  /**
   * Keep loaded sessions in this process's memory and serve them with no Redis call until their touch is due,
   * kept honest by Redis client tracking (see the README's "Near cache"). Off by default. It opens two
   * connections per Redis node (Cluster: per primary) with the client's `duplicate()`; `close()` ends them.
   *
   * @example
   * ```ts
   * const store = new RedisStore({ client, nearCache: { maxEntries: 100_000 } })
   * process.once('SIGTERM', () => void store.close().then(() => client.quit()))
   * ```
   */
  readonly nearCache?: NearCacheOptions | false
}

const OPTION_NAMES = [
  'client',
  'prefix',
  'timeoutMs',
  'maxInFlight',
  'circuitBreaker',
  'waitForReplicas',
  'nearCache',
]
const SCAN_COUNT = '500'
const SCAN_READS_AT_ONCE = 50

/**
 * Stores sessions in Redis (single node, Sentinel or Cluster) through the app's own node-redis or ioredis client:
 * each request-path operation is one atomic script in one Cluster slot, bounded by `timeoutMs`.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * import { RedisStore } from 'sessionkit'
 *
 * const client = await createClient({ url: process.env.REDIS_URL }).connect()
 * const store = new RedisStore({ client })
 * ```
 */
export class RedisStore implements SessionStore, AdminStore {
  /**
   * The key layout (prefix and key names).
   * @internal
   */
  readonly keys: KeyLayout
  /**
   * The client, behind the small port the store uses.
   * @internal
   */
  readonly redis: RedisCommander
  readonly #client: RedisClientLike
  readonly #runner: ScriptRunner
  readonly #nearCache: NearCache | undefined
  #limitsOf: StorePolicy | undefined
  #limits: readonly [string, string, string, string] = ['', '', '', '']

  /** @throws {InvalidOptionsError} naming the first invalid option */
  constructor(options: RedisStoreOptions) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionsError('RedisStore needs options: { client }')
    }
    rejectUnknownOptions('RedisStore', options, OPTION_NAMES)
    this.redis = toRedisCommander(options.client)
    this.#client = options.client
    this.keys = new KeyLayout(options.prefix)
    const timeoutMs = positiveInteger('timeoutMs', options.timeoutMs ?? 1000)
    this.#runner = new ScriptRunner(this.redis, {
      timeoutMs,
      maxInFlight: positiveInteger('maxInFlight', options.maxInFlight ?? 1000),
      circuitBreaker: checkBreaker(options.circuitBreaker),
      waitForReplicas: checkConfirmation(options.waitForReplicas, timeoutMs),
    })
    const nearCache = resolveNearCacheOptions(options.nearCache)
    this.#nearCache = nearCache && new NearCache(options.client, this.redis, this.keys, nearCache, this)
  }

  load(ref: SessionRef, policy: StorePolicy, ipAddress: string | undefined): Promise<LoadResult> {
    const limits = this.#loadLimits(policy)
    const key = this.keys.session(ref)
    const args = [
      this.keys.userIndexPrefix(ref.tag),
      ref.hash,
      limits[0],
      limits[1],
      limits[2],
      limits[3],
      ipAddress ?? '',
    ]
    const ips = policy.uniqueIpsPerUser
    if (ips) args.push(this.keys.userIpsPrefix(ref.tag), String(ips.max), String(ips.windowMs))
    if (this.#nearCache) {
      return this.#nearCache.load(key, ref, policy, ipAddress, (via) =>
        this.#runner.run(scripts.load, [key], args, { read: trackedLoad, confirm: isMissing, via }),
      )
    }
    return this.#runner.run(scripts.load, [key], args, LOAD)
  }

  /** load.lua's limit arguments, as strings: computed once per policy, since a load runs on every request. */
  #loadLimits(policy: StorePolicy): readonly [string, string, string, string] {
    if (this.#limitsOf !== policy) {
      this.#limitsOf = policy
      this.#limits = [
        String(policy.idleTimeoutMs),
        String(policy.anonymousTimeoutMs),
        String(policy.touchIntervalMs),
        String(policy.maxStoredBytes),
      ]
    }
    return this.#limits
  }

  async create(spec: CreateSpec, policy: StorePolicy): Promise<CreateResult> {
    const { ref, user } = spec
    const keys = [this.keys.session(ref), this.keys.held(ref)]
    if (user) keys.push(this.keys.userIndex(user))
    const ips = spec.limitIps === true && user ? policy.uniqueIpsPerUser : undefined
    if (user && ips) keys.push(this.keys.userIps(user))
    const args = [
      this.keys.sessionPrefix(ref.tag),
      ref.hash,
      String(user ? policy.idleTimeoutMs : policy.anonymousTimeoutMs),
      String(policy.absoluteTimeoutMs),
      String(policy.maxSessionsPerUser),
      optional(spec.createdAt),
      optional(spec.signedInAt),
      optional(spec.absoluteExpiresAt),
      user ? user.encoded : '',
      spec.ipAddress ?? '',
      spec.checkKnownIp === true ? '1' : '',
      ips ? String(ips.max) : '',
      ips ? String(ips.windowMs) : '',
    ]
    for (const [name, value] of spec.fields) args.push(name, value)
    const options = spec.completesRotation === true ? PAST_ADMISSION : undefined
    const reply = asArray(await this.#write(scripts.create, keys, args, options))
    return {
      now: Number(reply[0]),
      absoluteExpiresAt: Number(reply[1]),
      created: Number(reply[3]) === 1,
      evicted: Number(reply[2]),
      knownIp: Number(reply[4]) === 1,
      refused: reply[5] === 'too_many_ips' ? 'too_many_ips' : undefined,
    }
  }

  save(target: SaveTarget, delta: SessionDelta): Promise<SaveResult> {
    const { ref } = target
    const args = [target.owner, target.forwarded ? '1' : '0', String(delta.set.length)]
    for (const [name, value] of delta.set) args.push(name, value)
    for (const name of delta.del) args.push(name)
    const keys = [this.keys.session(ref), this.keys.forwardingNote(ref), this.keys.held(ref)]
    return this.#write(scripts.save, keys, args, { read: saveResult })
  }

  async claim(ref: SessionRef, successor: Successor | undefined): Promise<StoredFields | undefined> {
    const reply = await this.#write(
      scripts.claim,
      [this.keys.session(ref), this.keys.forwardingNote(ref)],
      [this.keys.userIndexPrefix(ref.tag), ref.hash, successor?.ref.id ?? '', successor?.owner ?? ''],
      CONFIRMED,
    )
    return reply === null || reply === undefined || reply === false ? undefined : pairs(asArray(reply), 0)
  }

  async destroy(ref: SessionRef): Promise<boolean> {
    const reply = await this.#write(
      scripts.destroy,
      [this.keys.session(ref)],
      [this.keys.userIndexPrefix(ref.tag), ref.hash],
      CONFIRMED,
    )
    return Number(reply) === 1
  }

  async list(user: UserRef): Promise<readonly ListedSession[]> {
    const reply = asArray(
      await this.#runner.run(
        scripts.list,
        [this.keys.userIndex(user)],
        [this.keys.sessionPrefix(user.tag), user.encoded, ...LISTED_FIELDS],
      ),
    )
    // {hash, expires, one value per listed field ('' when absent), hash, ...}
    const sessions: ListedSession[] = []
    const width = 2 + LISTED_FIELDS.length
    for (let i = 0; i + width <= reply.length; i += width) {
      const hash = String(reply[i])
      const fields: [string, string][] = []
      LISTED_FIELDS.forEach((name, j) => {
        const value = reply[i + 2 + j]
        if (typeof value === 'string' && value !== '') fields.push([name, value])
      })
      const ref = { id: `${user.tag}.${hash}`, tag: user.tag, hash }
      sessions.push({ ref, fields, expiresAt: Number(reply[i + 1]) })
    }
    return sessions
  }

  async revoke(user: UserRef, spec: RevokeSpec): Promise<number> {
    const args =
      spec.kind === 'ids'
        ? [this.keys.sessionPrefix(user.tag), user.encoded, 'ids', '', '0', ...spec.hashes]
        : [
            this.keys.sessionPrefix(user.tag),
            user.encoded,
            'all',
            spec.exceptHash ?? '',
            spec.spareImpersonated ? '1' : '0',
          ]
    const reply = await this.#write(scripts.revoke, [this.keys.userIndex(user)], args, CONFIRMED)
    return Number(reply)
  }

  async cleanup(user: UserRef, policy: StorePolicy, dryRun: boolean): Promise<CleanupResult> {
    const reply = asArray(
      await this.#write(
        scripts.cleanup,
        [this.keys.userIndex(user)],
        [
          this.keys.sessionPrefix(user.tag),
          user.encoded,
          String(policy.maxSessionsPerUser),
          dryRun ? '1' : '0',
        ],
      ),
    )
    return { pruned: Number(reply[0]), evicted: Number(reply[1]) }
  }

  // --- Background reads and per-address limits ------------------------------------------------------------

  async snapshot(user: UserRef): Promise<readonly SnapshotEntry[]> {
    const reply = asArray(
      await this.#runner.run(
        scripts.snapshot,
        [this.keys.userIndex(user)],
        [this.keys.sessionPrefix(user.tag), user.encoded],
      ),
    )
    return reply.map((item) => {
      const [hash, expires, ...fields] = asArray(item).map(String)
      return { ref: refFromParts(user.tag, hash ?? ''), fields, expiresAt: Number(expires) }
    })
  }

  async peek(ref: SessionRef, policy: StorePolicy): Promise<PeekResult> {
    const reply = await this.#runner.run(
      scripts.peek,
      [this.keys.session(ref)],
      [this.keys.userIndexPrefix(ref.tag), ref.hash, String(policy.maxStoredBytes)],
    )
    if (reply === null || reply === undefined || reply === false) return { status: 'missing' }
    const list = asArray(reply).map(String)
    if (list[0] === '!')
      return { status: 'invalid', reason: list[1] === 'too_large' ? 'too_large' : 'corrupt' }
    return { status: 'found', fields: list.slice(2), expiresAt: Number(list[1]) }
  }

  async countAnonymous(ip: string, limit: AnonymousLimit): Promise<AnonymousCount> {
    const reply = asArray(
      await this.#runner.run(
        scripts.anonymous,
        [this.keys.anonymousCount(ip)],
        ['count', String(limit.windowMs), limit.max === undefined ? '' : String(limit.max)],
      ),
    )
    return { allowed: Number(reply[0]) === 1, count: Number(reply[1]) }
  }

  async anonymousCount(ip: string): Promise<number> {
    return Number(await this.#runner.run(scripts.anonymous, [this.keys.anonymousCount(ip)], ['get']))
  }

  async clearAnonymous(ip: string): Promise<void> {
    await this.#runner.run(scripts.anonymous, [this.keys.anonymousCount(ip)], ['clear'])
  }

  /**
   * Reports sessions Redis expires, through keyspace notifications (`notify-keyspace-events` must include `E` and
   * `x`): one subscriber connection per master, duplicated from the client and closed by the returned function.
   */
  watchExpirations(onExpired: (ref: SessionRef) => void): Promise<() => Promise<void>> {
    return watchKeyExpirations(this.#client, this.redis, (key) => {
      const ref = this.keys.parseSessionKey(key)
      if (ref) onExpired(ref)
    })
  }

  /** The number of session keys: counted with SCAN on a small keyspace, estimated by sampling on a large one. */
  countSessions(): Promise<number> {
    return countSessionKeys(this.redis, this.keys, (work, operation) => this.#runner.watch(work, operation))
  }

  async inspect(ref: SessionRef): Promise<InspectedSession | undefined> {
    const key = this.keys.session(ref)
    const [type, ttl] = await Promise.all([this.#send(key, ['TYPE', key]), this.#send(key, ['PTTL', key])])
    if (type === 'none') return undefined
    if (type !== 'hash') {
      return {
        fields: [],
        ttlMs: Number(ttl),
        foreign: { key, reason: `holds a ${String(type)}, not a hash` },
      }
    }
    const fields = hashPairs(await this.#send(key, ['HGETALL', key]))
    return fields.length === 0 ? undefined : { fields, ttlMs: Number(ttl) }
  }

  async scanSessions(visit: (batch: SessionScanBatch) => void | Promise<void>): Promise<void> {
    await this.#scan(this.keys.sessionPattern, async (keys) => {
      const sessions: ScannedSession[] = []
      const foreign: ForeignKey[] = []
      // A few reads at a time: an admin walk must not crowd out the requests' calls (maxInFlight).
      for (const found of await inChunks(keys, (key) => this.#scannedSession(key))) {
        if (found && 'reason' in found) foreign.push(found)
        else if (found) sessions.push(found)
      }
      await visit({ sessions, foreign })
    })
  }

  /** One key of a session walk: its listed fields, a foreign key, or nothing (it expired meanwhile). */
  async #scannedSession(key: string): Promise<ScannedSession | ForeignKey | undefined> {
    const ref = this.keys.parseSessionKey(key)
    if (!ref) return { key, reason: 'not a session key name' }
    // One key of another type must not fail the whole walk (WRONGTYPE): report it and go on.
    let values: unknown[]
    try {
      values = asArray(await this.#send(key, ['HMGET', key, ...LISTED_FIELDS]))
    } catch (error) {
      const type = await this.#send(key, ['TYPE', key]).catch(() => undefined)
      const reason = typeof type === 'string' ? `holds a ${type}, not a hash` : errorMessage(error)
      return { key, reason }
    }
    const fields: [string, string][] = []
    LISTED_FIELDS.forEach((name, i) => {
      const value = values[i]
      if (typeof value === 'string') fields.push([name, value])
    })
    if (fields.length > 0) return { ref, fields }
    // No metadata at all: either the key expired since SCAN saw it, or it is a hash sessionkit did not write.
    const exists = Number(await this.#send(key, ['EXISTS', key]))
    return exists === 1 ? { key, reason: 'a hash without session metadata' } : undefined
  }

  async scanUsers(visit: (batch: UserScanBatch) => void | Promise<void>): Promise<void> {
    await this.#scan(this.keys.userIndexPattern, async (keys) => {
      const users: string[] = []
      const foreign: ForeignKey[] = []
      for (const found of await inChunks(keys, (key) => this.#scannedUser(key))) {
        if (typeof found === 'string') users.push(found)
        else if (found) foreign.push(found)
      }
      await visit({ users, foreign })
    })
  }

  /** One key of an index walk: its user, a foreign key, or nothing (it expired meanwhile). */
  async #scannedUser(key: string): Promise<string | ForeignKey | undefined> {
    const userId = this.keys.parseUserIndexKey(key)
    let user: UserRef | undefined
    try {
      user = userId === undefined ? undefined : toUserRef(userId)
    } catch {
      user = undefined
    }
    if (!user) return { key, reason: 'the user id in the key name does not decode' }
    // An index under another slot (or spelling) than its user's is never read by sessionkit: planted, not ours.
    if (this.keys.userIndex(user) !== key)
      return { key, reason: "not in its user's slot (or not its spelling)" }
    const type = await this.#send(key, ['TYPE', key])
    if (type === 'zset') return user.id
    return type === 'none' ? undefined : { key, reason: `holds a ${String(type)}, not a sorted set` }
  }

  async ping(): Promise<void> {
    await this.#send(undefined, ['PING'])
  }

  /** Walks every master with SCAN (never KEYS), calling `visit` once per non-empty page. */
  async #scan(pattern: string, visit: (keys: string[]) => Promise<void>): Promise<void> {
    for (const node of await this.redis.masters()) {
      let cursor = '0'
      do {
        const reply = asArray(
          await this.#runner.watch(
            node.send(undefined, ['SCAN', cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT]),
            'SCAN',
          ),
        )
        cursor = String(reply[0])
        const keys = asArray(reply[1]).map(String)
        if (keys.length > 0) await visit(keys)
      } while (cursor !== '0')
    }
  }

  #send(routeKey: string | undefined, args: string[]): Promise<unknown> {
    return this.#runner.send(routeKey, args)
  }

  /**
   * Runs a script that may change sessions. Every such script goes through here: with the near cache on, this
   * process drops its entries of the keys the script names when it settles (read-your-writes).
   */
  #write<T = unknown>(
    script: LuaScript,
    keys: readonly string[],
    args: readonly string[],
    options?: RunOptions<T>,
  ): Promise<T> {
    const work = this.#runner.run(script, keys, args, options)
    return this.#nearCache ? this.#nearCache.afterWrite(work, keys) : work
  }

  /** The near cache's figures, or `undefined` when it is off. */
  nearCacheStats(): NearCacheStats | undefined {
    return this.#nearCache?.stats()
  }

  /**
   * Closes what the store opened itself: the near cache's connections (the client passed in is never closed).
   * Loads still work afterwards, through the client, uncached.
   */
  close(): Promise<void> {
    this.#nearCache?.close()
    return Promise.resolve()
  }
}

/** Maps `keys` through `read`, a few at a time (see SCAN_READS_AT_ONCE). */
async function inChunks<T>(keys: readonly string[], read: (key: string) => Promise<T>): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < keys.length; i += SCAN_READS_AT_ONCE) {
    out.push(...(await Promise.all(keys.slice(i, i + SCAN_READS_AT_ONCE).map(read))))
  }
  return out
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionsError(`RedisStore: ${name} must be a positive integer, got ${String(value)}`)
  }
  return value
}

function checkBreaker(value: unknown): CircuitBreakerOptions | false {
  if (value === false) return false
  if (value === undefined) return {}
  if (value === null || typeof value !== 'object') {
    throw new InvalidOptionsError('RedisStore: circuitBreaker must be { failures?, cooldownMs? } or false')
  }
  rejectUnknownOptions('RedisStore circuitBreaker', value, ['failures', 'cooldownMs'])
  const { failures, cooldownMs } = value as CircuitBreakerOptions
  return {
    failures: positiveInteger('circuitBreaker.failures', failures ?? 5),
    cooldownMs: positiveInteger('circuitBreaker.cooldownMs', cooldownMs ?? 1000),
  }
}

function checkConfirmation(value: unknown, timeoutMs: number): ReplicaConfirmation | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object') {
    throw new InvalidOptionsError('RedisStore: waitForReplicas must be { replicas, timeoutMs }')
  }
  rejectUnknownOptions('RedisStore waitForReplicas', value, ['replicas', 'timeoutMs'])
  const { replicas, timeoutMs: waitMs } = value as ReplicaConfirmation
  const confirmation = {
    replicas: positiveInteger('waitForReplicas.replicas', replicas),
    timeoutMs: positiveInteger('waitForReplicas.timeoutMs', waitMs),
  }
  if (confirmation.timeoutMs >= timeoutMs) {
    throw new InvalidOptionsError(
      `RedisStore: waitForReplicas.timeoutMs (${confirmation.timeoutMs}) must be shorter than timeoutMs (${timeoutMs}), which bounds the whole call`,
    )
  }
  return confirmation
}

function optional(value: number | undefined): string {
  return value === undefined ? '' : String(value)
}

/** Reads load.lua's reply: `{now, touched, count, names and values joined by NUL}`. */
function loadResult(reply: unknown): LoadResult {
  if (reply === null || reply === undefined || reply === false) return { status: 'missing' }
  const list = asArray(reply)
  if (list[0] === '!') return unusable(list)
  const fields = String(list[3]).split('\0')
  // A NUL inside a name or value (which sessionkit never writes) shifts every pair after it: fail closed.
  if (fields.length !== Number(list[2])) return { status: 'invalid', reason: 'corrupt' }
  return { status: 'found', fields }
}

const LOAD = Object.freeze({ read: loadResult, confirm: isMissing })
const PAST_ADMISSION = Object.freeze({ admitted: true })

/** load.lua's `{'!', reason, owner?}`. */
function unusable(list: unknown[]): LoadResult {
  const reason = list[1]
  const owner = typeof list[2] === 'string' ? list[2] : ''
  if (reason === 'expired') return { status: 'expired', owner }
  if (reason === 'too_many_ips') return { status: 'refused', reason, owner }
  return { status: 'invalid', reason: reason === 'too_large' ? 'too_large' : 'corrupt' }
}

/** load.lua's reply with its server time and touch flag, for the near cache. */
function trackedLoad(reply: unknown): TrackedLoad {
  const result = loadResult(reply)
  const list = result.status === 'found' ? asArray(reply) : []
  return { result, now: Number(list[0]), touched: Number(list[1]) === 1 }
}

const APPLIED: SaveResult = Object.freeze({ status: 'applied' })
const GONE: SaveResult = Object.freeze({ status: 'gone' })

/** save.lua's reply: 1 applied, 2 held, 0 gone, or `{'moved', '<tag>.<hash>', owner}`. */
function saveResult(reply: unknown): SaveResult {
  if (Array.isArray(reply)) {
    const to = parseSessionId(reply[1])
    if (reply[0] !== 'moved' || !to) throw new Error(`unexpected save reply ${JSON.stringify(reply)}`)
    return { status: 'moved', to, owner: String(reply[2] ?? '') }
  }
  return Number(reply) === 0 ? GONE : APPLIED
}

/**
 * With `waitForReplicas`, every answer of a claim, destroy or revoke is confirmed, "found nothing" too: a token
 * ended must stay dead after a failover (an anonymous one too: "the old token is dead at once" is what a sign-in
 * promises), and "nothing to end" is only true if it comes from a primary its replicas follow. A primary that was
 * just replaced (Sentinel has promoted a replica but not yet demoted it) answers from stale data, and its WAIT
 * fails: the call is a 503, never a sign-out that ended nothing while the session lives on the new primary.
 */
const CONFIRMED = Object.freeze({ confirm: (): boolean => true })

/** A load that found no session is confirmed too (see CONFIRMED): a stale primary's "no session" is not trusted. */
function isMissing(reply: unknown): boolean {
  return reply === null || reply === undefined || reply === false
}

function asArray(reply: unknown): unknown[] {
  return Array.isArray(reply) ? (reply as unknown[]) : []
}

/** HGETALL's reply as pairs: a flat array in RESP2, a map (Map or plain object, by client) in RESP3. */
function hashPairs(reply: unknown): [string, string][] {
  if (Array.isArray(reply)) return pairs(reply as unknown[], 0)
  if (reply instanceof Map)
    return [...(reply as Map<unknown, unknown>)].map(([k, v]) => [String(k), String(v)])
  if (reply !== null && typeof reply === 'object') {
    return Object.entries(reply as Record<string, unknown>).map(([k, v]) => [k, String(v)])
  }
  return []
}

/** Turns `[name, value, name, value...]` (from `start`) into pairs. */
function pairs(list: unknown[], start: number): [string, string][] {
  const out: [string, string][] = []
  for (let i = start; i + 1 < list.length; i += 2) out.push([String(list[i]), String(list[i + 1])])
  return out
}
