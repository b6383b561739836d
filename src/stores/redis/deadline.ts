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

/** A call on the clock, as {@link Deadlines.track} returns it. */
export type PendingCall = object

interface Pending {
  readonly expiresAt: number
  readonly operation: string
  readonly reject: (error: StoreUnavailableError) => void
}

export class Deadlines {
  readonly timeoutMs: number
  readonly #pending = new Set<Pending>()
  readonly #periodMs: number
  #timer: NodeJS.Timeout | undefined

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs
    this.#periodMs = Math.min(100, Math.max(5, Math.floor(timeoutMs / 10)))
  }

  /**
   * Resolves like `work`, or rejects with StoreUnavailableError when `work` fails or has not settled by the
   * deadline. A late reply is ignored (the scripts are written so that a late write does no harm).
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
    const entry: Pending = { expiresAt: performance.now() + this.timeoutMs, operation, reject }
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

  #sweep(): void {
    const now = performance.now()
    for (const entry of this.#pending) {
      if (entry.expiresAt <= now) {
        this.#pending.delete(entry)
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
