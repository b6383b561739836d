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
      const entry: Pending = { expiresAt: performance.now() + this.timeoutMs, operation, reject }
      this.#pending.add(entry)
      this.#timer ??= setInterval(() => {
        this.#sweep()
      }, this.#periodMs).unref()
      work.then(
        (value) => {
          if (this.#pending.delete(entry)) resolve(value)
        },
        (error: unknown) => {
          if (this.#pending.delete(entry)) reject(storeError(operation, error))
        },
      )
    })
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

function storeError(operation: string, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new StoreUnavailableError(`redis ${operation} failed: ${message}`, { cause: error })
}
