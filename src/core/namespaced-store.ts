/**
 * Key-value storage under one name inside a session: the equivalent of GitLab's `NamespacedSessionStore`.
 *
 * - Reading never creates the namespace; writing does.
 * - Without a session (no request, no `withSession`), every operation is a harmless no-op: reads give
 *   `undefined`, writes are dropped, iteration yields nothing.
 * - Each key is stored as its own field, so two concurrent requests writing different keys of one namespace
 *   both survive.
 *
 * @module
 */
import { currentContext, type NamespaceAccess } from './current-context.js'
import type { JsonValue } from './json.js'
import { assertNamespaceName } from './session-key.js'

/**
 * Key-value storage under `name` inside a session, kept apart from its top-level keys (GitLab's
 * `NamespacedSessionStore`). Without a session every operation is a no-op; values are JSON-safe, as with
 * {@link Session.set}.
 *
 * @example
 * ```ts
 * const feature = new NamespacedSessionStore('my_feature') // uses the current session
 * feature.set('step', 2)
 * feature.get('step') // 2
 * feature.toObject()  // { step: 2 }
 * ```
 */
export class NamespacedSessionStore implements Iterable<[string, JsonValue]> {
  /** The namespace. */
  readonly name: string
  readonly #session: NamespaceAccess | undefined

  /**
   * @param name the namespace: 1-64 chars of `[A-Za-z0-9_.-]`
   * @param session the session to use; by default the current one, looked up at each call
   * @throws {InvalidSessionKeyError} `name` is not a valid namespace name
   */
  constructor(name: string, session?: NamespaceAccess) {
    assertNamespaceName(name)
    this.name = name
    this.#session = session
  }

  /** Returns the value of `key` (a fresh copy), or `undefined`; reading never creates the namespace. */
  // T only names the shape the caller stored; nothing checks it at run time.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  get<T extends JsonValue = JsonValue>(key: string): T | undefined {
    return this.#resolve()?.readNamespaced(this.name, key) as T | undefined
  }

  /** Sets `key`; a no-op without a session. Throws like `Session.set` for values that are not JSON-safe. */
  set(key: string, value: JsonValue): this {
    this.#resolve()?.writeNamespaced(this.name, key, value)
    return this
  }

  /** Removes `key`. Returns whether it was present (false without a session). */
  delete(key: string): boolean {
    return this.#resolve()?.removeNamespaced(this.name, key) ?? false
  }

  /** Whether `key` is set. */
  has(key: string): boolean {
    return this.get(key) !== undefined
  }

  /** Removes every key of the namespace (the session's other keys are kept). */
  clear(): void {
    const session = this.#resolve()
    if (!session) return
    for (const key of session.namespacedKeys(this.name)) session.removeNamespaced(this.name, key)
  }

  /** Number of keys in the namespace. */
  get size(): number {
    return [...this.keys()].length
  }

  /** The namespace's keys. */
  *keys(): IterableIterator<string> {
    const session = this.#resolve()
    if (session) yield* session.namespacedKeys(this.name)
  }

  /** The namespace's keys with their values (fresh copies). */
  *entries(): IterableIterator<[string, JsonValue]> {
    for (const key of this.keys()) {
      const value = this.get(key)
      if (value !== undefined) yield [key, value]
    }
  }

  /** Same as {@link NamespacedSessionStore.entries}: `for (const [key, value] of store)`. */
  [Symbol.iterator](): IterableIterator<[string, JsonValue]> {
    return this.entries()
  }

  /** The namespace as a plain (null-prototype) object; `{}` when empty or without a session. */
  toObject(): Record<string, JsonValue> {
    const out = Object.create(null) as Record<string, JsonValue>
    for (const [key, value] of this.entries()) out[key] = value
    return out
  }

  #resolve(): NamespaceAccess | undefined {
    return this.#session ?? currentContext.getStore()
  }
}
