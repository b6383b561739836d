/**
 * The Redis store: every operation is one EVALSHA of a script in `./scripts`, whose keys share one Cluster slot.
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
import type {
  CleanupResult,
  CreateResult,
  CreateSpec,
  ListedSession,
  LoadResult,
  RevokeSpec,
  SessionDelta,
  SessionStore,
  StoredFields,
  StorePolicy,
} from '../../core/store.js'
import { LISTED_FIELDS } from '../../core/stored-fields.js'
import type { SessionRef } from '../../core/token.js'
import { toUserRef, type UserRef } from '../../core/user-id.js'
import { Deadlines, storeError } from './deadline.js'
import { KeyLayout } from './keys.js'
import { toRedisCommander, type RedisClientLike, type RedisCommander } from './redis-client.js'
import { scripts, type LuaScript } from './scripts.js'

export interface RedisStoreOptions {
  /** A connected node-redis or ioredis client, single node or Cluster. sessionkit never closes it. */
  readonly client: RedisClientLike
  /** Prefix of every key. Default `sk:`. */
  readonly prefix?: string
  /**
   * Deadline of one store call, in ms (default 1000). A call that takes longer fails with
   * StoreUnavailableError, so a slow or unreachable Redis turns into a fast 503 instead of a hung request.
   */
  readonly timeoutMs?: number
}

const SCAN_COUNT = '500'

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
  readonly keys: KeyLayout
  readonly redis: RedisCommander
  readonly #deadlines: Deadlines
  #limitsOf: StorePolicy | undefined
  #limits: readonly [string, string, string, string] = ['', '', '', '']

  constructor(options: RedisStoreOptions) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidOptionsError('RedisStore needs options: { client }')
    }
    this.redis = toRedisCommander(options.client)
    this.keys = new KeyLayout(options.prefix)
    const timeoutMs = options.timeoutMs ?? 1000
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
      throw new InvalidOptionsError(`timeoutMs must be a positive integer, got ${String(timeoutMs)}`)
    }
    this.#deadlines = new Deadlines(timeoutMs)
  }

  load(ref: SessionRef, policy: StorePolicy, ipAddress: string | undefined): Promise<LoadResult> {
    const limits = this.#loadLimits(policy)
    return this.#eval(
      scripts.load,
      [this.keys.session(ref)],
      [
        this.keys.userIndexPrefix(ref.tag),
        ref.hash,
        limits[0],
        limits[1],
        limits[2],
        limits[3],
        ipAddress ?? '',
      ],
      loadResult,
    )
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
    const keys = [this.keys.session(ref)]
    if (user) keys.push(this.keys.userIndex(user))
    const args = [
      this.keys.sessionPrefix(ref.tag),
      ref.hash,
      String(user ? policy.idleTimeoutMs : policy.anonymousTimeoutMs),
      String(policy.absoluteTimeoutMs),
      String(policy.maxSessionsPerUser),
      spec.createdAt === undefined ? '' : String(spec.createdAt),
      spec.signedInAt === undefined ? '' : String(spec.signedInAt),
      spec.absoluteExpiresAt === undefined ? '' : String(spec.absoluteExpiresAt),
      user ? user.encoded : '',
    ]
    for (const [name, value] of spec.fields) args.push(name, value)
    const reply = asArray(await this.#eval(scripts.create, keys, args))
    return { now: Number(reply[0]), absoluteExpiresAt: Number(reply[1]), created: Number(reply[3]) === 1 }
  }

  save(ref: SessionRef, user: UserRef | undefined, delta: SessionDelta): Promise<boolean> {
    const args = [user ? user.encoded : '', String(delta.set.length)]
    for (const [name, value] of delta.set) args.push(name, value)
    args.push(...delta.del)
    return this.#eval(scripts.save, [this.keys.session(ref)], args, applied)
  }

  async claim(ref: SessionRef): Promise<StoredFields | undefined> {
    const reply = await this.#eval(
      scripts.claim,
      [this.keys.session(ref)],
      [this.keys.userIndexPrefix(ref.tag), ref.hash],
    )
    return reply === null || reply === undefined ? undefined : pairs(asArray(reply), 0)
  }

  async destroy(ref: SessionRef): Promise<boolean> {
    const reply = await this.#eval(
      scripts.destroy,
      [this.keys.session(ref)],
      [this.keys.userIndexPrefix(ref.tag), ref.hash],
    )
    return Number(reply) === 1
  }

  async list(user: UserRef): Promise<readonly ListedSession[]> {
    const reply = asArray(
      await this.#eval(
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
      sessions.push({
        ref: { id: `${user.tag}.${hash}`, tag: user.tag, hash },
        fields,
        expiresAt: Number(reply[i + 1]),
      })
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
    return Number(await this.#eval(scripts.revoke, [this.keys.userIndex(user)], args))
  }

  async cleanup(user: UserRef, policy: StorePolicy, dryRun: boolean): Promise<CleanupResult> {
    const reply = asArray(
      await this.#eval(
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
    const [type, ttl] = await this.#call(key, ['TYPE', key], ['PTTL', key])
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
      await Promise.all(
        keys.map(async (key) => {
          const found = await this.#scannedSession(key)
          if (found && 'reason' in found) foreign.push(found)
          else if (found) sessions.push(found)
        }),
      )
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
      await Promise.all(
        keys.map(async (key) => {
          const found = await this.#scannedUser(key)
          if (typeof found === 'string') users.push(found)
          else if (found) foreign.push(found)
        }),
      )
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
    const masters = await this.#deadlines.watch(this.redis.masters(), 'CLUSTER NODES')
    for (const node of masters) {
      let cursor = '0'
      do {
        const reply = asArray(
          await this.#deadlines.watch(
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

  async #call(routeKey: string, ...commands: string[][]): Promise<unknown[]> {
    return Promise.all(commands.map((args) => this.#send(routeKey, args)))
  }

  #send(routeKey: string | undefined, args: string[]): Promise<unknown> {
    return this.#deadlines.watch(this.redis.send(routeKey, args), args[0] ?? '')
  }

  /**
   * EVALSHA, falling back to EVAL (which also caches the script) after a restart, failover or SCRIPT FLUSH.
   * `read` turns the reply into the result. Written with one promise and plain callbacks, not a chain: a load
   * runs on every request, and each extra promise costs an allocation and, with AsyncLocalStorage on, a hook.
   */
  #eval<T = unknown>(
    script: LuaScript,
    keys: string[],
    args: string[],
    read?: (reply: unknown) => T,
  ): Promise<T> {
    const routeKey = keys[0]
    const command = ['EVALSHA', script.sha, String(keys.length), ...keys, ...args]
    return new Promise<T>((resolve, reject) => {
      const call = this.#deadlines.track(script.name, reject)
      const fail = (error: unknown): void => {
        if (this.#deadlines.settle(call)) reject(storeError(script.name, error))
      }
      const onReply = (reply: unknown): void => {
        if (!this.#deadlines.settle(call)) return
        try {
          resolve(read ? read(reply) : (reply as T))
        } catch (error) {
          reject(storeError(script.name, error))
        }
      }
      const onError = (error: unknown): void => {
        if (command[0] !== 'EVALSHA' || !isNoScript(error)) {
          fail(error)
          return
        }
        command[0] = 'EVAL'
        command[1] = script.source
        this.#sendRaw(routeKey, command).then(onReply, onError)
      }
      this.#sendRaw(routeKey, command).then(onReply, onError)
    })
  }

  /** The client's promise; a client that throws instead of rejecting (closed, misused) rejects too. */
  #sendRaw(routeKey: string | undefined, command: string[]): Promise<unknown> {
    try {
      return this.redis.send(routeKey, command)
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
  }
}

function isNoScript(error: unknown): boolean {
  return errorMessage(error).startsWith('NOSCRIPT')
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Reads load.lua's reply: `{now, touched, count, names and values joined by NUL}`. */
function loadResult(reply: unknown): LoadResult {
  if (reply === null || reply === undefined) return { status: 'missing' }
  const list = asArray(reply)
  if (list[0] === '!') return { status: 'invalid', reason: list[1] === 'too_large' ? 'too_large' : 'corrupt' }
  const fields = String(list[3]).split('\0')
  // A NUL inside a name or value (which sessionkit never writes) shifts every pair after it: fail closed.
  if (fields.length !== Number(list[2])) return { status: 'invalid', reason: 'corrupt' }
  return { status: 'found', fields }
}

/** save.lua's reply: 1 when the changes were written. */
function applied(reply: unknown): boolean {
  return Number(reply) === 1
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
