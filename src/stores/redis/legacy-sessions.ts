/**
 * The sessions of another library in the same Redis (connect-redis: a JSON string under `<prefix><sid>`), as a
 * lazy migration reads them: take one (read and delete in one step) and, when it cannot be adopted, put it back.
 * The calls run like the store's own (`ScriptRunner`): with a deadline the script checks against the Redis
 * clock, so a take that timed out can never delete a legacy session afterwards.
 *
 * @module
 */
import { toRedisCommander, type RedisClientLike } from './redis-client.js'
import { ScriptRunner } from './script-runner.js'
import { scripts } from './scripts.js'

/** A taken legacy session: its stored text and the TTL it had. */
export interface TakenValue {
  readonly value: string
  /** Milliseconds it had left; negative when the key had no TTL. */
  readonly pttl: number
}

/** Legacy stores without a TTL (connect-redis's `disableTTL`) get connect-redis's default one back: a day. */
const RESTORE_TTL_MS = 86_400_000

export class LegacyRedisSessions {
  readonly #runner: ScriptRunner

  /** @param client the client the legacy store used (never closed here) */
  constructor(client: RedisClientLike, timeoutMs: number) {
    this.#runner = new ScriptRunner(toRedisCommander(client), {
      timeoutMs,
      maxInFlight: 1000,
      circuitBreaker: {},
      waitForReplicas: undefined,
    })
  }

  /** Takes the session stored at `key`: `undefined` when missing, `'unusable'` when not a JSON object. */
  async take(key: string): Promise<TakenValue | 'unusable' | undefined> {
    const reply = await this.#runner.run(scripts.takeLegacy, [key], [])
    if (reply === null || reply === undefined || reply === false) return undefined
    if (!Array.isArray(reply) || typeof reply[0] !== 'string') return 'unusable'
    return { value: reply[0], pttl: Number(reply[1]) }
  }

  /** Puts a taken session back (with the TTL it had) unless the key was written again meanwhile. */
  async restore(key: string, taken: TakenValue): Promise<void> {
    const ttl = taken.pttl > 0 ? taken.pttl : RESTORE_TTL_MS
    await this.#runner.run(scripts.restoreLegacy, [key], [taken.value, String(ttl)])
  }
}
