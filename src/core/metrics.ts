/**
 * Metrics without a dependency: sessionkit records into a {@link MeterLike}, the subset of OpenTelemetry's
 * `Meter` it uses, so `metrics.getMeter('sessionkit')` from `@opentelemetry/api` can be passed as it is (or any
 * object with the same three methods, to bridge to Prometheus, StatsD...).
 *
 * | instrument                   | kind             | unit | attributes                       |
 * | ---------------------------- | ---------------- | ---- | -------------------------------- |
 * | `sessionkit.sign_ins`        | counter          |      | `known_device`, `impersonated`   |
 * | `sessionkit.sign_outs`       | counter          |      |                                  |
 * | `sessionkit.rotations`       | counter          |      |                                  |
 * | `sessionkit.revocations`     | counter          |      | `scope`                          |
 * | `sessionkit.evictions`       | counter          |      | `reason`                         |
 * | `sessionkit.expirations`     | counter          |      | `detected_by`                    |
 * | `sessionkit.unknown_sign_ins`| counter          |      |                                  |
 * | `sessionkit.store.errors`    | counter          |      | `operation`                      |
 * | `sessionkit.store.duration`  | histogram        | ms   | `operation`, `outcome`           |
 * | `sessionkit.sessions.active` | observable gauge |      | (sampled, see `countSessions`)   |
 *
 * @module
 */
import type { SessionkitEventName, SessionkitEvents } from './events.js'

/** Attribute values of a measurement (OpenTelemetry's `Attributes`, narrowed). */
export type MetricAttributes = Readonly<Record<string, string | number | boolean>>

/** What sessionkit passes when it creates an instrument (OpenTelemetry's `MetricOptions`, narrowed). */
export interface InstrumentOptions {
  /** One line on what the instrument measures. */
  readonly description?: string
  /** The unit of its values (`ms` for durations); absent for counts. */
  readonly unit?: string
}

/** A monotonic counter (OpenTelemetry's `Counter`, narrowed). */
export interface CounterLike {
  /** Adds `value` (a positive whole number: events or sessions) to the counter. */
  add(value: number, attributes?: MetricAttributes): void
}

/** A histogram (OpenTelemetry's `Histogram`, narrowed). */
export interface HistogramLike {
  /** Records one measurement, in the instrument's unit. */
  record(value: number, attributes?: MetricAttributes): void
}

/** What a gauge's callback reports through (OpenTelemetry's `ObservableResult`, narrowed). */
export interface ObservableResultLike {
  /** Reports the gauge's current value. */
  observe(value: number, attributes?: MetricAttributes): void
}

/** A gauge read at collection time (OpenTelemetry's `ObservableGauge`, narrowed). */
export interface ObservableGaugeLike {
  /** Registers the callback the meter calls at each collection; it may be async. */
  addCallback(callback: (result: ObservableResultLike) => void | Promise<void>): void
}

/**
 * What sessionkit needs from a meter: OpenTelemetry's `Meter` has these three methods with these shapes.
 *
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api'
 * const kit = createSessionkit({ store, meter: metrics.getMeter('sessionkit') })
 * ```
 */
export interface MeterLike {
  /** Creates a counter; called once per counter, when the Sessionkit is made. */
  createCounter(name: string, options?: InstrumentOptions): CounterLike
  /** Creates a histogram; called once (`sessionkit.store.duration`, in ms), when the Sessionkit is made. */
  createHistogram(name: string, options?: InstrumentOptions): HistogramLike
  /** Creates a gauge; called once (`sessionkit.sessions.active`), when the Sessionkit is made. */
  createObservableGauge(name: string, options?: InstrumentOptions): ObservableGaugeLike
}

type EventCounters = { readonly [E in SessionkitEventName]: CounterLike }

/** The instruments of one Sessionkit. */
export class Metrics {
  readonly #counters: EventCounters
  readonly #storeDuration: HistogramLike
  readonly #meter: MeterLike

  constructor(meter: MeterLike) {
    this.#meter = meter
    const counter = (name: string, description: string): CounterLike =>
      meter.createCounter(`sessionkit.${name}`, { description })
    this.#counters = {
      signIn: counter('sign_ins', 'Sign-ins'),
      signOut: counter('sign_outs', 'Sign-outs'),
      rotate: counter('rotations', 'Token rotations of a session (rotate, elevate)'),
      revoke: counter('revocations', 'Sessions revoked'),
      evict: counter('evictions', 'Sessions evicted beyond maxSessionsPerUser'),
      expire: counter('expirations', 'Sessions whose lifetime ran out'),
      unknownSignIn: counter('unknown_sign_ins', 'Sign-ins from a device the user was not seen on'),
      storeError: counter('store.errors', 'Failed store calls'),
    }
    this.#storeDuration = meter.createHistogram('sessionkit.store.duration', {
      description: 'Duration of store calls (one Redis round trip each)',
      unit: 'ms',
    })
  }

  /** Counts one event. */
  count<E extends SessionkitEventName>(event: E, payload: SessionkitEvents[E]): void {
    const counter = this.#counters[event]
    switch (event) {
      case 'signIn': {
        const p = payload as SessionkitEvents['signIn']
        counter.add(1, {
          known_device: p.knownDevice === undefined ? 'unchecked' : String(p.knownDevice),
          impersonated: p.impersonator !== undefined,
        })
        return
      }
      case 'revoke': {
        const p = payload as SessionkitEvents['revoke']
        counter.add(p.count, { scope: p.scope })
        return
      }
      case 'evict': {
        const p = payload as SessionkitEvents['evict']
        counter.add(p.count, { reason: p.reason })
        return
      }
      case 'expire':
        counter.add(1, { detected_by: (payload as SessionkitEvents['expire']).detectedBy })
        return
      case 'storeError':
        counter.add(1, { operation: (payload as SessionkitEvents['storeError']).operation })
        return
      default:
        counter.add(1)
    }
  }

  /** Records the duration of one store call. */
  storeCall(operation: string, ms: number, ok: boolean): void {
    this.#storeDuration.record(ms, { operation, outcome: ok ? 'ok' : 'error' })
  }

  /** Registers the active-sessions gauge; `sample` is called at each collection (it caches). */
  observeActiveSessions(sample: () => Promise<number | undefined>): void {
    this.#meter
      .createObservableGauge('sessionkit.sessions.active', {
        description: 'Live sessions in the store (exact for small stores, estimated by sampling above)',
      })
      .addCallback(async (result) => {
        const value = await sample()
        if (value !== undefined) result.observe(value)
      })
  }
}
