/**
 * Per-call deadlines for store calls, without a timer per call.
 *
 * A `setTimeout` + `Promise.race` per Redis call showed up in the hot path's profile. Instead, pending calls sit
 * in a set that one interval (running only while calls are pending) sweeps; a call is failed at most one sweep
 * period (a tenth of the deadline) after its deadline.
 *
 * @module
 */
import { StoreUnavailableError } from '../../core/errors.js'
import { localNow } from './server-clock.js'

/** A call on the clock, as {@link Deadlines.track} returns it. */
export interface PendingCall {
  /** When the call was sent (local ms, see `localNow`). */
  readonly sentAt: number
}

interface Pending extends PendingCall {
  readonly expiresAt: number
  operation: string
  readonly reject: (error: StoreUnavailableError) => void
}

export class Deadlines {
  readonly timeoutMs: number
  readonly #pending = new Set<Pending>()
  readonly #periodMs: number
  readonly #onTimeout: () => void
  #timer: NodeJS.Timeout | undefined

  /** @param onTimeout called once for every call that times out (the circuit breaker counts them) */
  constructor(timeoutMs: number, onTimeout: () => void = () => undefined) {
    this.timeoutMs = timeoutMs
    this.#periodMs = Math.min(100, Math.max(5, Math.floor(timeoutMs / 10)))
    this.#onTimeout = onTimeout
  }

  /** Calls sent and not settled yet. */
  get size(): number {
    return this.#pending.size
  }

  /**
   * Resolves like `work`, or rejects with StoreUnavailableError when `work` fails or has not settled by the
   * deadline. A late reply is ignored.
   */
  watch<T>(work: Promise<T>, operation: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = this.track(operation, reject)
      work.then(
        (value) => {
          if (this.settle(entry)) resolve(value)
        },
        (error: unknown) => {
          if (this.settle(entry)) reject(storeError(operation, error))
        },
      )
    })
  }

  /** Starts the clock on a call: `reject` gets a StoreUnavailableError if it is not settled in time. */
  track(operation: string, reject: (error: StoreUnavailableError) => void): PendingCall {
    const sentAt = localNow()
    const entry: Pending = { sentAt, expiresAt: sentAt + this.timeoutMs, operation, reject }
    this.#pending.add(entry)
    this.#timer ??= setInterval(() => {
      this.#sweep()
    }, this.#periodMs).unref()
    return entry
  }

  /** Stops the clock on a call. Returns false when it already timed out (its answer must then be ignored). */
  settle(call: PendingCall): boolean {
    return this.#pending.delete(call as Pending)
  }

  /** Names what the call waits for now, for the error its timeout gives. */
  describe(call: PendingCall, operation: string): void {
    ;(call as Pending).operation = operation
  }

  /** Whether the call is still waiting for its answer (not timed out, not settled). */
  isPending(call: PendingCall): boolean {
    return this.#pending.has(call as Pending)
  }

  #sweep(): void {
    const now = localNow()
    for (const entry of this.#pending) {
      if (entry.expiresAt <= now) {
        this.#pending.delete(entry)
        this.#onTimeout()
        entry.reject(
          new StoreUnavailableError(`redis ${entry.operation} did not answer within ${this.timeoutMs} ms`),
        )
      }
    }
    if (this.#pending.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }
}

export function storeError(operation: string, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new StoreUnavailableError(`redis ${operation} failed: ${message}`, { cause: error })
}
