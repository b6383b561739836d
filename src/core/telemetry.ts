/**
 * The events, `node:diagnostics_channel` channels and metrics of one Sessionkit, behind one object the lifecycle,
 * the active-sessions service and the store wrapper emit through.
 *
 * @module
 */
import { channel, type Channel } from 'node:diagnostics_channel'
import {
  CHANNEL_NAMES,
  EVENT_NAMES,
  type SessionkitEventName,
  type SessionkitEvents,
  type SessionkitListener,
} from './events.js'
import { Metrics, type MeterLike } from './metrics.js'

const CHANNELS = Object.fromEntries(EVENT_NAMES.map((name) => [name, channel(CHANNEL_NAMES[name])])) as {
  readonly [E in SessionkitEventName]: Channel
}

type Listeners = { [E in SessionkitEventName]: SessionkitListener<E>[] }

/** The events, channels and metrics of one Sessionkit. */
export class Telemetry {
  readonly #listeners: Listeners = {
    signIn: [],
    signOut: [],
    rotate: [],
    revoke: [],
    evict: [],
    expire: [],
    unknownSignIn: [],
    storeError: [],
  }
  /** The metrics, when a meter was given. */
  readonly metrics: Metrics | undefined

  constructor(meter: MeterLike | undefined) {
    this.metrics = meter ? new Metrics(meter) : undefined
  }

  /** Whether anything would see `event`: a listener, a channel subscriber or the metrics. Check it first. */
  wants(event: SessionkitEventName): boolean {
    return this.#listeners[event].length > 0 || CHANNELS[event].hasSubscribers || this.metrics !== undefined
  }

  /** Whether store calls are to be timed and their failures reported. */
  get observesStore(): boolean {
    return (
      this.metrics !== undefined ||
      this.#listeners.storeError.length > 0 ||
      CHANNELS.storeError.hasSubscribers
    )
  }

  on<E extends SessionkitEventName>(event: E, listener: SessionkitListener<E>): void {
    this.#listeners[event].push(listener)
  }

  off<E extends SessionkitEventName>(event: E, listener: SessionkitListener<E>): void {
    const list = this.#listeners[event]
    const at = list.indexOf(listener)
    if (at >= 0) list.splice(at, 1)
  }

  /**
   * Hands `payload` to the listeners (in order), the channel and the metrics. A listener that throws (or
   * rejects) is reported as a process warning: it never fails the operation that emitted the event.
   */
  emit<E extends SessionkitEventName>(event: E, payload: SessionkitEvents[E]): void {
    this.metrics?.count(event, payload)
    for (const listener of [...this.#listeners[event]]) {
      try {
        const result = listener(payload)
        if (result instanceof Promise) result.catch((error: unknown) => warnListener(event, error))
      } catch (error) {
        warnListener(event, error)
      }
    }
    const published = CHANNELS[event]
    if (published.hasSubscribers) published.publish(payload)
  }
}

function warnListener(event: string, error: unknown): void {
  const message = error instanceof Error ? error.message : String(error)
  process.emitWarning(`a sessionkit '${event}' listener failed: ${message}`, {
    code: 'SESSIONKIT_LISTENER_ERROR',
  })
}
