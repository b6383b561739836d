/**
 * The async context that carries the current session (AsyncLocalStorage). It lives apart from `current.ts` so that
 * `NamespacedSessionStore`, which the session view itself hands out, can read it without importing the view.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { JsonValue } from './json.js'

/** What code below the session view needs from the current session: namespaced access. `Session` provides it. */
export interface NamespaceAccess {
  /** The value of `key` in `namespace` (a fresh copy), or `undefined`. */
  readNamespaced(namespace: string, key: string): JsonValue | undefined
  /** Sets `key` in `namespace`; throws like {@link Session.set} for a bad key, name or value. */
  writeNamespaced(namespace: string, key: string, value: JsonValue): void
  /** Removes `key` from `namespace`. Returns whether it was there. */
  removeNamespaced(namespace: string, key: string): boolean
  /** The keys of `namespace`, in insertion order. */
  namespacedKeys(namespace: string): string[]
}

/** Holds only `Session`s (bound by `runWithSession` and `withSession` in `current.ts`). */
export const currentContext = new AsyncLocalStorage<NamespaceAccess | undefined>()
