/**
 * The in-test load generator: virtual users that sign in, read, write (each write a unique marker), sign in again
 * (rotation), sign out; revokers that revoke random live sessions through the admin API; and probers that keep
 * trying sessions whose end was acknowledged (a success there is a resurrection, caught as it happens).
 *
 * Every virtual user does one request at a time and behaves like a browser: it keeps whatever cookie the app set,
 * and nothing else. Everything it learns goes into the {@link Ledger}.
 */
import { send, type HttpReply } from './http.js'
import { Ledger, type TrackedSession } from './ledger.js'

export const COOKIE = 'sid'

/** Virtual-user numbers of the recovery canaries (negative, apart from the load's). */
const CANARY = -1

export interface LoadOptions {
  /** Virtual users (two share each user id, so indexes hold several sessions). Default 16. */
  readonly users?: number
  /** Revokers and probers (each). Default 1. */
  readonly revokers?: number
  /** Each actor waits up to this long between its requests. Default 20 ms. */
  readonly thinkMs?: number
  /** A session that holds this many markers is signed out, so sessions stay small. Default 120. */
  readonly maxMarkers?: number
}

/** Anything a failed request may not do: the cookie must be left alone. */
function isFailure(status: number): boolean {
  return status === 0 || status >= 500
}

/**
 * A 503 because the replicas did not confirm a write in time (`waitForReplicas`): the primary did the work, so
 * the call was never meant to stay undone; it is not a failed call that took effect later.
 */
function isUnconfirmed(reply: HttpReply): boolean {
  const message = (reply.body as { message?: unknown } | undefined)?.message
  return typeof message === 'string' && message.includes('(waitForReplicas)')
}

/** The new session cookie a reply sets: a token, `''` when it clears the cookie, `undefined` when it sets none. */
function cookieSet(reply: HttpReply): string | undefined {
  for (const header of reply.setCookies) {
    const pair = header.split(';', 1)[0] ?? ''
    if (!pair.startsWith(`${COOKIE}=`)) continue
    const value = pair.slice(COOKIE.length + 1)
    return /;\s*max-age=0(;|$)/i.test(header) ? '' : value
  }
  return undefined
}

function removeWhere<T>(list: T[], test: (item: T) => boolean): void {
  for (let i = list.length - 1; i >= 0; i--) if (test(list[i]!)) list.splice(i, 1)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

export class LoadGenerator {
  readonly ledger = new Ledger()
  /** Writes that were acknowledged and then found missing while the load ran: `{ marker, sessionId }`. */
  readonly lostWrites: { marker: string; sessionId: string; ackedAt: number }[] = []
  /** Sessions that stopped working without anyone ending them, noticed while the load ran. */
  readonly lostSessions: TrackedSession[] = []
  /** Answers that named a session other than the one the cookie holds (must never happen). */
  readonly crossedSessions: string[] = []
  readonly #base: string
  readonly #options: Required<LoadOptions>
  #running = false
  #loops: Promise<void>[] = []

  constructor(base: string, options: LoadOptions = {}) {
    this.#base = base
    this.#options = { users: 16, revokers: 1, thinkMs: 20, maxMarkers: 120, ...options }
  }

  start(): void {
    this.ledger.loadStartedAt = performance.now()
    this.#running = true
    const { users, revokers } = this.#options
    for (let i = 0; i < users; i++) this.#loops.push(this.#loop(() => this.#userStep(i)))
    for (let i = 0; i < revokers; i++) {
      this.#loops.push(this.#loop(() => this.#revokeStep()))
      this.#loops.push(this.#loop(() => this.#probeStep()))
    }
  }

  async stop(): Promise<void> {
    this.#running = false
    await Promise.all(this.#loops)
    this.#loops = []
  }

  /** The session each virtual user holds now. */
  readonly #held = new Map<number, TrackedSession>()

  heldSessions(): TrackedSession[] {
    return [...this.#held.values()]
  }

  async #loop(step: () => Promise<void>): Promise<void> {
    while (this.#running) {
      await step()
      await sleep(Math.random() * this.#options.thinkMs)
    }
  }

  async #exchange(kind: string, method: 'GET' | 'POST', path: string, session?: TrackedSession) {
    const reply = await send(this.#base, method, path, session ? `${COOKIE}=${session.token}` : undefined)
    const cookie = cookieSet(reply)
    this.ledger.requests.push({
      kind,
      status: reply.status,
      startedAt: reply.startedAt,
      endedAt: reply.endedAt,
      cookieOnFailure: isFailure(reply.status) && cookie !== undefined,
    })
    return { reply, cookie }
  }

  /** One step of virtual user `i`: what a person clicking around would do next. */
  async #userStep(i: number): Promise<void> {
    const user = `u${Math.floor(i / 2)}`
    const held = this.#held.get(i)
    const roll = Math.random()
    if (!held) {
      await (roll < 0.5 ? this.#write(i, undefined) : this.#signIn(i, user, undefined))
      return
    }
    if (held.acked.size >= this.#options.maxMarkers) await this.#signOut(i, held)
    else if (roll < 0.4) await this.#read(i, held)
    else if (roll < 0.8) await this.#write(i, held)
    else if (roll < 0.93) await this.#signIn(i, user, held)
    else await this.#signOut(i, held)
  }

  /**
   * One round of a fresh visitor: a first write (creates a session), a read of it, a sign-in. True when all three
   * worked: the app has recovered. Its sessions and failures go into the ledger like everyone else's.
   */
  async canary(): Promise<boolean> {
    const n = this.#canaries++
    const i = CANARY - n
    if ((await this.#write(i, undefined)) !== 200) return false
    const held = this.#held.get(i)
    if (!held || (await this.#read(i, held)) !== 200) return false
    // One user per round: a slow recovery must not pile a hundred sessions on one user (the per-user cap).
    return (await this.#signIn(i, `canary${n}`, held)) === 200
  }

  #canaries = 0

  /** How long a handler thinks before its store call (ms): up to 60, so faults often land in between. */
  #think(): number {
    return Math.floor(Math.random() * 60)
  }

  /** The session `held` is not there any more although nobody acknowledged ending it. */
  #lost(i: number, held: TrackedSession, at: number): void {
    this.#held.delete(i)
    if (held.state !== 'alive') return
    this.ledger.end(held, 'gone', at)
    this.lostSessions.push(held)
    for (const [marker, ackedAt] of held.acked) this.lostWrites.push({ marker, sessionId: held.id, ackedAt })
  }

  async #read(i: number, held: TrackedSession): Promise<number> {
    const { reply } = await this.#exchange('read', 'GET', '/read', held)
    if (reply.status !== 200) return reply.status
    const body = reply.body as { id: string | null; user: string | null; keys: string[] }
    if (body.id === null) {
      this.#lost(i, held, reply.endedAt)
      return 404
    }
    if (body.id !== held.id || body.user !== (held.user ?? null)) this.crossedSessions.push(held.id)
    const keys = new Set(body.keys)
    for (const [marker, ackedAt] of held.acked) {
      // Acknowledged before this read started, so the read must see it.
      if (ackedAt < reply.startedAt && !keys.has(marker)) {
        this.lostWrites.push({ marker, sessionId: held.id, ackedAt })
        held.acked.delete(marker)
      }
    }
    return 200
  }

  async #write(i: number, held: TrackedSession | undefined): Promise<number> {
    const marker = this.ledger.marker()
    const think = this.#think()
    const { reply, cookie } = await this.#exchange('write', 'POST', `/write?m=${marker}&d=${think}`, held)
    if (reply.status !== 200) {
      if (isFailure(reply.status)) {
        this.ledger.failures.push({
          kind: 'write',
          sessionId: held?.id,
          user: held?.user,
          marker,
          startedAt: reply.startedAt,
          sentAt: reply.startedAt + think,
          endedAt: reply.endedAt,
          status: reply.status,
          unconfirmed: isUnconfirmed(reply),
        })
      }
      return reply.status
    }
    let target = held
    if (cookie) {
      // A write on a session that is gone starts a new one: the old one was lost (or ended) meanwhile.
      if (held) this.#lost(i, held, reply.endedAt)
      target = this.ledger.track(cookie, undefined)
      this.#held.set(i, target)
    }
    target?.acked.set(marker, reply.endedAt)
    return 200
  }

  async #signIn(i: number, user: string, held: TrackedSession | undefined): Promise<number> {
    const think = this.#think()
    const { reply, cookie } = await this.#exchange('signin', 'POST', `/signin?user=${user}&d=${think}`, held)
    if (reply.status === 409) {
      // Revoked or rotated by a concurrent request: the session is over.
      if (held) this.#lost(i, held, reply.endedAt)
      return 409
    }
    if (reply.status !== 200 || !cookie) {
      if (isFailure(reply.status)) {
        this.ledger.failures.push({
          kind: 'signin',
          sessionId: held?.id,
          user,
          startedAt: reply.startedAt,
          sentAt: reply.startedAt + think,
          endedAt: reply.endedAt,
          status: reply.status,
          unconfirmed: isUnconfirmed(reply),
        })
      }
      return reply.status
    }
    const next = this.ledger.track(cookie, user)
    this.#held.set(i, next)
    if (!held) return 200
    // The sign-in carried the data over, unless the old session was gone (then it started empty).
    const keys = new Set((reply.body as { keys?: string[] }).keys ?? [])
    if (held.acked.size > 0 && ![...held.acked.keys()].some((m) => keys.has(m))) {
      this.#lost(i, held, reply.endedAt)
      return 200
    }
    for (const [marker, ackedAt] of held.acked) {
      if (keys.has(marker)) next.acked.set(marker, ackedAt)
      else this.lostWrites.push({ marker, sessionId: held.id, ackedAt })
    }
    this.ledger.end(held, 'rotated', reply.endedAt)
    return 200
  }

  async #signOut(i: number, held: TrackedSession): Promise<void> {
    const think = this.#think()
    const { reply } = await this.#exchange('signout', 'POST', `/signout?d=${think}`, held)
    if (reply.status === 200) {
      this.ledger.end(held, 'signed-out', reply.endedAt)
      this.#held.delete(i)
    } else if (isFailure(reply.status)) {
      this.ledger.failures.push({
        kind: 'signout',
        sessionId: held.id,
        user: held.user,
        startedAt: reply.startedAt,
        sentAt: reply.startedAt + think,
        endedAt: reply.endedAt,
        status: reply.status,
        unconfirmed: isUnconfirmed(reply),
      })
    }
  }

  async #revokeStep(): Promise<void> {
    const victim = this.ledger.randomSignedIn()
    if (!victim) return
    const { reply } = await this.#exchange(
      'revoke',
      'POST',
      `/admin/revoke?user=${victim.user ?? ''}&id=${victim.id}`,
    )
    if (reply.status === 200) {
      if ((reply.body as { revoked: boolean }).revoked) this.#revoked(victim, reply)
    } else if (isFailure(reply.status)) {
      this.ledger.failures.push({
        kind: 'revoke',
        sessionId: victim.id,
        user: victim.user,
        startedAt: reply.startedAt,
        sentAt: reply.startedAt,
        endedAt: reply.endedAt,
        status: reply.status,
        unconfirmed: isUnconfirmed(reply),
      })
    }
  }

  /**
   * A revocation was acknowledged. Its owner may have noticed the session missing while the revocation's answer
   * was still on its way: that was the revocation, not a loss.
   */
  #revoked(victim: TrackedSession, reply: HttpReply): void {
    if (victim.state === 'gone' && (victim.endedAt ?? 0) >= reply.startedAt) {
      victim.state = 'alive'
      removeWhere(this.lostSessions, (s) => s === victim)
      removeWhere(this.lostWrites, (w) => w.sessionId === victim.id)
    }
    this.ledger.end(victim, 'revoked', reply.endedAt)
  }

  /** Tries a session whose end was acknowledged: it must never load again. */
  async #probeStep(): Promise<void> {
    const dead = this.ledger.randomDead(performance.now())
    if (!dead) return
    const { reply } = await this.#exchange('probe', 'GET', '/read', dead)
    if (reply.status === 200 && (reply.body as { id: string | null }).id === dead.id) {
      this.ledger.liveResurrections.push({ id: dead.id, at: reply.startedAt })
    }
  }
}
