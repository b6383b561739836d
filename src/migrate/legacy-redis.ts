/**
 * The few Redis calls a migration makes, over the client the app gives (node-redis or ioredis, single node or
 * Cluster). The store's client port lives in `stores/`, which this folder may not import; migration needs only
 * "send one command, routed by its key", so that is all this port offers.
 *
 * - `take`: one script that returns a legacy session and deletes its key, atomically, so two requests racing on
 *   one legacy cookie cannot both get it. It takes only a JSON object; anything else is left where it is.
 * - `restore`: puts a taken session back (with the TTL it had) when it could not be adopted.
 *
 * @module
 */
import { InvalidOptionsError, StoreUnavailableError } from '../core/errors.js'

/** The parts of a node-redis client used here. */
export interface NodeRedisLegacyClient {
  sendCommand(args: string[]): Promise<unknown>
}

/** The parts of a node-redis cluster client used here. */
export interface NodeRedisLegacyCluster {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>
  readonly masters: readonly unknown[]
}

/** The parts of an ioredis client (or Cluster) used here. */
export interface IoRedisLegacyClient {
  call(command: string, ...args: string[]): Promise<unknown>
}

/** Any client a migration accepts: the one the legacy store used is the natural choice. */
export type LegacyRedisClient = NodeRedisLegacyClient | NodeRedisLegacyCluster | IoRedisLegacyClient

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
    this.#send = commander(client)
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

function commander(client: LegacyRedisClient): (key: string, args: string[]) => Promise<unknown> {
  if (client === null || typeof client !== 'object') {
    throw new InvalidOptionsError('client must be a node-redis or ioredis client (or cluster)')
  }
  if ('call' in client && typeof client.call === 'function') {
    const io = client
    return (_key, [command = '', ...rest]) => io.call(command, ...rest)
  }
  if ('masters' in client && typeof client.sendCommand === 'function') {
    const cluster = client
    return (key, args) => cluster.sendCommand(key, false, args)
  }
  if ('sendCommand' in client && typeof client.sendCommand === 'function') {
    const single = client as NodeRedisLegacyClient
    return (_key, args) => single.sendCommand(args)
  }
  throw new InvalidOptionsError('client must be a node-redis or ioredis client (or cluster)')
}
