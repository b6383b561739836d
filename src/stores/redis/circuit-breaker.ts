/**
 * Sheds load while Redis is down: after `failures` calls in a row failed for lack of an answer (timeouts,
 * connection errors, a server that is loading or read-only), calls fail at once instead of piling up in the
 * client for the length of the outage. After `cooldownMs` one call goes through as a probe; its success closes
 * the circuit, its failure opens it again.
 *
 * @module
 */

/** `RedisStore`'s `circuitBreaker` option: when to stop sending calls to a Redis that does not answer. */
export interface CircuitBreakerOptions {
  /** Consecutive calls without an answer that open the circuit, a positive integer. Default 5. */
  readonly failures?: number
  /** How long the circuit stays open before a probe, ms (a positive integer). Default 1000. */
  readonly cooldownMs?: number
}

export class CircuitBreaker {
  readonly #threshold: number
  readonly #cooldownMs: number
  #failures = 0
  #openUntil = 0
  #probing = false

  constructor(options: CircuitBreakerOptions = {}) {
    this.#threshold = options.failures ?? 5
    this.#cooldownMs = options.cooldownMs ?? 1000
  }

  /**
   * Whether a call may be sent now. While open, only one probe at a time passes, once the cooldown is over.
   * `now` is only read when the circuit is open (this runs on every call).
   */
  allow(now: () => number): boolean {
    if (this.#failures < this.#threshold) return true
    if (this.#probing || now() < this.#openUntil) return false
    this.#probing = true
    return true
  }

  /** Redis answered. */
  succeeded(): void {
    this.#failures = 0
    this.#probing = false
  }

  /** Redis did not answer (in time). */
  failed(now: number): void {
    this.#failures++
    this.#probing = false
    if (this.#failures >= this.#threshold) this.#openUntil = now + this.#cooldownMs
  }
}
