/**
 * Keys an admin walk skipped because they are not what sessionkit writes: counted, and the first ones listed, so
 * that one stray key is visible without ever failing a command or the admin view.
 *
 * @module
 */
import type { ForeignKey } from './admin-store.js'

/** What was skipped, as reported by the CLI (`--json`) and the admin view. */
export interface SkippedKeys {
  /** How many distinct keys were skipped. */
  readonly count: number
  /** The first {@link MAX_LISTED_SKIPPED} of them, with why. */
  readonly keys: readonly ForeignKey[]
}

/** How many skipped keys a report lists (all of them are counted). */
export const MAX_LISTED_SKIPPED = 100

export const NO_SKIPPED_KEYS: SkippedKeys = Object.freeze({ count: 0, keys: Object.freeze([]) })

/** Collects skipped keys, each once (SCAN may return a key twice). */
export class SkippedCollector {
  readonly #seen = new Set<string>()
  readonly #listed: ForeignKey[] = []

  add(foreign: ForeignKey): void {
    if (this.#seen.has(foreign.key)) return
    this.#seen.add(foreign.key)
    if (this.#listed.length < MAX_LISTED_SKIPPED) {
      this.#listed.push({ key: foreign.key, reason: foreign.reason })
    }
  }

  addAll(foreign: Iterable<ForeignKey>): void {
    for (const key of foreign) this.add(key)
  }

  get count(): number {
    return this.#seen.size
  }

  report(): SkippedKeys {
    return { count: this.#seen.size, keys: [...this.#listed] }
  }
}
