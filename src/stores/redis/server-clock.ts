/**
 * An estimate of the Redis server's clock, so that every script can be given a deadline in that clock (ARGV[1],
 * see scripts/lib.lua): the latest server time at which the caller is still waiting. A call that reaches Redis
 * later — it sat in a client's offline queue, or behind a paused server — is refused by the script, so a call the
 * application already answered with a 503 never takes effect afterwards.
 *
 * The estimate comes from replies that carry the server time: offset = server time − the midpoint of the local
 * send and receive times, good to half the round trip. The sample with the smallest error wins; an old sample's
 * error grows with its age (clock drift), so fresh samples replace it.
 *
 * @module
 */

/** Assumed worst drift between the two clocks: 100 ppm. */
const DRIFT_PER_MS = 1e-4
/**
 * The share of a call's time that its answer may take to come back. A script that starts later than this share of
 * the deadline is refused, so that an answer is never still on its way when the caller gives up: a call either
 * took effect and was reported done, or was reported failed and never takes effect.
 */
const ANSWER_SHARE = 0.2
/** Slack on top of the estimate's error, for the time the script itself takes to start. */
const SAFETY_MS = 2

const ORIGIN = performance.timeOrigin

/** Wall-clock milliseconds that never jump back (NTP steps move Date.now(), not this). */
export function localNow(): number {
  return ORIGIN + performance.now()
}

export class ServerClock {
  #offset: number | undefined
  #errorMs = 0
  #sampledAt = 0

  /** Whether a sample has been taken: until then, calls cannot carry a deadline. */
  get known(): boolean {
    return this.#offset !== undefined
  }

  /** Records a server time seen in a reply to a call sent at `sentAt` and answered at `receivedAt` (local ms). */
  observe(serverNow: number, sentAt: number, receivedAt: number): void {
    if (!Number.isFinite(serverNow) || receivedAt < sentAt) return
    const error = (receivedAt - sentAt) / 2
    const current = this.#errorMs + (receivedAt - this.#sampledAt) * DRIFT_PER_MS
    if (this.#offset !== undefined && error > current) return
    this.#offset = serverNow - (sentAt + receivedAt) / 2
    this.#errorMs = error
    this.#sampledAt = receivedAt
  }

  /**
   * The server time after which a call sent at `sentAt` (local ms) must not take effect, given that the caller
   * gives up at `sentAt + timeoutMs`: earlier by the time an answer may take back (ANSWER_SHARE) and by the
   * estimate's error, so that it holds whichever way the estimate is off. `''` while the clock is unknown.
   */
  deadline(sentAt: number, timeoutMs: number): string {
    if (this.#offset === undefined) return ''
    const error = this.#errorMs + (sentAt - this.#sampledAt) * DRIFT_PER_MS
    return String(Math.floor(sentAt + this.#offset + timeoutMs * (1 - ANSWER_SHARE) - error - SAFETY_MS))
  }
}
