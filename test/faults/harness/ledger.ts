/**
 * What the load generator knows for certain: every session it was given (by a `Set-Cookie`), every write, sign-in,
 * sign-out and revocation it sent, and how each was answered. After the fault, the verifier compares this with
 * what the app and the store say.
 *
 * A failure is "definite" when its store call was sent after the fault began (Redis was already paused, dead or
 * failing over, so nothing it asked for can have happened before the failure was reported) and "in doubt" when
 * it was sent before and failed after (Redis may have done the work just before it went away: a crash can eat
 * the reply, not the write). Only definite failures may never take effect; in-doubt ones are counted apart.
 * The app thinks a random while between loading the session and the store call a route makes (`?d=`), so
 * requests that loaded before the fault and wrote after it, the most telling case, are common.
 */
import { refFromToken } from '../../../src/core/token.js'

export type SessionState = 'alive' | 'signed-out' | 'revoked' | 'rotated' | 'gone'

export interface TrackedSession {
  readonly id: string
  readonly token: string
  readonly user: string | undefined
  state: SessionState
  /** When the operation that ended it was acknowledged (`performance.now()`); for `gone`, when it was noticed. */
  endedAt?: number
  /** Markers whose write was acknowledged on this session (or carried to it by an acknowledged sign-in). */
  readonly acked: Map<string, number>
}

export interface FailedCall {
  readonly kind: 'write' | 'signin' | 'signout' | 'revoke'
  /** The session the call was about (for a write: where the marker would have gone). */
  readonly sessionId: string | undefined
  readonly user: string | undefined
  readonly marker?: string
  readonly startedAt: number
  /** The earliest the failed store call can have been sent (the handler thought first): `startedAt` + think. */
  readonly sentAt: number
  readonly endedAt: number
  readonly status: number
  /** Refused because the replicas did not confirm it (`waitForReplicas`): the primary did the work. */
  readonly unconfirmed: boolean
}

export interface RequestRecord {
  readonly kind: string
  readonly status: number
  readonly startedAt: number
  readonly endedAt: number
  /** A failed answer (5xx, 409 or socket error) that still carried a session cookie. */
  readonly cookieOnFailure: boolean
}

export class Ledger {
  readonly sessions = new Map<string, TrackedSession>()
  readonly failures: FailedCall[] = []
  readonly requests: RequestRecord[] = []
  /** Probes of dead sessions that worked again: `{ id, at }`. */
  readonly liveResurrections: { id: string; at: number }[] = []
  /** When the fault began (`performance.now()`); `-Infinity` when Redis was down from the start. */
  faultAt = Number.POSITIVE_INFINITY
  /** When the load started: the origin of the figures when Redis was down from the start. */
  loadStartedAt = 0
  #seq = 0

  /** A unique marker for one write. */
  marker(): string {
    this.#seq += 1
    return `m${this.#seq.toString(36)}`
  }

  /** Registers a session the app handed out (its `Set-Cookie`). */
  track(token: string, user: string | undefined): TrackedSession {
    const id = refFromToken(token).id
    const existing = this.sessions.get(id)
    if (existing) return existing
    const session: TrackedSession = { id, token, user, state: 'alive', acked: new Map() }
    this.sessions.set(id, session)
    return session
  }

  end(session: TrackedSession, state: Exclude<SessionState, 'alive'>, at: number): void {
    if (session.state !== 'alive') return
    session.state = state
    session.endedAt = at
  }

  /** Sessions whose end was acknowledged by the app: they must never work again. */
  deadSessions(): TrackedSession[] {
    return [...this.sessions.values()].filter(
      (s) => s.state === 'signed-out' || s.state === 'revoked' || s.state === 'rotated',
    )
  }

  aliveSessions(): TrackedSession[] {
    return [...this.sessions.values()].filter((s) => s.state === 'alive')
  }

  /** A random alive signed-in session, for the revokers. */
  randomSignedIn(): TrackedSession | undefined {
    const candidates = this.aliveSessions().filter((s) => s.user !== undefined)
    return candidates[Math.floor(Math.random() * candidates.length)]
  }

  /** A random session whose end was acknowledged before `before`, for the probers. */
  randomDead(before: number): TrackedSession | undefined {
    const candidates = this.deadSessions().filter((s) => (s.endedAt ?? Infinity) < before)
    return candidates[Math.floor(Math.random() * candidates.length)]
  }

  /** Whether a failed call is a definite failure (see the module comment), not one in doubt. */
  isDefinite(call: { sentAt: number; endedAt: number }): boolean {
    return !(call.sentAt < this.faultAt && call.endedAt >= this.faultAt)
  }
}
