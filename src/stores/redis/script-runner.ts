/**
 * Runs the store's Lua scripts so that a Redis outage stays bounded and a failed call stays failed:
 *
 * - every call has a deadline (`timeoutMs`); past it the application gets StoreUnavailableError (a 503);
 * - the script gets that deadline in the Redis server's clock (ARGV[1]) and refuses to run after it, so a call
 *   that sat in a client queue or behind a paused server never takes effect once the application gave up;
 * - calls are refused at once when the client is not connected, when `maxInFlight` calls are already pending,
 *   or while the circuit breaker is open: memory and the replay after an outage stay bounded;
 * - EVALSHA falls back to EVAL after a restart or failover (NOSCRIPT), but never for a call already timed out;
 * - with `waitForReplicas`, security-relevant writes (sign-out, revocation, the old token's end at a rotation) are
 *   confirmed with WAIT before they count as done.
 *
 * @module
 */
import { StoreUnavailableError } from '../../core/errors.js'
import { CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js'
import { Deadlines, storeError, type PendingCall } from './deadline.js'
import type { RedisCommander } from './redis-client.js'
import type { LuaScript } from './scripts.js'
import { localNow, ServerClock } from './server-clock.js'

/** How many replicas must acknowledge a security-relevant write, and how long to wait for them. */
/**
 * `RedisStore`'s `waitForReplicas` option: how sign-outs, revocations and the end of a rotated token are confirmed
 * (`WAIT replicas timeoutMs`).
 */
export interface ReplicaConfirmation {
  /** Replicas that must acknowledge the write, a positive integer: set it to the number of replicas. */
  readonly replicas: number
  /** How long to wait for them, ms: a positive integer shorter than the store's `timeoutMs`, which bounds the call. */
  readonly timeoutMs: number
}

export interface ScriptRunnerOptions {
  readonly timeoutMs: number
  readonly maxInFlight: number
  readonly circuitBreaker: CircuitBreakerOptions | false
  readonly waitForReplicas: ReplicaConfirmation | undefined
}

/** How one call is run. */
export interface RunOptions<T> {
  /** Turns the reply into the result. */
  readonly read?: (reply: unknown) => T
  /** Whether this reply is a write that WAIT must confirm (when `waitForReplicas` is set). */
  readonly confirm?: (reply: unknown) => boolean
  /**
   * Send it even while calls are being shed (client reconnecting, circuit open, queue full): the second step of
   * an operation whose first step took effect. The deadline still bounds it, and it never runs late.
   */
  readonly admitted?: boolean
  /**
   * Another connection to send the call on (the near cache's tracking link) instead of the user's client. Its
   * connection errors do not count toward the circuit breaker: the near cache retries those on the user's client.
   */
  readonly via?: RedisCommander | undefined
}

/** Error replies that mean "Redis cannot serve right now", as opposed to "Redis refused this command". */
const UNAVAILABLE = /^(STALE|LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|NOREPLICAS) /

export class ScriptRunner {
  readonly #redis: RedisCommander
  readonly #deadlines: Deadlines
  readonly #clock = new ServerClock()
  readonly #breaker: CircuitBreaker | undefined
  readonly #maxInFlight: number
  readonly #confirmation: ReplicaConfirmation | undefined
  #syncing: Promise<void> | undefined

  constructor(redis: RedisCommander, options: ScriptRunnerOptions) {
    this.#redis = redis
    this.#breaker = options.circuitBreaker === false ? undefined : new CircuitBreaker(options.circuitBreaker)
    this.#deadlines = new Deadlines(options.timeoutMs, () => this.#breaker?.failed(localNow()))
    this.#maxInFlight = options.maxInFlight
    this.#confirmation = options.waitForReplicas
  }

  /** The deadline of one call, in ms. */
  get timeoutMs(): number {
    return this.#deadlines.timeoutMs
  }

  /**
   * Runs a script by SHA, falling back to EVAL (which also caches it) after a restart, failover or SCRIPT FLUSH.
   * Written with one promise and plain callbacks, not a chain: a load runs on every request, and each extra
   * promise costs an allocation and, with AsyncLocalStorage on, a hook.
   * long: the callbacks share the call's state; split into methods they would need an object per call.
   */
  run<T = unknown>(
    script: LuaScript,
    keys: readonly string[],
    args: readonly string[],
    options: RunOptions<T> = {},
  ): Promise<T> {
    const refused = options.admitted === true ? undefined : this.#admit()
    if (refused) return Promise.reject(new StoreUnavailableError(`redis ${script.name} refused: ${refused}`))
    return new Promise<T>((resolve, reject) => {
      const call = this.#deadlines.track(script.name, reject)
      const command = ['EVALSHA', script.sha, String(keys.length), ...keys, '', ...args]
      const routeKey = keys[0]
      const redis = options.via ?? this.#redis
      const fail = (error: unknown): void => {
        if (!this.#deadlines.settle(call)) return
        if (isUnavailable(error) && options.via === undefined) this.#breaker?.failed(localNow())
        else this.#breaker?.succeeded()
        reject(storeError(script.name, error))
      }
      const onReply = (reply: unknown): void => {
        if (!this.#deadlines.isPending(call)) return
        if (script.repliesServerTime) this.#observe(reply, call)
        if (this.#confirmation && options.confirm?.(reply) && routeKey !== undefined) {
          this.#deadlines.describe(
            call,
            `${script.name}, answered by the primary, waiting for its replicas (waitForReplicas),`,
          )
          this.#confirm(script.name, routeKey, this.#confirmation).then(() => {
            this.#deliver(call, reply, options.read, resolve, reject, script.name)
          }, fail)
          return
        }
        this.#deliver(call, reply, options.read, resolve, reject, script.name)
      }
      const onError = (error: unknown): void => {
        observeStale(this.#clock, error, call)
        // A timed-out call is not resent: it has been reported as failed.
        if (command[0] !== 'EVALSHA' || !isNoScript(error) || !this.#deadlines.isPending(call)) {
          fail(error)
          return
        }
        command[0] = 'EVAL'
        command[1] = script.source
        this.#send(routeKey, command, redis).then(onReply, onError)
      }
      const deadlineArg = 3 + keys.length
      if (this.#clock.known) {
        command[deadlineArg] = this.#clock.deadline(call.sentAt, this.#deadlines.timeoutMs)
        this.#send(routeKey, command, redis).then(onReply, onError)
        return
      }
      // Until the server's clock is known, a call could not carry a deadline: learn it first (once).
      this.#syncClock().then(() => {
        command[deadlineArg] = this.#clock.deadline(call.sentAt, this.#deadlines.timeoutMs)
        this.#send(routeKey, command, redis).then(onReply, onError)
      }, fail)
    })
  }

  /** Sends a plain command (admin reads) under the same deadline. */
  send(routeKey: string | undefined, args: string[]): Promise<unknown> {
    return this.#deadlines.watch(this.#send(routeKey, args), args[0] ?? '')
  }

  /** Puts any other call (SCAN on one node) under the same deadline. */
  watch<T>(work: Promise<T>, operation: string): Promise<T> {
    return this.#deadlines.watch(work, operation)
  }

  /** Why a call cannot be sent now, or `undefined` when it can. */
  #admit(): string | undefined {
    if (!this.#redis.isReady()) return 'the client is not connected'
    if (this.#deadlines.size >= this.#maxInFlight)
      return `${this.#maxInFlight} calls already waiting (maxInFlight)`
    if (this.#breaker && !this.#breaker.allow(localNow)) return 'Redis failed repeatedly; retrying shortly'
    return undefined
  }

  #deliver<T>(
    call: PendingCall,
    reply: unknown,
    read: ((reply: unknown) => T) | undefined,
    resolve: (value: T) => void,
    reject: (error: unknown) => void,
    operation: string,
  ): void {
    if (!this.#deadlines.settle(call)) return
    this.#breaker?.succeeded()
    try {
      resolve(read ? read(reply) : (reply as T))
    } catch (error) {
      reject(storeError(operation, error))
    }
  }

  /**
   * WAIT on the connection that ran the write; fewer acknowledgements than asked for is a failure. So is a WAIT the
   * node refuses because it has become a replica meanwhile: whether the write reached the new primary (a graceful
   * failover) or died with the old one (a forced one) cannot be told from here, so it is not reported as done.
   */
  async #confirm(operation: string, routeKey: string, confirmation: ReplicaConfirmation): Promise<void> {
    let acknowledged: number
    try {
      acknowledged = await this.#redis.wait(routeKey, confirmation.replicas, confirmation.timeoutMs)
    } catch (error) {
      throw new StoreUnavailableError(
        `redis ${operation}: the primary answered, but WAIT failed (waitForReplicas): ${messageOf(error)}; a failover may undo what it did, so it is not reported as done`,
        { cause: error },
      )
    }
    if (acknowledged < confirmation.replicas) {
      throw new StoreUnavailableError(
        `redis ${operation}: the primary answered, but ${acknowledged} of ${confirmation.replicas} replicas confirmed it within ${confirmation.timeoutMs} ms (waitForReplicas): a failover may undo what it did, so it is not reported as done`,
      )
    }
  }

  #observe(reply: unknown, call: PendingCall): void {
    const now = Array.isArray(reply) ? Number(reply[0]) : NaN
    this.#clock.observe(now, call.sentAt, localNow())
  }

  /** One TIME call, shared by every call waiting for it. */
  #syncClock(): Promise<void> {
    this.#syncing ??= (async () => {
      const sentAt = localNow()
      try {
        const reply = await this.#send(undefined, ['TIME'])
        const [seconds, micros] = Array.isArray(reply) ? reply.map(Number) : []
        this.#clock.observe((seconds ?? NaN) * 1000 + Math.floor((micros ?? 0) / 1000), sentAt, localNow())
      } finally {
        this.#syncing = undefined
      }
    })()
    return this.#syncing
  }

  /** The client's promise; a client that throws instead of rejecting (closed, misused) rejects too. */
  #send(
    routeKey: string | undefined,
    command: readonly string[],
    redis: RedisCommander = this.#redis,
  ): Promise<unknown> {
    try {
      return redis.send(routeKey, command)
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)))
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

function isNoScript(error: unknown): boolean {
  return messageOf(error).startsWith('NOSCRIPT')
}

/** A Redis error reply starts with an upper-case code (`ERR`, `WRONGTYPE`...); a client error does not. */
function isUnavailable(error: unknown): boolean {
  const message = messageOf(error)
  return UNAVAILABLE.test(message) || !/^[A-Z][A-Z_]+ /.test(message)
}

/** A script refused as stale tells the server time: correct the clock with it. */
function observeStale(clock: ServerClock, error: unknown, call: PendingCall): void {
  const match = /^STALE .*server time (\d+)$/.exec(messageOf(error))
  if (match?.[1] !== undefined) clock.observe(Number(match[1]), call.sentAt, localNow())
}
