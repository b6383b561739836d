/**
 * The few Redis calls a migration makes, over the client the app gives (node-redis or ioredis, single node,
 * Sentinel or Cluster), through the store's client port.
 *
 * - `take`: one script that returns a legacy session and deletes its key, atomically, so two requests racing on
 *   one legacy cookie cannot both get it. It takes only a JSON object; anything else is left where it is.
 * - `restore`: puts a taken session back (with the TTL it had) when it could not be adopted.
 *
 * @module
 */
import { StoreUnavailableError } from '../core/errors.js'
import { toRedisCommander, type RedisClientLike } from '../stores/redis/redis-client.js'

/** Any client a migration accepts (the store's: node-redis or ioredis, single, Sentinel or Cluster). */
export type LegacyRedisClient = RedisClientLike

/** A taken legacy session: its stored text and the TTL it had. */
export interface TakenValue {
  readonly value: string
  /** Milliseconds it had left; negative when the key had no TTL. */
  readonly pttl: number
}

// KEYS[1]: the legacy session key (a string holding JSON, as connect-redis writes it).
// Returns {value, pttl} and deletes the key when it holds a JSON object; nil when there is no such key; 0 (and
// the key is left alone) when it holds anything else.
const TAKE = `
local value = redis.pcall('GET', KEYS[1])
if not value then return nil end
if type(value) ~= 'string' then return 0 end
if not string.find(value, '^%s*{') then return 0 end
local ok, decoded = pcall(cjson.decode, value)
if not ok or type(decoded) ~= 'table' then return 0 end
local pttl = redis.call('PTTL', KEYS[1])
redis.call('DEL', KEYS[1])
return {value, pttl}
`

/** Legacy stores without a TTL (connect-redis's `disableTTL`) get connect-redis's default one back: a day. */
const RESTORE_TTL_MS = 86_400_000

export class LegacyRedis {
  readonly #send: (key: string, args: string[]) => Promise<unknown>
  readonly #timeoutMs: number

  constructor(client: LegacyRedisClient, timeoutMs: number) {
    const redis = toRedisCommander(client)
    this.#send = (key, args) => redis.send(key, args)
    this.#timeoutMs = timeoutMs
  }

  /** Takes the session stored at `key`: `undefined` when missing, `'unusable'` when not a JSON object. */
  async take(key: string): Promise<TakenValue | 'unusable' | undefined> {
    const reply = await this.#call(key, ['EVAL', TAKE, '1', key], 'take')
    if (reply === null || reply === undefined) return undefined
    if (!Array.isArray(reply) || typeof reply[0] !== 'string') return 'unusable'
    return { value: reply[0], pttl: Number(reply[1]) }
  }

  /** Puts a taken session back unless the key was written again meanwhile. */
  async restore(key: string, taken: TakenValue): Promise<void> {
    const ttl = taken.pttl > 0 ? taken.pttl : RESTORE_TTL_MS
    await this.#call(key, ['SET', key, taken.value, 'PX', String(ttl), 'NX'], 'restore')
  }

  #call(key: string, args: string[], operation: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new StoreUnavailableError(`legacy redis ${operation} did not answer within ${this.#timeoutMs} ms`),
        )
      }, this.#timeoutMs)
      this.#send(key, args).then(
        (reply) => {
          clearTimeout(timer)
          resolve(reply)
        },
        (error: unknown) => {
          clearTimeout(timer)
          const message = error instanceof Error ? error.message : String(error)
          reject(new StoreUnavailableError(`legacy redis ${operation} failed: ${message}`, { cause: error }))
        },
      )
    })
  }
}
