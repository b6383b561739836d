/**
 * The store as the lifecycle and the active-sessions service see it: the application's store, with each call
 * timed (the `sessionkit.store.duration` histogram) and each failure reported (`storeError` event, the
 * `sessionkit.store.errors` counter) when a meter or a listener wants them. With neither, a call goes straight
 * to the store: one property check, no clock read, no extra promise.
 *
 * @module
 */
import { performance } from 'node:perf_hooks'
import type {
  AnonymousCount,
  AnonymousLimit,
  CleanupResult,
  CreateResult,
  CreateSpec,
  ListedSession,
  LoadResult,
  PeekResult,
  RevokeSpec,
  SaveResult,
  SaveTarget,
  SessionDelta,
  SessionStore,
  SnapshotEntry,
  StoredFields,
  StorePolicy,
  Successor,
} from './store.js'
import type { Telemetry } from './telemetry.js'
import type { SessionRef } from './token.js'
import type { UserRef } from './user-id.js'

export class ObservedStore implements SessionStore {
  readonly #store: SessionStore
  readonly #telemetry: Telemetry

  constructor(store: SessionStore, telemetry: Telemetry) {
    this.#store = store
    this.#telemetry = telemetry
  }

  load(ref: SessionRef, policy: StorePolicy, ipAddress: string | undefined): Promise<LoadResult> {
    if (!this.#telemetry.observesStore) return this.#store.load(ref, policy, ipAddress)
    return this.#timed('load', performance.now(), this.#store.load(ref, policy, ipAddress))
  }

  create(spec: CreateSpec, policy: StorePolicy): Promise<CreateResult> {
    if (!this.#telemetry.observesStore) return this.#store.create(spec, policy)
    return this.#timed('create', performance.now(), this.#store.create(spec, policy))
  }

  save(target: SaveTarget, delta: SessionDelta): Promise<SaveResult> {
    if (!this.#telemetry.observesStore) return this.#store.save(target, delta)
    return this.#timed('save', performance.now(), this.#store.save(target, delta))
  }

  claim(ref: SessionRef, successor: Successor | undefined): Promise<StoredFields | undefined> {
    if (!this.#telemetry.observesStore) return this.#store.claim(ref, successor)
    return this.#timed('claim', performance.now(), this.#store.claim(ref, successor))
  }

  destroy(ref: SessionRef): Promise<boolean> {
    if (!this.#telemetry.observesStore) return this.#store.destroy(ref)
    return this.#timed('destroy', performance.now(), this.#store.destroy(ref))
  }

  list(user: UserRef, policy: StorePolicy): Promise<readonly ListedSession[]> {
    if (!this.#telemetry.observesStore) return this.#store.list(user, policy)
    return this.#timed('list', performance.now(), this.#store.list(user, policy))
  }

  revoke(user: UserRef, spec: RevokeSpec): Promise<number> {
    if (!this.#telemetry.observesStore) return this.#store.revoke(user, spec)
    return this.#timed('revoke', performance.now(), this.#store.revoke(user, spec))
  }

  cleanup(user: UserRef, policy: StorePolicy, dryRun: boolean): Promise<CleanupResult> {
    if (!this.#telemetry.observesStore) return this.#store.cleanup(user, policy, dryRun)
    return this.#timed('cleanup', performance.now(), this.#store.cleanup(user, policy, dryRun))
  }

  snapshot(user: UserRef, policy: StorePolicy): Promise<readonly SnapshotEntry[]> {
    if (!this.#telemetry.observesStore) return this.#store.snapshot(user, policy)
    return this.#timed('snapshot', performance.now(), this.#store.snapshot(user, policy))
  }

  peek(ref: SessionRef, policy: StorePolicy): Promise<PeekResult> {
    if (!this.#telemetry.observesStore) return this.#store.peek(ref, policy)
    return this.#timed('peek', performance.now(), this.#store.peek(ref, policy))
  }

  countAnonymous(ip: string, limit: AnonymousLimit): Promise<AnonymousCount> {
    if (!this.#telemetry.observesStore) return this.#store.countAnonymous(ip, limit)
    return this.#timed('countAnonymous', performance.now(), this.#store.countAnonymous(ip, limit))
  }

  anonymousCount(ip: string): Promise<number> {
    if (!this.#telemetry.observesStore) return this.#store.anonymousCount(ip)
    return this.#timed('anonymousCount', performance.now(), this.#store.anonymousCount(ip))
  }

  clearAnonymous(ip: string): Promise<void> {
    if (!this.#telemetry.observesStore) return this.#store.clearAnonymous(ip)
    return this.#timed('clearAnonymous', performance.now(), this.#store.clearAnonymous(ip))
  }

  #timed<T>(operation: string, start: number, call: Promise<T>): Promise<T> {
    return call.then(
      (value) => {
        this.#telemetry.metrics?.storeCall(operation, performance.now() - start, true)
        return value
      },
      (error: unknown) => {
        this.#telemetry.metrics?.storeCall(operation, performance.now() - start, false)
        const failure = error instanceof Error ? error : new Error(String(error))
        if (this.#telemetry.wants('storeError')) {
          this.#telemetry.emit('storeError', { operation, error: failure, at: new Date() })
        }
        throw failure
      },
    )
  }
}
