/**
 * Property tests of the Lua scripts, through two Sessionkit instances (one on node-redis, one on ioredis) over one
 * real Redis, and over the Cluster: random interleavings of requests — load, save, sign-in (claim + create),
 * rotate, sign-out, revoke — from a few browsers.
 *
 * Each request has two phases, open (load) and act (the write it makes), and fast-check picks the order in which
 * all the phases of a batch of concurrent requests run, so every interleaving of "loaded before / wrote after"
 * gets tried, deterministically and shrinkably. After each run:
 * - no resurrection: a session ended by an acknowledged sign-out, revocation or rotation never loads again;
 * - no silent lost write: a save that resolved is in the session it was made on, or in its successor through
 *   rotations and same-user sign-ins, unless that line of sessions was ended (signed out, revoked) or passed to
 *   another user (whose sign-in carries nothing over);
 * - nothing crosses users: such a write never shows up in the session of another user who signed in on the cookie;
 * - every user's index lists every live session of that user (found by walking the store, not the index);
 * - every key has a TTL.
 */
import fc from 'fast-check'
import { Cluster, Redis } from 'ioredis'
import { createClient, createCluster } from 'redis'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createSessionkit, SessionConflictError, type Sessionkit } from '../../src/index.js'
import { RedisStore } from '../../src/stores/redis/redis-store.js'
import type { RedisClientLike } from '../../src/stores/redis/redis-client.js'
import { refFromToken } from '../../src/core/token.js'
import { encodeUserId } from '../../src/core/user-id.js'
import { randomPrefix } from '../helpers/backends.js'
import { keysWithTtl } from '../helpers/keys-with-ttl.js'
import { Browser, type Request } from '../helpers/browser.js'

type Kind = 'read' | 'save' | 'signIn' | 'rotate' | 'signOut' | 'revoke'

interface Op {
  readonly kind: Kind
  /** Which browser sends the request (for `revoke`: whose session is revoked, by an admin). */
  readonly browser: number
  /** Which of the two Sessionkit instances serves it. */
  readonly kit: 0 | 1
  readonly user: 0 | 1
}

const BROWSERS = 3

const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom<Kind>('read', 'save', 'save', 'signIn', 'rotate', 'signOut', 'revoke'),
  browser: fc.integer({ min: 0, max: BROWSERS - 1 }),
  kit: fc.constantFrom<0 | 1>(0, 1),
  user: fc.constantFrom<0 | 1>(0, 1),
})

/** A batch of concurrent requests and the order their 2n phases run in (op i opens at its first slot). */
const batch = fc.array(op, { minLength: 2, maxLength: 4 }).chain((ops) =>
  fc
    .array(fc.double({ noNaN: true }), { minLength: ops.length * 2, maxLength: ops.length * 2 })
    .map((keys) => ({
      ops,
      order: keys.map((k, i) => [k, i % ops.length] as const).sort((a, b) => a[0] - b[0]),
    })),
)

/** A run: a few browsers set up (anonymous with data, or signed in), then 1–3 batches. */
const scenario = fc.record({
  setup: fc.array(fc.constantFrom('anonymous', 'user0', 'user1', 'none'), {
    minLength: BROWSERS,
    maxLength: BROWSERS,
  }),
  batches: fc.array(batch, { minLength: 1, maxLength: 3 }),
})

interface Clients {
  readonly clients: readonly [RedisClientLike, RedisClientLike]
  close(): Promise<void>
}

/** What a run learned, to check the invariants against. */
class Model {
  /** Tokens whose end was acknowledged. */
  readonly dead = new Set<string>()
  /** token → the token it was rotated to, by a rotation or a sign-in of the same owner. */
  readonly successor = new Map<string, string>()
  /** token → the token another user's sign-in on the same cookie replaced it with (nothing may be carried). */
  readonly handedOver = new Map<string, string>()
  /** Resolved saves: the marker and the token of the session it was made on. */
  readonly saves: { marker: string; token: string }[] = []
  /** token → its owner, as far as the run knows. */
  readonly owner = new Map<string, string | undefined>()
  #marker = 0

  marker(): string {
    return `m${++this.#marker}`
  }

  /** The end of `token`'s line of same-owner successors. */
  last(token: string): string {
    let t = token
    for (let next = this.successor.get(t); next !== undefined; next = this.successor.get(t)) t = next
    return t
  }
}

/** A browser's cookie jar: requests read it when they open and write it when their response sets a cookie. */
interface Jar {
  cookie: string | undefined
}

class Run {
  readonly model = new Model()
  readonly jars: Jar[] = Array.from({ length: BROWSERS }, () => ({ cookie: undefined }))
  readonly users: readonly [string, string]

  constructor(
    readonly kits: readonly [Sessionkit, Sessionkit],
    id: string,
  ) {
    this.users = [`${id}-a`, `${id}-b`]
  }

  async open(
    kit: Sessionkit,
    jar: Jar,
  ): Promise<{ req: Request; browser: Browser; token: string | undefined }> {
    const browser = new Browser(kit, { cookie: jar.cookie })
    const req = await browser.open()
    return { req, browser, token: req.session.isNew ? undefined : jar.cookie }
  }

  /** Carries the response's cookie to the jar, as a browser would (the last response wins). */
  settle(jar: Jar, req: Request, browser: Browser): void {
    if (req.binding.setCookies.length > 0) jar.cookie = browser.cookie
  }

  async setUp(how: string, jar: Jar): Promise<void> {
    if (how === 'none') return
    const { req, browser } = await this.open(this.kits[0], jar)
    req.session.set('seed', 1)
    if (how !== 'anonymous') await req.session.signIn(this.users[how === 'user0' ? 0 : 1])
    await req.commit()
    this.settle(jar, req, browser)
    this.model.owner.set(jar.cookie!, req.session.userId)
  }

  /** Runs one batch: every op's open and act phase, in the order the batch gives. */
  async runBatch(b: { ops: readonly Op[]; order: readonly (readonly [number, number])[] }): Promise<void> {
    const opened = new Map<number, Awaited<ReturnType<Run['openOp']>>>()
    for (const [, i] of b.order) {
      const o = b.ops[i]!
      const state = opened.get(i)
      if (state === undefined) opened.set(i, await this.openOp(o))
      else await this.act(o, state)
    }
  }

  async openOp(o: Op) {
    const kit = this.kits[o.kit]
    const jar = this.jars[o.browser]!
    const opened = await this.open(kit, jar)
    return { ...opened, kit, jar, userAtOpen: opened.req.session.userId }
  }

  async act(o: Op, s: Awaited<ReturnType<Run['openOp']>>): Promise<void> {
    const { req, browser, token, kit, jar } = s
    const session = req.session
    const m = this.model
    try {
      switch (o.kind) {
        case 'read':
          session.get('seed')
          break
        case 'save': {
          const marker = m.marker()
          session.set(marker, 1)
          await req.commit()
          this.settle(jar, req, browser)
          // A save on a session that was gone at open made a new one: the marker went there.
          const target = token ?? (req.binding.setCookies.length > 0 ? browser.cookie : undefined)
          if (target !== undefined) {
            m.saves.push({ marker, token: target })
            if (!m.owner.has(target)) m.owner.set(target, undefined)
          }
          return
        }
        case 'signIn':
        case 'rotate': {
          if (o.kind === 'rotate' && token === undefined) return
          const user = this.users[o.user]
          if (o.kind === 'signIn') await session.signIn(user)
          else await session.rotate()
          await req.commit()
          this.settle(jar, req, browser)
          const next = browser.cookie!
          const newOwner = o.kind === 'signIn' ? user : s.userAtOpen
          m.owner.set(next, newOwner)
          if (token !== undefined) {
            m.dead.add(token)
            if (s.userAtOpen === undefined || s.userAtOpen === newOwner) m.successor.set(token, next)
            else m.handedOver.set(token, next)
          }
          return
        }
        case 'signOut':
          await session.signOut()
          await req.commit()
          this.settle(jar, req, browser)
          if (token !== undefined) m.dead.add(token)
          return
        case 'revoke': {
          // An admin revokes the session this browser held when the request opened.
          if (token === undefined || s.userAtOpen === undefined) return
          if (await kit.revokeSession(s.userAtOpen, refFromToken(token).id)) m.dead.add(token)
          return
        }
      }
      await req.commit()
    } catch (error) {
      // A conflict is a typed, visible failure (never a silent one): nothing to record.
      if (!(error instanceof SessionConflictError)) throw error
    }
  }

  async loads(token: string): Promise<Request | undefined> {
    const { req } = await this.open(this.kits[0], { cookie: token })
    return req.session.isNew ? undefined : req
  }
}

/** Live signed-in sessions of `encodedUser`, found by walking the store (not the index). */
async function liveSessionsOf(store: RedisStore, encodedUser: string): Promise<string[]> {
  const ids: string[] = []
  await store.scanSessions((b) => {
    for (const s of b.sessions) if (new Map(s.fields).get('_u') === encodedUser) ids.push(s.ref.id)
  })
  return [...new Set(ids)].sort()
}

async function check(run: Run, store: RedisStore, prefix: string): Promise<void> {
  const m = run.model
  for (const token of m.dead) {
    expect(await run.loads(token), `a session ended by an acknowledged call loads again`).toBeUndefined()
  }
  for (const { marker, token } of m.saves) {
    // Another user's sign-in on this cookie starts afresh: a write to the old session must never reach theirs.
    const other = m.handedOver.get(m.last(token))
    const theirs = other === undefined ? undefined : await run.loads(other)
    if (theirs) expect(theirs.session.has(marker), 'a write reached another user’s session').toBe(false)
    const last = m.last(token)
    if (m.dead.has(last)) continue
    const req = await run.loads(last)
    if (!req) continue
    expect(
      req.session.has(marker),
      `a save that resolved is missing from ${last === token ? 'its session' : 'the successor'}`,
    ).toBe(true)
  }
  for (const user of run.users) {
    const listed = (await run.kits[0].listSessions(user)).map((s) => s.id)
    const live = await liveSessionsOf(store, encodeUserId(user))
    for (const id of live) expect(listed, 'a live session missing from its index').toContain(id)
  }
  for (const { key, pttl } of await keysWithTtl(store, prefix)) {
    expect(pttl, `${key} has no TTL`).toBeGreaterThan(0)
  }
}

function propertyOver(name: string, connect: () => Promise<Clients>, numRuns: number): void {
  describe(`Lua scripts under interleaved requests (property): ${name}`, () => {
    let clients: Clients
    beforeAll(async () => {
      clients = await connect()
    })
    afterAll(async () => {
      await clients.close()
    })

    it('no resurrection, no silent lost write, index ⊇ live sessions, every key has a TTL', async () => {
      let runs = 0
      await fc.assert(
        fc.asyncProperty(scenario, async ({ setup, batches }) => {
          const prefix = randomPrefix()
          const stores = clients.clients.map((client) => new RedisStore({ client, prefix, timeoutMs: 5000 }))
          const kits = stores.map((store) =>
            createSessionkit({ store, cookie: { secure: false }, deviceParser: false }),
          ) as [Sessionkit, Sessionkit]
          const run = new Run(kits, `${prefix}${++runs}`)
          for (const [i, how] of setup.entries()) await run.setUp(how, run.jars[i]!)
          for (const b of batches) await run.runBatch(b)
          await check(run, stores[0]!, prefix)
        }),
        { numRuns },
      )
    })
  })
}

propertyOver(
  'one Redis, node-redis and ioredis',
  async () => {
    const url = inject('redisUrl')
    const a = createClient({ url })
    a.on('error', () => undefined)
    await a.connect()
    const b = new Redis(url)
    b.on('error', () => undefined)
    return {
      clients: [a, b],
      close: async () => {
        a.destroy()
        b.disconnect()
        await Promise.resolve()
      },
    }
  },
  300,
)

propertyOver(
  'Redis Cluster, node-redis and ioredis',
  async () => {
    const nodes = inject('clusterAddresses').map((address) => {
      const [host, port] = address.split(':')
      return { host: host!, port: Number(port) }
    })
    const a = createCluster({ rootNodes: nodes.map((n) => ({ url: `redis://${n.host}:${n.port}` })) })
    a.on('error', () => undefined)
    await a.connect()
    const b = new Cluster(nodes, { lazyConnect: true })
    b.on('error', () => undefined)
    await b.connect()
    return {
      clients: [a, b],
      close: async () => {
        a.destroy()
        b.disconnect()
        await Promise.resolve()
      },
    }
  },
  200,
)
