/**
 * An in-process store with the same semantics as the Redis store (the same contract tests run against both). It
 * is the embedded default of the demo and the store of the test kit; it does not share sessions between
 * processes, so production apps use {@link RedisStore}.
 *
 * @module
 */
import type { AdminStore, InspectedSession, SessionScanBatch, UserScanBatch } from '../admin/admin-store.js'
import { InvalidOptionsError } from '../core/errors.js'
import { rejectUnknownOptions } from '../core/option-checks.js'
import {
  FORWARD_WINDOW_MS,
  type AnonymousCount,
  type AnonymousLimit,
  type CleanupResult,
  type CreateResult,
  type CreateSpec,
  type ListedSession,
  type LoadResult,
  type PeekResult,
  type RevokeSpec,
  type SnapshotEntry,
  type UniqueIpsLimit,
  type SaveResult,
  type SaveTarget,
  type SessionDelta,
  type SessionStore,
  type StoredFields,
  type StorePolicy,
  type Successor,
} from '../core/store.js'
import { LISTED_FIELDS, META } from '../core/stored-fields.js'
import { parseSessionId, refFromParts, type SessionRef } from '../core/token.js'
import { decodeStoredUserId, type UserRef } from '../core/user-id.js'

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** The clock, in epoch ms. Tests pass a fake one; default `Date.now`. */
  readonly now?: () => number
  /** How often expired entries are swept from memory, in ms (default 60 000; 0 turns the sweep off). */
  readonly sweepIntervalMs?: number
}

interface StoredSession {
  readonly tag: string
  readonly fields: Map<string, string>
  expiresAt: number
}

/** Where a rotated session's data went (the Redis store's `:r:` key). */
interface ForwardingNote {
  readonly to: string
  readonly owner: string
  readonly expiresAt: number
}

/** A forwarded save held for a session not created yet (the Redis store's `:h:` key); `undefined` = deleted. */
interface HeldDelta {
  readonly fields: Map<string, string | undefined>
  expiresAt: number
}

/** A user's recent addresses (the Redis store's `:i:` sorted set): address → last use. */
interface AddressSet {
  readonly entries: Map<string, number>
  expiresAt: number
}

/** An address's anonymous-session count (the Redis store's `{ip:...}:a` key). */
interface AnonymousCounter {
  count: number
  expiresAt: number
}

interface UserIndex {
  readonly tag: string
  readonly encoded: string
  /** session hash → idle deadline, like the Redis ZSET's scores. */
  readonly entries: Map<string, number>
  expiresAt: number
}

/**
 * Keeps sessions in this process's memory.
 *
 * @example
 * ```ts
 * const kit = createSessionkit({ store: new MemoryStore() })
 * ```
 */
export class MemoryStore implements SessionStore, AdminStore {
  readonly #now: () => number
  readonly #sessions = new Map<string, StoredSession>()
  readonly #indexes = new Map<string, UserIndex>()
  readonly #notes = new Map<string, ForwardingNote>()
  readonly #held = new Map<string, HeldDelta>()
  readonly #addresses = new Map<string, AddressSet>()
  readonly #anonymous = new Map<string, AnonymousCounter>()
  readonly #expiryWatchers = new Set<(ref: SessionRef) => void>()
  readonly #sweeper: NodeJS.Timeout | undefined

  /** @throws {InvalidOptionsError} naming the first invalid option */
  constructor(options: MemoryStoreOptions = {}) {
    rejectUnknownOptions('MemoryStore', options, ['now', 'sweepIntervalMs'])
    this.#now = options.now ?? Date.now
    const interval = options.sweepIntervalMs ?? 60_000
    if (!Number.isSafeInteger(interval) || interval < 0) {
      throw new InvalidOptionsError(`sweepIntervalMs must be a non-negative integer, got ${String(interval)}`)
    }
    if (interval > 0) {
      this.#sweeper = setInterval(() => {
        this.sweep()
      }, interval)
      this.#sweeper.unref()
    }
  }

  /** Drops expired sessions and indexes from memory. */
  sweep(): void {
    const now = this.#now()
    for (const id of this.#sessions.keys()) this.#live(id, now)
    for (const [key, index] of this.#indexes) if (index.expiresAt <= now) this.#indexes.delete(key)
    for (const [key, set] of this.#addresses) if (set.expiresAt <= now) this.#addresses.delete(key)
    for (const [key, counter] of this.#anonymous) if (counter.expiresAt <= now) this.#anonymous.delete(key)
    for (const [id, note] of this.#notes) if (note.expiresAt <= now) this.#notes.delete(id)
    for (const [id, held] of this.#held) if (held.expiresAt <= now) this.#held.delete(id)
  }

  /** Stops the sweep timer. */
  close(): void {
    clearInterval(this.#sweeper)
  }

  load(ref: SessionRef, policy: StorePolicy, ipAddress: string | undefined): Promise<LoadResult> {
    const now = this.#now()
    const checked = this.#readable(ref, policy, now)
    if ('status' in checked) return Promise.resolve(checked)
    const { session, lastSeen, deadline } = checked
    const fields: string[] = []
    for (const [name, value] of session.fields) fields.push(name, value)
    const user = session.fields.get(META.userId)
    if (now >= deadline) {
      this.#delete(ref, session)
      return Promise.resolve({ status: 'expired', owner: user ?? '' })
    }
    // A signed-in session outside its user's index was planted (or lost its index): revoke-all cannot reach it.
    if (user !== undefined && !this.#indexFor(ref.tag, user, now, false)?.entries.has(ref.hash)) {
      return Promise.resolve({ status: 'invalid', reason: 'corrupt' })
    }
    const touching = now - lastSeen >= policy.touchIntervalMs
    const limit = policy.uniqueIpsPerUser
    if (
      limit &&
      user !== undefined &&
      ipAddress !== undefined &&
      ipAddress !== '' &&
      !session.fields.has(META.impersonator) &&
      (touching || ipAddress !== session.fields.get(META.ipAddress)) &&
      !this.#admitAddress(ref.tag, user, ipAddress, limit, now)
    ) {
      return Promise.resolve({ status: 'refused', reason: 'too_many_ips', owner: user })
    }
    if (touching) {
      const idle = user === undefined ? policy.anonymousTimeoutMs : policy.idleTimeoutMs
      const expires = Math.min(now + idle, deadline)
      session.fields.set(META.lastSeenAt, String(now))
      if (ipAddress !== undefined && ipAddress !== '') session.fields.set(META.ipAddress, ipAddress)
      session.expiresAt = expires
      if (user !== undefined) this.#indexFor(ref.tag, user, now, true)?.entries.set(ref.hash, expires)
      if (user !== undefined) this.#extend(ref.tag, user, expires)
    }
    return Promise.resolve({ status: 'found', fields })
  }

  /** What load.lua and peek.lua check before reading: there, not oversize, with its times (else why not). */
  #readable(
    ref: SessionRef,
    policy: StorePolicy,
    now: number,
  ):
    | { session: StoredSession; lastSeen: number; deadline: number }
    | { status: 'missing' }
    | { status: 'invalid'; reason: 'corrupt' | 'too_large' } {
    const session = this.#live(ref.id, now)
    if (!session) return { status: 'missing' }
    let size = 0
    for (const [name, value] of session.fields) size += byteLength(name) + byteLength(value)
    if (size > policy.maxStoredBytes) return { status: 'invalid', reason: 'too_large' }
    const lastSeen = Number(session.fields.get(META.lastSeenAt))
    const deadline = Number(session.fields.get(META.absoluteExpiresAt))
    if (!Number.isFinite(lastSeen) || !Number.isFinite(deadline))
      return { status: 'invalid', reason: 'corrupt' }
    return { session, lastSeen, deadline }
  }

  create(spec: CreateSpec, policy: StorePolicy): Promise<CreateResult> {
    const now = this.#now()
    const { ref, user } = spec
    if (this.#live(ref.id, now)) return Promise.reject(new Error('sessionkit: session id collision'))
    const deadline = spec.absoluteExpiresAt ?? now + policy.absoluteTimeoutMs
    if (deadline <= now) return Promise.resolve({ now, absoluteExpiresAt: deadline, created: false })
    const idle = user ? policy.idleTimeoutMs : policy.anonymousTimeoutMs
    const expires = Math.min(now + idle, deadline)
    const ip = spec.ipAddress ?? ''
    const knownIp =
      user !== undefined && ip !== '' && spec.checkKnownIp === true && this.#knownIp(user, ip, now)
    const limit = spec.limitIps === true ? policy.uniqueIpsPerUser : undefined
    if (user && ip !== '' && limit && !this.#admitAddress(user.tag, user.encoded, ip, limit, now)) {
      return Promise.resolve({
        now,
        absoluteExpiresAt: deadline,
        created: false,
        knownIp,
        refused: 'too_many_ips',
      })
    }
    this.#sessions.set(ref.id, {
      tag: ref.tag,
      fields: this.#newFields(spec, now, deadline),
      expiresAt: expires,
    })
    const evicted = user ? this.#indexNew(user, ref, expires, policy, now) : 0
    return Promise.resolve({ now, absoluteExpiresAt: deadline, created: true, evicted, knownIp })
  }

  /** A new session's fields: the spec's, the times, the owner, and a delta held for it (create.lua's). */
  #newFields(spec: CreateSpec, now: number, deadline: number): Map<string, string> {
    const fields = new Map<string, string>(spec.fields.map(([k, v]) => [k, v]))
    fields.set(META.createdAt, String(spec.createdAt ?? now))
    fields.set(META.lastSeenAt, String(now))
    fields.set(META.absoluteExpiresAt, String(deadline))
    if (spec.user) {
      fields.set(META.userId, spec.user.encoded)
      fields.set(META.signedInAt, String(spec.signedInAt ?? now))
    }
    for (const [name, value] of this.#takeHeld(spec.ref.id, now) ?? []) {
      if (value === undefined) fields.delete(name)
      else fields.set(name, value)
    }
    return fields
  }

  /** Indexes a new signed-in session, enforcing the cap (create.lua's). Returns how many were evicted. */
  #indexNew(user: UserRef, ref: SessionRef, expires: number, policy: StorePolicy, now: number): number {
    const index = this.#indexFor(user.tag, user.encoded, now, true)
    if (!index) return 0
    index.entries.set(ref.hash, expires)
    let evicted = 0
    if (index.entries.size > policy.maxSessionsPerUser) {
      evicted = this.#enforce(index, user.encoded, policy.maxSessionsPerUser, now, ref.hash, false).evicted
    } else {
      for (const [hash, score] of index.entries) if (score <= now) index.entries.delete(hash)
    }
    this.#extend(user.tag, user.encoded, expires)
    return evicted
  }

  save(target: SaveTarget, delta: SessionDelta): Promise<SaveResult> {
    const now = this.#now()
    const { ref } = target
    const session = this.#live(ref.id, now)
    if (session) {
      if ((session.fields.get(META.userId) ?? '') !== target.owner) return Promise.resolve({ status: 'gone' })
      for (const [name, value] of delta.set) session.fields.set(name, value)
      for (const name of delta.del) session.fields.delete(name)
      return Promise.resolve({ status: 'applied' })
    }
    const note = this.#notes.get(ref.id)
    const to = note && note.expiresAt > now ? parseSessionId(note.to) : undefined
    if (note && to) return Promise.resolve({ status: 'moved', to, owner: note.owner })
    if (!target.forwarded) return Promise.resolve({ status: 'gone' })
    // The rotation this save follows has not created its session yet: hold the delta for create().
    const held = this.#takeHeld(ref.id, now) ?? new Map<string, string | undefined>()
    for (const [name, value] of delta.set) held.set(name, value)
    for (const name of delta.del) held.set(name, undefined)
    this.#held.set(ref.id, { fields: held, expiresAt: now + FORWARD_WINDOW_MS })
    return Promise.resolve({ status: 'applied' })
  }

  claim(ref: SessionRef, successor: Successor | undefined): Promise<StoredFields | undefined> {
    const now = this.#now()
    const session = this.#live(ref.id, now)
    if (!session) return Promise.resolve(undefined)
    this.#delete(ref, session)
    const deadline = Number(session.fields.get(META.absoluteExpiresAt))
    if (!(now < deadline)) return Promise.resolve(undefined)
    if (successor) {
      this.#notes.set(ref.id, {
        to: successor.ref.id,
        owner: successor.owner,
        expiresAt: now + FORWARD_WINDOW_MS,
      })
    }
    return Promise.resolve([...session.fields])
  }

  destroy(ref: SessionRef): Promise<boolean> {
    const session = this.#live(ref.id, this.#now())
    if (session) this.#delete(ref, session)
    return Promise.resolve(session !== undefined)
  }

  list(user: UserRef): Promise<readonly ListedSession[]> {
    const now = this.#now()
    const index = this.#indexFor(user.tag, user.encoded, now, false)
    const sessions: ListedSession[] = []
    if (index) {
      for (const [hash, score] of index.entries) {
        const session = score > now ? this.#live(`${user.tag}.${hash}`, now) : undefined
        if (!session || session.fields.get(META.userId) !== user.encoded) {
          index.entries.delete(hash)
          continue
        }
        sessions.push({ ref: refFromParts(user.tag, hash), fields: listedFields(session), expiresAt: score })
      }
      this.#fitIndex(index)
    }
    return Promise.resolve(sessions)
  }

  revoke(user: UserRef, spec: RevokeSpec): Promise<number> {
    const now = this.#now()
    const index = this.#indexFor(user.tag, user.encoded, now, false)
    const hashes = spec.kind === 'ids' ? spec.hashes : [...(index?.entries.keys() ?? [])]
    let revoked = 0
    for (const hash of hashes) {
      if (spec.kind === 'all' && hash === spec.exceptHash) continue
      const ref = refFromParts(user.tag, hash)
      const session = this.#live(ref.id, now)
      if (session?.fields.get(META.userId) === user.encoded) {
        if (spec.kind === 'all' && spec.spareImpersonated && session.fields.has(META.impersonator)) continue
        this.#delete(ref, session)
        revoked++
      } else if (!session) {
        index?.entries.delete(hash)
      }
    }
    if (index) this.#fitIndex(index)
    return Promise.resolve(revoked)
  }

  cleanup(user: UserRef, policy: StorePolicy, dryRun: boolean): Promise<CleanupResult> {
    const now = this.#now()
    const index = this.#indexFor(user.tag, user.encoded, now, false)
    if (!index) return Promise.resolve({ pruned: 0, evicted: 0 })
    return Promise.resolve(this.#enforce(index, user.encoded, policy.maxSessionsPerUser, now, '', dryRun))
  }

  // --- Background reads and per-address limits (mirroring snapshot.lua, peek.lua, anonymous.lua) ----------

  snapshot(user: UserRef): Promise<readonly SnapshotEntry[]> {
    const now = this.#now()
    const index = this.#indexFor(user.tag, user.encoded, now, false)
    const out: SnapshotEntry[] = []
    for (const [hash, score] of index?.entries ?? []) {
      if (score <= now) continue
      const session = this.#live(`${user.tag}.${hash}`, now)
      if (!session || session.fields.get(META.userId) !== user.encoded) continue
      if (!(Number(session.fields.get(META.absoluteExpiresAt)) > now)) continue
      out.push({ ref: refFromParts(user.tag, hash), fields: flatFields(session), expiresAt: score })
    }
    return Promise.resolve(out)
  }

  peek(ref: SessionRef, policy: StorePolicy): Promise<PeekResult> {
    const now = this.#now()
    const checked = this.#readable(ref, policy, now)
    if ('status' in checked) return Promise.resolve(checked)
    const { session, deadline } = checked
    if (now >= deadline) return Promise.resolve({ status: 'missing' })
    const user = session.fields.get(META.userId)
    if (user !== undefined && !this.#indexFor(ref.tag, user, now, false)?.entries.has(ref.hash)) {
      return Promise.resolve({ status: 'invalid', reason: 'corrupt' })
    }
    return Promise.resolve({ status: 'found', fields: flatFields(session), expiresAt: session.expiresAt })
  }

  countAnonymous(ip: string, limit: AnonymousLimit): Promise<AnonymousCount> {
    const now = this.#now()
    const counter = this.#anonymousCounter(ip, now)
    const count = counter?.count ?? 0
    if (limit.max !== undefined && count >= limit.max) return Promise.resolve({ allowed: false, count })
    this.#anonymous.set(ip, { count: count + 1, expiresAt: now + limit.windowMs })
    return Promise.resolve({ allowed: true, count: count + 1 })
  }

  anonymousCount(ip: string): Promise<number> {
    return Promise.resolve(this.#anonymousCounter(ip, this.#now())?.count ?? 0)
  }

  clearAnonymous(ip: string): Promise<void> {
    this.#anonymous.delete(ip)
    return Promise.resolve()
  }

  /** Reports the sessions this store expires (found expired on access, or by the sweep). */
  watchExpirations(onExpired: (ref: SessionRef) => void): Promise<() => Promise<void>> {
    const watcher = (ref: SessionRef): void => {
      onExpired(ref)
    }
    this.#expiryWatchers.add(watcher)
    return Promise.resolve(() => {
      this.#expiryWatchers.delete(watcher)
      return Promise.resolve()
    })
  }

  /** The number of live sessions (exact). */
  countSessions(): Promise<number> {
    const now = this.#now()
    let count = 0
    for (const session of this.#sessions.values()) if (session.expiresAt > now) count++
    return Promise.resolve(count)
  }

  inspect(ref: SessionRef): Promise<InspectedSession | undefined> {
    const now = this.#now()
    const session = this.#live(ref.id, now)
    return Promise.resolve(
      session ? { fields: [...session.fields], ttlMs: session.expiresAt - now } : undefined,
    )
  }

  async scanSessions(visit: (batch: SessionScanBatch) => void | Promise<void>): Promise<void> {
    const now = this.#now()
    const sessions = []
    for (const [id, session] of this.#sessions) {
      if (session.expiresAt <= now) continue
      sessions.push({ ref: refFromParts(session.tag, id.slice(4)), fields: listedFields(session) })
    }
    if (sessions.length > 0) await visit({ sessions, foreign: [] })
  }

  async scanUsers(visit: (batch: UserScanBatch) => void | Promise<void>): Promise<void> {
    const now = this.#now()
    const users = [...this.#indexes.values()]
      .filter((i) => i.expiresAt > now)
      .map((i) => decodeStoredUserId(i.encoded))
      .filter((id) => id !== undefined)
    if (users.length > 0) await visit({ users, foreign: [] })
  }

  ping(): Promise<void> {
    return Promise.resolve()
  }

  /** Mirrors `enforce_index` in lib.lua. */
  #enforce(
    index: UserIndex,
    encoded: string,
    cap: number,
    now: number,
    spare: string,
    dryRun: boolean,
  ): CleanupResult {
    let pruned = 0
    const live: string[] = []
    const ordered = [...index.entries].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    for (const [hash, score] of ordered) {
      const session = this.#sessions.get(`${index.tag}.${hash}`)
      if (
        score <= now ||
        !session ||
        session.expiresAt <= now ||
        session.fields.get(META.userId) !== encoded
      ) {
        pruned++
        if (!dryRun) index.entries.delete(hash)
      } else {
        live.push(hash)
      }
    }
    let evicted = 0
    let over = live.length - cap
    for (const hash of live) {
      if (over <= 0) break
      if (hash === spare) continue
      if (!dryRun) {
        this.#sessions.delete(`${index.tag}.${hash}`)
        index.entries.delete(hash)
      }
      evicted++
      over--
    }
    if (!dryRun) this.#fitIndex(index)
    return { pruned, evicted }
  }

  #live(id: string, now: number): StoredSession | undefined {
    const session = this.#sessions.get(id)
    if (session && session.expiresAt <= now) {
      this.#sessions.delete(id)
      if (this.#expiryWatchers.size > 0) {
        const ref = refFromParts(session.tag, id.slice(session.tag.length + 1))
        for (const watcher of this.#expiryWatchers) watcher(ref)
      }
      return undefined
    }
    return session
  }

  /** Mirrors create.lua's `known_ip`: another live session of the user, not impersonated, last seen from `ip`. */
  #knownIp(user: UserRef, ip: string, now: number): boolean {
    const index = this.#indexFor(user.tag, user.encoded, now, false)
    for (const [hash, score] of index?.entries ?? []) {
      if (score <= now) continue
      const fields = this.#sessions.get(`${user.tag}.${hash}`)?.fields
      if (
        fields?.get(META.userId) === user.encoded &&
        fields.get(META.ipAddress) === ip &&
        !fields.has(META.impersonator)
      ) {
        return true
      }
    }
    return false
  }

  /** Mirrors lib.lua's `admit_ip`. */
  #admitAddress(tag: string, encoded: string, ip: string, limit: UniqueIpsLimit, now: number): boolean {
    const key = `${tag}:${encoded}`
    let set = this.#addresses.get(key)
    if (!set || set.expiresAt <= now) set = { entries: new Map(), expiresAt: 0 }
    for (const [address, used] of set.entries) if (used <= now - limit.windowMs) set.entries.delete(address)
    if (!set.entries.has(ip) && set.entries.size >= limit.max) return false
    set.entries.set(ip, now)
    set.expiresAt = now + limit.windowMs
    this.#addresses.set(key, set)
    return true
  }

  #anonymousCounter(ip: string, now: number): AnonymousCounter | undefined {
    const counter = this.#anonymous.get(ip)
    if (counter && counter.expiresAt <= now) {
      this.#anonymous.delete(ip)
      return undefined
    }
    return counter
  }

  #delete(ref: SessionRef, session: StoredSession): void {
    this.#sessions.delete(ref.id)
    const user = session.fields.get(META.userId)
    const index = user === undefined ? undefined : this.#indexes.get(`${ref.tag}:${user}`)
    if (index) {
      index.entries.delete(ref.hash)
      this.#fitIndex(index)
    }
  }

  /** After members left: the index lives as long as its longest-lived member, and goes when empty (lib.lua). */
  #fitIndex(index: UserIndex): void {
    if (index.entries.size === 0) {
      this.#indexes.delete(`${index.tag}:${index.encoded}`)
      return
    }
    let latest = 0
    for (const score of index.entries.values()) if (score > latest) latest = score
    index.expiresAt = latest
  }

  #takeHeld(id: string, now: number): Map<string, string | undefined> | undefined {
    const held = this.#held.get(id)
    this.#held.delete(id)
    return held && held.expiresAt > now ? held.fields : undefined
  }

  #indexFor(tag: string, encoded: string, now: number, create: boolean): UserIndex | undefined {
    const key = `${tag}:${encoded}`
    let index = this.#indexes.get(key)
    if (index && index.expiresAt <= now) {
      this.#indexes.delete(key)
      index = undefined
    }
    if (!index && create) {
      index = { tag, encoded, entries: new Map(), expiresAt: 0 }
      this.#indexes.set(key, index)
    }
    return index
  }

  #extend(tag: string, encoded: string, at: number): void {
    const index = this.#indexes.get(`${tag}:${encoded}`)
    if (index && index.expiresAt < at) index.expiresAt = at
  }
}

/** The metadata a listing shows, as the Redis list script returns it. */
function listedFields(session: StoredSession): [string, string][] {
  const out: [string, string][] = []
  for (const name of LISTED_FIELDS) {
    const value = session.fields.get(name)
    if (value !== undefined) out.push([name, value])
  }
  return out
}

/** Every field of a session as one flat list, as a load returns it. */
function flatFields(session: StoredSession): string[] {
  const out: string[] = []
  for (const [name, value] of session.fields) out.push(name, value)
  return out
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}
