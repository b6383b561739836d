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
} from '../../admin/admin-store.js'
import { InvalidOptionsError } from '../../core/errors.js'
import { rejectUnknownOptions } from '../../core/option-checks.js'
import type {
  CleanupResult,
  CreateResult,
  CreateSpec,
  ListedSession,
  LoadResult,
  RevokeSpec,
  SaveResult,
  SaveTarget,
  SessionDelta,
  SessionStore,
  StoredFields,
  StorePolicy,
  Successor,
} from '../../core/store.js'
import { LISTED_FIELDS } from '../../core/stored-fields.js'
import { parseSessionId, type SessionRef } from '../../core/token.js'
import type { UserRef } from '../../core/user-id.js'
import type { CircuitBreakerOptions } from './circuit-breaker.js'
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
   * Confirm sign-outs, revocations and rotations of signed-in sessions with `WAIT replicas timeoutMs`: such a
   * call resolves only once that many replicas have the change, so a failover to one of them cannot bring the
   * session back; otherwise it fails with StoreUnavailableError. Off by default (needs replicas).
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
 * Stores sessions in Redis.
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
  /** The key layout (prefix and key names). */
  readonly keys: KeyLayout
  /** The client, behind the small port the store uses. */
  readonly redis: RedisCommander
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
    if (this.#nearCache) {
      return this.#nearCache.load(key, ref, policy, ipAddress, (via) => {
        const args = [this.keys.userIndexPrefix(ref.tag), ref.hash, ...limits, ipAddress ?? '']
        return this.#runner.run(scripts.load, [key], args, { read: trackedLoad, via })
      })
    }
    const args = [this.keys.userIndexPrefix(ref.tag), ref.hash, ...limits, ipAddress ?? '']
    return this.#runner.run(scripts.load, [key], args, { read: loadResult })
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
    ]
    for (const [name, value] of spec.fields) args.push(name, value)
    const reply = asArray(await this.#write(scripts.create, keys, args))
    return { now: Number(reply[0]), absoluteExpiresAt: Number(reply[1]), created: Number(reply[3]) === 1 }
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
      { confirm: claimedSignedIn },
    )
    return reply === null || reply === undefined || reply === false ? undefined : pairs(asArray(reply), 0)
  }

  async destroy(ref: SessionRef): Promise<boolean> {
    const reply = await this.#write(
      scripts.destroy,
      [this.keys.session(ref)],
      [this.keys.userIndexPrefix(ref.tag), ref.hash],
      { confirm: isPositive },
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
    const reply = await this.#write(scripts.revoke, [this.keys.userIndex(user)], args, {
      confirm: isPositive,
    })
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

  async inspect(ref: SessionRef): Promise<InspectedSession | undefined> {
    const key = this.keys.session(ref)
    const [type, ttl] = await Promise.all([this.#send(key, ['TYPE', key]), this.#send(key, ['PTTL', key])])
    if (type !== 'hash') return undefined
    const fields = hashPairs(await this.#send(key, ['HGETALL', key]))
    return fields.length === 0 ? undefined : { fields, ttlMs: Number(ttl) }
  }

  async scanSessions(visit: (batch: SessionScanBatch) => void | Promise<void>): Promise<void> {
    await this.#scan(this.keys.sessionPattern, async (keys) => {
      const sessions: ScannedSession[] = []
      const foreign: ForeignKey[] = []
      // A few reads at a time: an admin walk must not crowd out the requests' calls (maxInFlight).
      for (let i = 0; i < keys.length; i += SCAN_READS_AT_ONCE) {
        const batch = await Promise.all(
          keys.slice(i, i + SCAN_READS_AT_ONCE).map((key) => this.#scanned(key)),
        )
        for (const scanned of batch) {
          if ('reason' in scanned) foreign.push(scanned)
          else if (scanned.fields.length > 0) sessions.push(scanned)
        }
      }
      await visit({ sessions, foreign })
    })
  }

  /** One key of a session walk: its listed fields, or why it is not a session (never a failed walk). */
  async #scanned(key: string): Promise<ScannedSession | ForeignKey> {
    const ref = this.keys.parseSessionKey(key)
    if (!ref) return { key, reason: 'not a session key name' }
    try {
      const values = asArray(await this.#send(key, ['HMGET', key, ...LISTED_FIELDS]))
      const fields: [string, string][] = []
      LISTED_FIELDS.forEach((name, i) => {
        const value = values[i]
        if (typeof value === 'string') fields.push([name, value])
      })
      return { ref, fields }
    } catch (error) {
      // A key of another type (WRONGTYPE) must not fail the whole walk: report it and go on.
      return { key, reason: error instanceof Error ? error.message : String(error) }
    }
  }

  async scanUsers(visit: (batch: readonly string[]) => void | Promise<void>): Promise<void> {
    await this.#scan(this.keys.userIndexPattern, async (keys) => {
      const users = keys.map((key) => this.keys.parseUserIndexKey(key)).filter((u) => u !== undefined)
      await visit(users)
    })
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
  if (list[0] === '!') return { status: 'invalid', reason: list[1] === 'too_large' ? 'too_large' : 'corrupt' }
  const fields = String(list[3]).split('\0')
  // A NUL inside a name or value (which sessionkit never writes) shifts every pair after it: fail closed.
  if (fields.length !== Number(list[2])) return { status: 'invalid', reason: 'corrupt' }
  return { status: 'found', fields }
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

/** Whether a claim removed a signed-in session (whose token must stay dead after a failover). */
function claimedSignedIn(reply: unknown): boolean {
  const list = asArray(reply)
  for (let i = 0; i < list.length; i += 2) if (list[i] === '_u') return true
  return false
}

function isPositive(reply: unknown): boolean {
  return Number(reply) > 0
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
