/** Renders docs/benchmarks.md and docs/benchmarks-ratios.svg from one run's results. */
import { fmt, max, median, min } from './stats.js'
import type { BenchResults, RouteSpec, Sample, ServerConfig } from './types.js'

interface Cell {
  readonly rps: number
  readonly rpsMin: number
  readonly rpsMax: number
  readonly rawP50: number
  readonly rawP99: number
  readonly wrkP50: number
  readonly wrkP99: number
  readonly cpu: number
  readonly commands: number
  readonly roundTrips: number
  readonly byCommand: Record<string, number>
  readonly failures: number
}

function cell(samples: readonly Sample[]): Cell {
  const raw = samples.flatMap((s) => (s.raw ? [s.raw] : []))
  const requests = samples.reduce((a, s) => a + s.requests, 0)
  const byCommand: Record<string, number> = {}
  for (const s of samples) {
    for (const [name, calls] of Object.entries(s.byCommand)) byCommand[name] = (byCommand[name] ?? 0) + calls
  }
  for (const name of Object.keys(byCommand)) byCommand[name] = byCommand[name]! / requests
  return {
    rps: median(samples.map((s) => s.rps)),
    rpsMin: min(samples.map((s) => s.rps)),
    rpsMax: max(samples.map((s) => s.rps)),
    rawP50: median(raw.map((r) => r.p50Ms)),
    rawP99: median(raw.map((r) => r.p99Ms)),
    wrkP50: median(samples.map((s) => s.wrkP50Ms)),
    wrkP99: median(samples.map((s) => s.wrkP99Ms)),
    cpu: median(samples.map((s) => s.cpuUsPerReq)),
    commands: median(samples.map((s) => s.commandsPerReq)),
    roundTrips: median(samples.map((s) => s.roundTripsPerReq)),
    byCommand,
    failures: samples.reduce(
      (a, s) => a + s.errors + s.non2xx + (s.raw ? s.raw.errors + s.raw.non2xx : 0),
      0,
    ),
  }
}

type Cells = Map<string, Cell>
const keyOf = (server: string, route: string): string => `${server}/${route}`

function cells(results: BenchResults): Cells {
  const out: Cells = new Map()
  for (const server of results.servers) {
    for (const route of results.routes) {
      const samples = results.samples.filter((s) => s.server === server.id && s.route === route.id)
      if (samples.length > 0) out.set(keyOf(server.id, route.id), cell(samples))
    }
  }
  return out
}

export interface Ratio {
  readonly route: RouteSpec['id']
  readonly routeLabel: string
  readonly framework: string
  /** The sessionkit server (plain, or with the near cache). */
  readonly mine: string
  readonly mineLabel: string
  readonly versus: string
  readonly versusLabel: string
  /** sessionkit req/s ÷ the other's (medians). */
  readonly rps: number
  /** The other's Node CPU per request ÷ sessionkit's. */
  readonly cpu: number
  /** Per-round paired req/s ratios, min and max. */
  readonly roundMin: number
  readonly roundMax: number
  readonly target: number | undefined
}

function pairedRatios(results: BenchResults, a: string, b: string, route: string): number[] {
  const out: number[] = []
  for (let round = 0; round < results.settings.rounds; round++) {
    const x = results.samples.find((s) => s.server === a && s.route === route && s.round === round)
    const y = results.samples.find((s) => s.server === b && s.route === route && s.round === round)
    if (x && y) out.push(x.rps / y.rps)
  }
  return out
}

function targetFor(
  route: string,
  mine: ServerConfig,
  versus: ServerConfig,
  betterFastifyPeer: string,
): number | undefined {
  if (mine.kind === 'near') {
    // Issue 13: above the Redis floor, close to the bare framework.
    if (route === 'read' && versus.kind === 'bare') return mine.framework === 'express' ? 0.9 : 0.8
    return undefined
  }
  if (route === 'read') {
    if (versus.id === 'express-session') return 1.6
    if (versus.id === 'express-bare') return 0.75
    if (versus.id === betterFastifyPeer) return 1.3
    // Issue 13 item 4: the uncached read re-based on the floor.
    if (versus.kind === 'floor') return mine.framework === 'express' ? 0.92 : 0.85
    return undefined
  }
  if (route === 'write' && versus.kind === 'peer') return 1.3
  if (route === 'write' && versus.kind === 'floor') return 0.85
  return undefined
}

/** What a sessionkit server is compared with: the other kinds, and for the near cache plain sessionkit too. */
function comparedWith(mine: ServerConfig, other: ServerConfig): boolean {
  if (other.framework !== mine.framework || other.id === mine.id) return false
  if (other.kind === 'near' || other.kind === 'compat') return false
  return other.kind !== 'sessionkit' || mine.kind === 'near'
}

export function ratios(results: BenchResults, table: Cells = cells(results)): Ratio[] {
  const out: Ratio[] = []
  const readRolling = table.get(keyOf('fastify-session-rolling', 'read'))?.rps ?? 0
  const readFixed = table.get(keyOf('fastify-session-fixed', 'read'))?.rps ?? 0
  const betterFastifyPeer = readFixed >= readRolling ? 'fastify-session-fixed' : 'fastify-session-rolling'
  for (const route of results.routes) {
    for (const mine of results.servers.filter((s) => s.kind === 'sessionkit' || s.kind === 'near')) {
      const own = table.get(keyOf(mine.id, route.id))
      if (!own) continue
      // The compat modes are compared with the native mode on their own (compatCosts), not as peers.
      for (const versus of results.servers.filter((s) => comparedWith(mine, s))) {
        const other = table.get(keyOf(versus.id, route.id))
        if (!other) continue
        const paired = pairedRatios(results, mine.id, versus.id, route.id)
        out.push({
          route: route.id,
          routeLabel: route.label,
          framework: mine.framework,
          mine: mine.id,
          mineLabel: mine.label,
          versus: versus.id,
          versusLabel: versus.label,
          rps: own.rps / other.rps,
          cpu: other.cpu / own.cpu,
          roundMin: min(paired),
          roundMax: max(paired),
          target: targetFor(route.id, mine, versus, betterFastifyPeer),
        })
      }
    }
  }
  return out
}

/** Issue 11's target: a compat mode (with passport) costs at most this much Node CPU per request over native. */
export const COMPAT_CPU_TARGET = 1.15

export interface CompatCost {
  readonly route: RouteSpec['id']
  readonly framework: string
  readonly label: string
  /** The compat server's Node CPU per request ÷ the native server's (medians). */
  readonly cpu: number
  /** Native req/s ÷ compat req/s (medians). */
  readonly rps: number
}

/** What the compat modes cost over the native mode, per framework and route. */
export function compatCosts(results: BenchResults, table: Cells = cells(results)): CompatCost[] {
  const out: CompatCost[] = []
  for (const route of results.routes) {
    for (const compat of results.servers.filter((s) => s.kind === 'compat')) {
      const native = results.servers.find((s) => s.framework === compat.framework && s.kind === 'sessionkit')
      const mine = table.get(keyOf(compat.id, route.id))
      const theirs = native && table.get(keyOf(native.id, route.id))
      if (!mine || !theirs) continue
      out.push({
        route: route.id,
        framework: compat.framework,
        label: compat.label,
        cpu: mine.cpu / theirs.cpu,
        rps: theirs.rps / mine.rps,
      })
    }
  }
  return out
}

const pass = (ok: boolean): string => (ok ? '**met**' : '**missed**')
const x = (value: number): string => `${fmt(value, 2)}×`

export function renderReport(results: BenchResults): string {
  const { settings, machine, micro } = results
  const table = cells(results)
  const all = ratios(results, table)
  const lines: string[] = []
  const push = (...more: string[]): void => {
    lines.push(...more)
  }
  const label = (id: string): string => results.servers.find((s) => s.id === id)?.label ?? id

  push(
    '# sessionkit benchmarks',
    '',
    `Generated by \`${settings.command}\` (bench/run.ts) on ${machine.date.slice(0, 16).replace('T', ' ')} UTC, in ${fmt(results.durationSeconds / 60, 1)} minutes.` +
      (settings.quick
        ? ' **Quick mode**: short runs and a 50,000-session scale test; rerun `npm run bench` for the full figures.'
        : ''),
    '',
    '| machine | |',
    '|---|---|',
    `| CPUs (nproc) | ${machine.nproc} |`,
    `| CPU model | ${machine.cpuModel} |`,
    `| kernel | Linux ${machine.kernel} |`,
    `| Node.js | ${machine.node} |`,
    `| Redis | ${machine.redis} |`,
    `| wrk | ${machine.wrk} |`,
    '',
  )

  // --- targets ------------------------------------------------------------------------------------------------
  const get = (server: string, route: string): Cell | undefined => table.get(keyOf(server, route))
  push('## Targets (all ratios from this one run, medians of req/s)', '')
  push('| target | measured | |', '|---|---|---|')
  for (const r of all.filter((q) => q.target !== undefined)) {
    push(
      `| ${r.route}: ${r.mineLabel} ≥ ${r.target!}× ${r.versusLabel} | ${x(r.rps)} (rounds ${x(r.roundMin)}–${x(r.roundMax)}; CPU/req ${x(r.cpu)}) | ${pass(r.rps >= r.target!)} |`,
    )
  }
  for (const [route, want] of [
    ['read', 1],
    ['write', 2],
  ] as const) {
    for (const server of ['express-sessionkit', 'fastify-sessionkit']) {
      const c = get(server, route)
      if (!c) continue
      push(
        `| ${route}: ${label(server)} makes exactly ${want} Redis round trip${want > 1 ? 's' : ''} | ${fmt(c.roundTrips, 3)} per request | ${pass(Math.abs(c.roundTrips - want) < 0.02)} |`,
      )
    }
  }
  for (const c of compatCosts(results, table).filter((q) => q.route !== 'signin')) {
    push(
      `| ${c.route}: ${c.label} costs ≤ ${COMPAT_CPU_TARGET}× the Node CPU per request of the native mode | ${x(c.cpu)} (req/s: native ÷ compat ${x(c.rps)}) | ${pass(c.cpu <= COMPAT_CPU_TARGET)} |`,
    )
  }
  for (const server of results.servers.filter((s) => s.kind === 'near')) {
    const c = get(server.id, 'read')
    if (!c) continue
    push(
      `| read: ${server.label} makes ≤ 0.02 Redis commands per read (default touch interval) | ${fmt(c.commands, 4)} per request | ${pass(c.commands <= 0.02)} |`,
    )
  }
  const revocation = results.revocation
  if (revocation) {
    push(
      `| revocation delay with the near cache (A's revokeSession() resolved → B refuses the token): p99 ≤ 5 ms | p50 ${fmt(revocation.p50Ms, 3)} ms, p99 ${fmt(revocation.p99Ms, 3)} ms, max ${fmt(revocation.maxMs, 3)} ms over ${fmt(revocation.trials)} trials | ${pass(revocation.p99Ms <= 5 && revocation.cachedBeforeEveryRevocation)} |`,
    )
  }
  if (micro) {
    const peer = micro.memory.connectRedis
    const peerUsage = peer.dataUsage + peer.indexUsagePerSession
    for (const [name, figure, target] of [
      ['1 session per user', micro.memory.sessionkit1, 1.3],
      ['10 sessions per user', micro.memory.sessionkit10, 1.15],
    ] as const) {
      const ratio = figure.usedPerSession / peer.usedPerSession
      const usage = figure.dataUsage + figure.indexUsagePerSession
      push(
        `| memory per session ≤ ${target}× connect-redis (used_memory Δ over ${fmt(figure.sessions)} sign-ins, ${name}) | ${fmt(figure.usedPerSession)} B vs ${fmt(peer.usedPerSession)} B = ${x(ratio)} (MEMORY USAGE: ${fmt(usage)} vs ${fmt(peerUsage)} B = ${x(usage / peerUsage)}) | ${pass(ratio <= target)} |`,
      )
    }
  }
  push('', '![sessionkit ratios](benchmarks-ratios.svg)', '')

  // --- method --------------------------------------------------------------------------------------------------
  push(
    '## Method',
    '',
    `- **Pinning** (as peer-baseline.md): each server is one Node process on CPU0 (\`taskset -c 0\`); \`redis-server\` (started by the run on a free port, no persistence), the load generator and the orchestrator share CPU1.`,
    `- **Rounds**: ${settings.rounds} interleaved rounds; each round starts every server fresh (rotating the order), \`FLUSHALL\`s Redis, logs in once (\`POST /login\`) and shares that one cookie across all ${settings.connections} connections. Each route is warmed up ${settings.warmSeconds} s, then measured with wrk for ${settings.measureSeconds} s (\`wrk -t1 -c${settings.connections}\`).`,
    `- **Routes**: \`GET /read\` reads the session; \`GET /write\` increments one key (\`counter\`); \`POST /signin?u=<new id>\` signs a new user in without a cookie, setting the 211-byte app data of peer-baseline.md §6 (sessionkit: \`set()\` the keys, then \`signIn()\`, which parses the User-Agent and indexes the session; express-session and @fastify/session: \`regenerate()\`, then assign the data). The login session holds the same data. Every request sends a desktop Chrome User-Agent.`,
    '- **Floor rows** ("bare … + plain node-redis GET/SET"): the bare framework plus only the Redis round trips a session needs, over the same client — one `GET` per read, `GET` + `SET` per write, one `SET` per sign-in — with no cookie, parsing or session object. No Redis-backed session layer can be cheaper, so they show how much of a target is reachable at all.',
    "- **Compat rows** (`api: 'express-session'` / `api: '@fastify/session'`): the same routes written as an express-session + passport (or @fastify/session + @fastify/passport) app, switched by its session lines: every request goes through passport's session strategy (the user deserialised from the session), `/write` assigns `session.counter`, and sign-in is passport's `req.login()` with `keepSessionInfo` after assigning the app data (regenerate, then save: one sign-in). Their CPU per request is compared with the native mode's; passport's own work is part of it.",
    `- **sessionkit** runs from the built \`dist/\` (plain \`node\`, servers transpiled to JavaScript), with a node-redis client (the same client connect-redis uses), default options (active-session tracking always on, touch at most once a minute).`,
    '- **Near cache rows** ("sessionkit …, near cache"): the same servers with `RedisStore({ client, nearCache: { maxEntries: 100000 } })`, read route only. Their Redis commands include everything the near cache sends in the background (its links\' PINGs), so the commands per read are the whole cost to Redis. The **revocation delay** is measured apart (bench/revocation.ts, 1,000 trials): two stores A and B with their own clients and near caches in one process (one clock); B serves the session from memory, A revokes it, and the delay runs from A\'s `revokeSession()` resolving to the first request on B that refuses the token (B sends one per event-loop turn).',
    `- **req/s**: wrk, median [min–max] over the rounds. **Latency**: raw p50/p99 from autocannon (HdrHistogram, 1 ms resolution, ${settings.latencySeconds} s after the wrk run, ${settings.latencyRounds} round${settings.latencyRounds > 1 ? 's' : ''}); wrk's own percentiles are coordinated-omission corrected (peer-baseline.md §3) and listed separately.`,
    '- **Node CPU µs/req**: utime+stime of the server process (`/proc/PID/stat`) over the wrk window ÷ requests; median over rounds. It is the steadiest figure on this noisy VM.',
    "- **Redis commands/req**: `INFO commandstats` delta ÷ requests; commands run inside sessionkit's Lua scripts are counted too. **Round trips/req**: commands the client sent (each `EVALSHA` is one round trip whatever it runs; for the peers every command is one). No server pipelines within a request, so these are sequential round trips.",
    '',
  )

  // --- main table ------------------------------------------------------------------------------------------------
  push(
    '## Throughput, latency, CPU and Redis per server and route',
    '',
    '| server | route | req/s median [min–max] | raw p50 / p99 ms | wrk p50 / p99 ms (CO-corr.) | Node CPU µs/req | Redis cmds/req | round trips/req | commands per request |',
    '|---|---|---|---|---|---|---|---|---|',
  )
  for (const route of results.routes) {
    for (const server of results.servers) {
      const c = get(server.id, route.id)
      if (!c) continue
      const commands = Object.entries(c.byCommand)
        .sort((a, b) => b[1] - a[1])
        .map(([name, n]) => `${name} ${fmt(n, 2)}`)
        .join(', ')
      push(
        `| ${server.label} | ${route.id} | **${fmt(c.rps)}** [${fmt(c.rpsMin)}–${fmt(c.rpsMax)}] | ${fmt(c.rawP50)} / ${fmt(c.rawP99)} | ${fmt(c.wrkP50, 2)} / ${fmt(c.wrkP99, 2)} | ${fmt(c.cpu)} | ${fmt(c.commands, 2)} | ${fmt(c.roundTrips, 2)} | ${commands || '–'}${c.failures > 0 ? ` (**${c.failures} errors/non-2xx**)` : ''} |`,
      )
    }
  }
  push('')

  push(
    '## Ratios of sessionkit',
    '',
    '| route | sessionkit server | vs | req/s ratio (medians) | per-round req/s ratios | Node CPU/req ratio (theirs ÷ ours) | target |',
    '|---|---|---|---|---|---|---|',
  )
  for (const r of all) {
    push(
      `| ${r.route} | ${r.mineLabel} | ${r.versusLabel} | **${x(r.rps)}** | ${x(r.roundMin)}–${x(r.roundMax)} | ${x(r.cpu)} | ${r.target === undefined ? '' : `≥ ${r.target}× ${pass(r.rps >= r.target)}`} |`,
    )
  }
  push('')
  renderNearCache(results, table, push)

  if (micro) renderMicro(results, push)
  renderProfiles(results, push)

  push(
    '## Caveats',
    '',
    '- This VM swings ±30–50 % between runs (peer-baseline.md §3): compare medians and the CPU/request column rather than single runs. Ratios are only meaningful within one run.',
    '- The bare Fastify rows are near what one wrk thread on CPU1 can generate (it shares that core with Redis), so they may understate the framework (and overstate the ratio of sessionkit to it).',
    '- All connections share one session, so concurrent `/write`s race on one key (last writer wins) in every library, as in the baseline.',
    '- sessionkit touches (slides the TTL, records last-seen) at most once a minute, so a read in the measured window is one `EVALSHA` of `load`; the touching load (first request of a minute) is in the scale section.',
    '',
  )
  return lines.join('\n')
}

function renderNearCache(results: BenchResults, table: Cells, push: (...more: string[]) => void): void {
  const near = results.servers.filter((s) => s.kind === 'near')
  if (near.length === 0 && !results.revocation) return
  push(
    '## Near cache',
    '',
    'Reads served from the process\'s memory between touches, kept honest by Redis client tracking (README, "Near cache"). Ratios of median req/s; CPU is Node µs per request.',
    '',
    '| server | req/s | Node CPU µs/req | Redis commands per read | vs bare | vs floor | vs plain sessionkit |',
    '|---|---|---|---|---|---|---|',
  )
  for (const server of near) {
    const c = table.get(keyOf(server.id, 'read'))
    if (!c) continue
    const versus = (kind: string): string => {
      const other = results.servers.find((s) => s.framework === server.framework && s.kind === kind)
      const o = other && table.get(keyOf(other.id, 'read'))
      return o ? `${x(c.rps / o.rps)} (CPU ${x(o.cpu / c.cpu)})` : '–'
    }
    const commands = Object.entries(c.byCommand)
      .sort((a, b) => b[1] - a[1])
      .map(([name, n]) => `${name} ${fmt(n, 4)}`)
      .join(', ')
    push(
      `| ${server.label} | **${fmt(c.rps)}** | ${fmt(c.cpu)} | ${fmt(c.commands, 4)}${commands ? ` (${commands})` : ''} | ${versus('bare')} | ${versus('floor')} | ${versus('sessionkit')} |`,
    )
  }
  const r = results.revocation
  if (r) {
    push(
      '',
      `**Revocation delay** (A's \`revokeSession()\` resolved → B refuses the token), ${fmt(r.trials)} trials: p50 **${fmt(r.p50Ms, 3)} ms**, p99 **${fmt(r.p99Ms, 3)} ms**, max ${fmt(r.maxMs, 3)} ms; B refused at its very first request after the revocation resolved in ${fmt(r.refusedAtOnce)} of ${fmt(r.trials)} trials. B served the session from memory before every revocation: ${r.cachedBeforeEveryRevocation ? 'yes' : '**no**'}.`,
    )
  }
  const m = results.micro?.nearCache
  if (m) {
    push(
      '',
      `**Memory per entry**: ${fmt(m.heapBytesPerEntry)} bytes of V8 heap per cached session (heap delta between two full collections over ${fmt(m.entries)} cached sessions holding the 211-byte app data, device and IP).`,
    )
  }
  push('')
}

function renderMicro(results: BenchResults, push: (...more: string[]) => void): void {
  const micro = results.micro!
  push(
    '## Micro-figures',
    '',
    "### Listing a user's sessions",
    '',
    "In-process `kit.listSessions(userId)` against the same Redis (the caller on CPU0), sessions seeded in the store's layout.",
    '',
    '| sessions of the user | calls | p50 ms | p99 ms | round trips per call | sessions returned |',
    '|---|---|---|---|---|---|',
  )
  for (const row of micro.list) {
    push(
      `| ${fmt(row.sessions)} | ${fmt(row.timing.n)} | ${fmt(row.timing.p50Ms, 3)} | ${fmt(row.timing.p99Ms, 3)} | ${fmt(row.timing.roundTrips, 2)} | ${fmt(row.returned)} |`,
    )
  }
  const m = micro.memory
  push(
    '',
    '### Redis memory per session (same 211-byte app data)',
    '',
    `sessionkit sessions are made through the real path (\`openSession\` → \`set()\` the 7 keys → \`signIn()\`, so device, IP and index are included); connect-redis sessions through its \`set()\` with express-session's cookie metadata (the 286-byte value of peer-baseline.md §6). The main figure is the \`used_memory\` delta over the sign-ins divided by them: what Redis bills, the keyspace's own bookkeeping per key (dict and expires entries) included. MEMORY USAGE (\`SAMPLES 0\`, averaged over up to 500 keys; the index cost is the user's ZSET divided by its sessions) leaves that bookkeeping out, so it is the second figure.`,
    '',
    '| store | sign-ins | **used_memory Δ per session** | vs connect-redis | MEMORY USAGE: session | + index per session | = total | vs connect-redis (MEMORY USAGE) |',
    '|---|---|---|---|---|---|---|---|',
  )
  for (const [name, f] of [
    ['sessionkit, 1 session per user', m.sessionkit1],
    ['sessionkit, 10 sessions per user', m.sessionkit10],
    ['express-session + connect-redis', m.connectRedis],
  ] as const) {
    const total = f.dataUsage + f.indexUsagePerSession
    push(
      `| ${name} | ${fmt(f.sessions)} | **${fmt(f.usedPerSession)} B** | ${x(f.usedPerSession / m.connectRedis.usedPerSession)} | ${fmt(f.dataUsage)} B | ${fmt(f.indexUsagePerSession)} B | ${fmt(total)} B | ${x(total / (m.connectRedis.dataUsage + m.connectRedis.indexUsagePerSession))} |`,
    )
  }
  push(
    '',
    `Fields of a sessionkit session: \`${m.sessionkitFields.join('`, `')}\`. The seeder used below writes exactly these (checked in the run: ${m.layoutMatches ? '**same field names as a real sign-in**' : '**MISMATCH with a real sign-in**'}).`,
    '',
  )
  const ua = micro.userAgent
  push(
    '### User-Agent parsing at sign-in',
    '',
    '| case | cost |',
    '|---|---|',
    `| first call in a fresh process (loads node-device-detector, then parses) | ${fmt(ua.firstCallMs, 1)} ms |`,
    `| warm detector, User-Agent not cached (${ua.distinct} distinct UAs) | p50 ${fmt(ua.warmMissP50Us)} µs, p99 ${fmt(ua.warmMissP99Us)} µs |`,
    `| cached User-Agent (LRU hit) | p50 ${fmt(ua.cachedP50Us, 1)} µs |`,
    '',
    "Adapters call `kit.warmUp()` at setup, so a server pays the first-call cost at boot, not on its first sign-in. The benchmark's sign-in route sends one User-Agent, so it measures the cached case.",
    '',
  )
  const s = micro.scale
  const quickNote = results.settings.quick
    ? ` **Quick mode: ${fmt(s.large.sessions)} sessions, not 1,000,000.**`
    : ''
  push(
    '## Scale',
    '',
    `${fmt(s.large.sessions)} sessions over ${fmt(s.large.users)} users (${fmt(s.large.sessions / s.large.users)} each) seeded straight into one Redis in ${fmt(s.seedSeconds, 1)} s (pipelined HSET + PEXPIREAT + ZADD in the layout of keys.ts/fields.ts), against 1,000 sessions over 100 users.${quickNote} Load = \`kit.openSession()\` from a cookie (the per-request path minus HTTP) over 1,000 sampled sessions; the first pass touches (first request of the minute: HSET last-seen, PEXPIREAT, ZADD), the second does not. List = \`kit.listSessions()\` of up to 1,000 distinct sampled users: each one's first listing (their keys cold in Redis and in the CPU caches), then again.`,
    '',
    '| figure | 1,000 sessions | ' + `${fmt(s.large.sessions)} sessions |`,
    '|---|---|---|',
    `| keys in Redis (DBSIZE) | ${fmt(s.small.dbsize)} | ${fmt(s.large.dbsize)} |`,
    `| used_memory Δ, total | ${fmt(s.small.usedMemoryBytes / 1048576, 1)} MiB | ${fmt(s.large.usedMemoryBytes / 1048576, 1)} MiB |`,
    `| used_memory Δ per session | ${fmt(s.small.usedPerSession)} B | ${fmt(s.large.usedPerSession)} B |`,
    `| MEMORY USAGE per session (hash + index share) | ${fmt(s.small.usagePerSession)} B | ${fmt(s.large.usagePerSession)} B |`,
    `| load, touching: p50 / p99 ms (round trips) | ${fmt(s.small.loadTouch.p50Ms, 3)} / ${fmt(s.small.loadTouch.p99Ms, 3)} (${fmt(s.small.loadTouch.roundTrips, 2)}) | ${fmt(s.large.loadTouch.p50Ms, 3)} / ${fmt(s.large.loadTouch.p99Ms, 3)} (${fmt(s.large.loadTouch.roundTrips, 2)}) |`,
    `| load: p50 / p99 ms (round trips) | ${fmt(s.small.load.p50Ms, 3)} / ${fmt(s.small.load.p99Ms, 3)} (${fmt(s.small.load.roundTrips, 2)}) | ${fmt(s.large.load.p50Ms, 3)} / ${fmt(s.large.load.p99Ms, 3)} (${fmt(s.large.load.roundTrips, 2)}) |`,
    `| list (10 sessions), each user's first: p50 / p99 ms (round trips) | ${fmt(s.small.listFirst.p50Ms, 3)} / ${fmt(s.small.listFirst.p99Ms, 3)} (${fmt(s.small.listFirst.roundTrips, 2)}) | ${fmt(s.large.listFirst.p50Ms, 3)} / ${fmt(s.large.listFirst.p99Ms, 3)} (${fmt(s.large.listFirst.roundTrips, 2)}) |`,
    `| list (10 sessions), again: p50 / p99 ms (round trips) | ${fmt(s.small.list.p50Ms, 3)} / ${fmt(s.small.list.p99Ms, 3)} (${fmt(s.small.list.roundTrips, 2)}) | ${fmt(s.large.list.p50Ms, 3)} / ${fmt(s.large.list.p99Ms, 3)} (${fmt(s.large.list.roundTrips, 2)}) |`,
    `| load p50 ratio (large ÷ small) | | ${x(s.large.load.p50Ms / s.small.load.p50Ms)} |`,
    `| list p50 ratio (large ÷ small), first / again | | ${x(s.large.listFirst.p50Ms / s.small.listFirst.p50Ms)} / ${x(s.large.list.p50Ms / s.small.list.p50Ms)} |`,
    '',
  )
}

function renderProfiles(results: BenchResults, push: (...more: string[]) => void): void {
  if (results.profiles.length === 0) return
  const label = (id: string): string => results.servers.find((s) => s.id === id)?.label ?? id
  push(
    '## Where the time goes (CPU profiles)',
    '',
    `\`node --cpu-prof\` of the server under the same load (${results.settings.profileSeconds} s after a warm-up), on its own run (the profiler was off for every figure above). Self time as a share of busy (non-idle) samples. The profiles are in \`bench/.work/profiles/\`.`,
    '',
  )
  for (const p of results.profiles) {
    push(
      `### ${label(p.server)}, ${p.route}`,
      '',
      `By module: ${p.summary.modules.map((m) => `${m.module} ${fmt(m.selfPct, 1)} %`).join(' · ')}`,
      '',
      '| self % | function | where |',
      '|---|---|---|',
    )
    for (const f of p.summary.top.slice(0, 12)) {
      push(`| ${fmt(f.selfPct, 1)} | \`${f.name}\` | ${f.where === '' ? f.module : `\`${f.where}\``} |`)
    }
    push('')
  }
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** A hand-written horizontal bar chart of the req/s ratios, with 1× and each target marked. */
export function renderSvg(results: BenchResults): string {
  const all = ratios(results)
  const rowH = 24
  const top = 56
  const left = 430
  const width = 980
  const plotW = width - left - 80
  const scaleMax = Math.max(2, Math.ceil(Math.max(...all.map((r) => Math.max(r.rps, r.target ?? 0))) * 2) / 2)
  const xOf = (v: number): number => left + (v / scaleMax) * plotW
  const height = top + all.length * rowH + 50
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="bold">sessionkit req/s ÷ other server's req/s (median of ${results.settings.rounds} rounds${results.settings.quick ? ', quick mode' : ''})</text>`,
    `<text x="16" y="42" fill="#555">Green: target met (or ≥ 1× where there is no target); red: below. Black tick: target. Dashed line: 1×.</text>`,
  ]
  for (let v = 0; v <= scaleMax + 1e-9; v += 0.5) {
    const xv = xOf(v)
    out.push(
      `<line x1="${xv}" y1="${top - 6}" x2="${xv}" y2="${top + all.length * rowH}" stroke="${v === 1 ? '#333' : '#e2e2e2'}" ${v === 1 ? 'stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${xv}" y="${top + all.length * rowH + 16}" text-anchor="middle" fill="#555">${v.toFixed(1)}×</text>`,
    )
  }
  all.forEach((r, i) => {
    const y = top + i * rowH
    const ok = r.target === undefined ? r.rps >= 1 : r.rps >= r.target
    const name = `${r.route} · ${r.mineLabel} vs ${r.versusLabel}`
    out.push(
      `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${escapeXml(name)}</text>`,
      `<rect x="${left}" y="${y + 4}" width="${Math.max(1, xOf(r.rps) - left).toFixed(1)}" height="${rowH - 8}" fill="${ok ? '#3a9d5d' : '#d0473c'}"/>`,
      `<text x="${(xOf(r.rps) + 6).toFixed(1)}" y="${y + 15}">${r.rps.toFixed(2)}×</text>`,
    )
    if (r.target !== undefined) {
      const tx = xOf(r.target).toFixed(1)
      out.push(
        `<line x1="${tx}" y1="${y + 1}" x2="${tx}" y2="${y + rowH - 1}" stroke="#000" stroke-width="2"/>`,
      )
    }
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}
