/**
 * The Redis key layout. Every key of a user (their sessions and their index) carries the same hash tag `{<tag>}`,
 * so it lives in one Redis Cluster slot and every per-user operation is one atomic script.
 *
 * | key                           | type   | holds                                              | TTL                      |
 * |-------------------------------|--------|----------------------------------------------------|--------------------------|
 * | `<prefix>{<tag>}:s:<id hash>` | hash   | one session: `_`-metadata, `d:` and `n:` values    | idle, capped by absolute |
 * | `<prefix>{<tag>}:u:<user id>` | zset   | the user's session hashes, scored by idle deadline | its latest member's      |
 * | `<prefix>{<tag>}:r:<id hash>` | string | where a rotated session's data went (for in-flight saves) | 60 s             |
 * | `<prefix>{<tag>}:h:<id hash>` | hash   | a forwarded save held until its session is created  | 60 s                     |
 * | `<prefix>{<tag>}:i:<user id>` | zset   | the user's addresses, scored by last use (`uniqueIpsPerUser`) | its window     |
 * | `<prefix>{ip:<address>}:a`    | string | anonymous sessions created from one address         | 24 h after the latest    |
 *
 * The anonymous count is keyed by address, so it has a slot of its own (the hash tag `{ip:<address>}`); the
 * session walks of the admin tools (`{???}:s:*`) never match it.
 * @module
 */
import { InvalidOptionsError } from '../../core/errors.js'
import { refFromParts, isSlotTag, type SessionRef } from '../../core/token.js'
import { decodeStoredUserId, type UserRef } from '../../core/user-id.js'

/** The default key prefix. */
export const DEFAULT_PREFIX = 'sk:'

const PREFIX_PATTERN = /^[A-Za-z0-9_:.-]{0,64}$/

export class KeyLayout {
  readonly prefix: string

  constructor(prefix: string = DEFAULT_PREFIX) {
    if (typeof prefix !== 'string' || !PREFIX_PATTERN.test(prefix)) {
      throw new InvalidOptionsError(
        `prefix must match ${String(PREFIX_PATTERN)} (no braces or glob characters), got ${JSON.stringify(prefix)}`,
      )
    }
    this.prefix = prefix
  }

  session(ref: SessionRef): string {
    return `${this.prefix}{${ref.tag}}:s:${ref.hash}`
  }

  /** Where a rotated session's data went (claim.lua), so saves still in flight can follow it (save.lua). */
  forwardingNote(ref: SessionRef): string {
    return `${this.prefix}{${ref.tag}}:r:${ref.hash}`
  }

  /** A forwarded save that arrived before its session was created (save.lua), merged by create.lua. */
  held(ref: SessionRef): string {
    return `${this.prefix}{${ref.tag}}:h:${ref.hash}`
  }

  sessionPrefix(tag: string): string {
    return `${this.prefix}{${tag}}:s:`
  }

  userIndex(user: UserRef): string {
    return `${this.prefix}{${user.tag}}:u:${user.encoded}`
  }

  userIndexPrefix(tag: string): string {
    return `${this.prefix}{${tag}}:u:`
  }

  /** The user's recent addresses (`uniqueIpsPerUser`), in the user's slot. */
  userIps(user: UserRef): string {
    return `${this.prefix}{${user.tag}}:i:${user.encoded}`
  }

  userIpsPrefix(tag: string): string {
    return `${this.prefix}{${tag}}:i:`
  }

  /** The count of anonymous sessions created from `ip` (a valid IP address: no braces, no glob characters). */
  anonymousCount(ip: string): string {
    return `${this.prefix}{ip:${ip}}:a`
  }

  /** SCAN pattern of every session key. */
  get sessionPattern(): string {
    return `${escapeGlob(this.prefix)}{???}:s:*`
  }

  /** SCAN pattern of every user index key. */
  get userIndexPattern(): string {
    return `${escapeGlob(this.prefix)}{???}:u:*`
  }

  /** The session a key names, or `undefined` for any other key. */
  parseSessionKey(key: string): SessionRef | undefined {
    const rest = this.afterTag(key, ':s:')
    if (rest === undefined || !/^[A-Za-z0-9_-]{27}$/.test(rest.tail)) return undefined
    return refFromParts(rest.tag, rest.tail)
  }

  /** The user id an index key names, or `undefined` for any other key. */
  parseUserIndexKey(key: string): string | undefined {
    const rest = this.afterTag(key, ':u:')
    return rest === undefined ? undefined : decodeStoredUserId(rest.tail)
  }

  private afterTag(key: string, marker: string): { tag: string; tail: string } | undefined {
    const p = this.prefix.length
    if (!key.startsWith(this.prefix) || key[p] !== '{' || key[p + 4] !== '}') return undefined
    const tag = key.slice(p + 1, p + 4)
    if (!isSlotTag(tag) || key.slice(p + 5, p + 5 + marker.length) !== marker) return undefined
    return { tag, tail: key.slice(p + 5 + marker.length) }
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}
