/**
 * `npm run bench [-- --quick]`: sessionkit against express-session and @fastify/session (both over
 * connect-redis) and the bare frameworks, on this machine, then micro-figures and a scale test. Writes
 * docs/benchmarks.md and docs/benchmarks-ratios.svg; raw results go to bench/.work/.
 *
 * Method (peer-baseline.md §3): the server has CPU0 to itself; Redis and the load generator share CPU1. Rounds
 * are interleaved (every server once per round, rotating the order), each server is warmed up before it is
 * measured, and all connections share one session cookie (logged in once per round).
 */
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, release } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { hasWrk, runAutocannon, runWrk, type LoadSpec } from './lib/load.js'
import { cpuMicros, run, sleep, spawnPinned, waitForOutput, type Pinned } from './lib/proc.js'
import { summarizeProfile } from './lib/profile.js'
import {
  command,
  commandDelta,
  commandStats,
  redisVersion,
  startRedis,
  type BenchRedis,
} from './lib/redis.js'
import { renderReport, renderSvg } from './lib/report.js'
import type {
  BenchResults,
  Machine,
  ProfileRun,
  RouteSpec,
  Sample,
  ServerConfig,
  Settings,
} from './lib/types.js'
import type { MicroResult } from './micro.js'
import type { RevocationResult } from './revocation.js'
import { USER_AGENT } from './servers/common.js'

const SERVER_CPU = 0
const SIDE_CPU = 1
const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const work = join(root, 'bench', '.work')
const jsDir = join(work, 'js')
const quick = process.argv.includes('--quick')
const skipBuild = process.argv.includes('--no-build')

const settings: Settings = quick
  ? {
      quick,
      command: 'npm run bench -- --quick',
      rounds: 2,
      warmSeconds: 1,
      measureSeconds: 1,
      latencySeconds: 1,
      latencyRounds: 1,
      connections: 50,
      profileSeconds: 2,
      scaleSessions: 50_000,
      scaleUsers: 5_000,
      loadGenerator: 'wrk',
    }
  : {
      quick,
      command: 'npm run bench',
      rounds: 3,
      warmSeconds: 2,
      measureSeconds: 8,
      latencySeconds: 2,
      latencyRounds: 3,
      connections: 50,
      profileSeconds: 5,
      scaleSessions: 1_000_000,
      scaleUsers: 100_000,
      loadGenerator: 'wrk',
    }

const SERVERS: ServerConfig[] = [
  { id: 'express-bare', label: 'bare Express 5', framework: 'express', kind: 'bare', file: 'express-bare' },
  {
    id: 'express-floor',
    label: 'bare Express 5 + plain node-redis GET/SET (floor)',
    framework: 'express',
    kind: 'floor',
    file: 'express-redis-floor',
  },
  {
    id: 'express-session',
    label: 'express-session + connect-redis',
    framework: 'express',
    kind: 'peer',
    file: 'express-session',
  },
  {
    id: 'express-sessionkit',
    label: 'sessionkit (Express)',
    framework: 'express',
    kind: 'sessionkit',
    file: 'express-sessionkit',
  },
  {
    id: 'express-sessionkit-compat',
    label: "sessionkit (Express), api: 'express-session' + passport",
    framework: 'express',
    kind: 'compat',
    file: 'express-sessionkit-compat',
  },
  {
    id: 'express-sessionkit-near',
    label: 'sessionkit (Express), near cache',
    framework: 'express',
    kind: 'near',
    file: 'express-sessionkit',
    env: { NEAR_CACHE: '1' },
    routes: ['read'],
  },
  { id: 'fastify-bare', label: 'bare Fastify 5', framework: 'fastify', kind: 'bare', file: 'fastify-bare' },
  {
    id: 'fastify-floor',
    label: 'bare Fastify 5 + plain node-redis GET/SET (floor)',
    framework: 'fastify',
    kind: 'floor',
    file: 'fastify-redis-floor',
  },
  {
    id: 'fastify-session-rolling',
    label: '@fastify/session + connect-redis, rolling: true',
    framework: 'fastify',
    kind: 'peer',
    file: 'fastify-session',
    env: { ROLLING: 'true' },
  },
  {
    id: 'fastify-session-fixed',
    label: '@fastify/session + connect-redis, rolling: false',
    framework: 'fastify',
    kind: 'peer',
    file: 'fastify-session',
    env: { ROLLING: 'false' },
  },
  {
    id: 'fastify-sessionkit',
    label: 'sessionkit (Fastify)',
    framework: 'fastify',
    kind: 'sessionkit',
    file: 'fastify-sessionkit',
  },
  {
    id: 'fastify-sessionkit-compat',
    label: "sessionkit (Fastify), api: '@fastify/session' + @fastify/passport",
    framework: 'fastify',
    kind: 'compat',
    file: 'fastify-sessionkit-compat',
  },
  {
    id: 'fastify-sessionkit-near',
    label: 'sessionkit (Fastify), near cache',
    framework: 'fastify',
    kind: 'near',
    file: 'fastify-sessionkit',
    env: { NEAR_CACHE: '1' },
    routes: ['read'],
  },
]

const ROUTES: RouteSpec[] = [
  { id: 'read', label: 'read-only (GET /read)', path: '/read', method: 'GET', withCookie: true },
  { id: 'write', label: 'changes one key (GET /write)', path: '/write', method: 'GET', withCookie: true },
  {
    id: 'signin',
    label: 'sign-in (POST /signin, new user)',
    path: '/signin',
    method: 'POST',
    withCookie: false,
  },
]

function log(message: string): void {
  const t = ((performance.now() - started) / 1000).toFixed(0).padStart(4)
  console.log(`[${t}s] ${message}`)
}
const started = performance.now()

/** Servers run as plain JavaScript (no loader in the profile), importing sessionkit from dist/. */
function transpileServers(): void {
  rmSync(jsDir, { recursive: true, force: true })
  const src = join(root, 'bench', 'servers')
  mkdirSync(join(jsDir, 'servers'), { recursive: true })
  for (const file of readdirSync(src).filter((f) => f.endsWith('.ts'))) {
    const out = ts.transpileModule(readFileSync(join(src, file), 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2023,
        verbatimModuleSyntax: true,
      },
      fileName: file,
    })
    writeFileSync(join(jsDir, 'servers', file.replace(/\.ts$/, '.js')), out.outputText)
  }
}

async function machine(redis: BenchRedis): Promise<Machine> {
  const wrkVersion = await run('wrk', ['--version']).catch((error: unknown) => String(error))
  return {
    // --all: the orchestrator itself runs pinned to one CPU.
    nproc: Number((await run('nproc', ['--all'])).trim()),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    redis: await redisVersion(redis.client),
    wrk: /\bwrk (?:debian\/)?(\d[^\s[]*)/.exec(wrkVersion)?.[1] ?? 'unknown',
    kernel: release(),
    date: new Date().toISOString(),
  }
}

async function startServer(
  config: ServerConfig,
  redis: BenchRedis,
  port: number,
  extraArgs: string[] = [],
): Promise<Pinned> {
  const proc = spawnPinned(
    SERVER_CPU,
    process.execPath,
    [...extraArgs, join(jsDir, 'servers', `${config.file}.js`)],
    {
      cwd: root,
      env: {
        ...process.env,
        ...config.env,
        PORT: String(port),
        REDIS_URL: redis.url,
        NODE_ENV: 'production',
      },
    },
  )
  await waitForOutput(proc, 'listening')
  return proc
}

/** Logs in once and returns the session cookie (`name=value`), checking that the session reads back. */
async function login(config: ServerConfig, base: string): Promise<string | undefined> {
  const response = await fetch(`${base}/login`, { method: 'POST', headers: { 'user-agent': USER_AGENT } })
  if (response.status !== 200) throw new Error(`${config.id}: POST /login answered ${response.status}`)
  await response.arrayBuffer()
  if (config.kind === 'bare' || config.kind === 'floor') return undefined
  const setCookie = response.headers.getSetCookie()
  const cookie = setCookie.map((c) => c.split(';')[0]!).find((c) => !c.endsWith('='))
  if (!cookie) throw new Error(`${config.id}: no session cookie after /login`)
  const check = await fetch(`${base}/read`, { headers: { cookie, 'user-agent': USER_AGENT } })
  const body = (await check.json()) as { user: unknown }
  if (body.user === null)
    throw new Error(`${config.id}: the session did not read back: ${JSON.stringify(body)}`)
  return cookie
}

function loadSpec(base: string, route: RouteSpec, cookie: string | undefined, seconds: number): LoadSpec {
  const headers: Record<string, string> = { 'User-Agent': USER_AGENT }
  if (route.withCookie && cookie) headers.Cookie = cookie
  return {
    url: `${base}${route.path}`,
    method: route.method,
    headers,
    uniqueUser: route.id === 'signin',
    connections: settings.connections,
    seconds,
  }
}

/** A port the OS says is free right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo
      probe.close(() => {
        resolve(port)
      })
    })
  })
}

/** Starts a server on a free port and logs in; retries (a port can be taken between the probe and the listen). */
async function startAndLogin(
  config: ServerConfig,
  redis: BenchRedis,
): Promise<{ server: Pinned; base: string; cookie: string | undefined }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const server = await startServer(config, redis, port)
    const base = `http://127.0.0.1:${port}`
    try {
      return { server, base, cookie: await login(config, base) }
    } catch (error) {
      await server.stop()
      if (attempt >= 3) throw error
      log(`${config.id}: login failed (${String(error)}), restarting the server`)
    }
  }
}

async function measureServer(config: ServerConfig, redis: BenchRedis, round: number): Promise<Sample[]> {
  await command(redis.client, ['FLUSHALL'])
  const { server, base, cookie } = await startAndLogin(config, redis)
  const samples: Sample[] = []
  try {
    for (const route of ROUTES.filter((r) => config.routes?.includes(r.id) ?? true)) {
      await runWrk(work, loadSpec(base, route, cookie, settings.warmSeconds), SIDE_CPU)
      const spec = loadSpec(base, route, cookie, settings.measureSeconds)
      const cpuBefore = cpuMicros(server.pid)
      const statsBefore = await commandStats(redis.client)
      const wrk = await runWrk(work, spec, SIDE_CPU)
      const cpuAfter = cpuMicros(server.pid)
      const delta = commandDelta(statsBefore, await commandStats(redis.client))
      const raw =
        round >= settings.rounds - settings.latencyRounds
          ? await runAutocannon({ ...spec, seconds: settings.latencySeconds })
          : undefined
      const sample: Sample = {
        round,
        server: config.id,
        route: route.id,
        rps: wrk.rps,
        requests: wrk.requests,
        wrkP50Ms: wrk.p50Ms,
        wrkP99Ms: wrk.p99Ms,
        cpuUsPerReq: (cpuAfter - cpuBefore) / wrk.requests,
        commandsPerReq: delta.commands / wrk.requests,
        roundTripsPerReq: delta.roundTrips / wrk.requests,
        byCommand: delta.byCommand,
        errors: wrk.errors,
        non2xx: wrk.non2xx,
        raw,
      }
      samples.push(sample)
      log(
        `round ${round + 1} ${config.id.padEnd(26)} ${route.id.padEnd(6)} ${wrk.rps.toFixed(0).padStart(6)} req/s  ` +
          `${sample.cpuUsPerReq.toFixed(0).padStart(4)} µs CPU/req  ${sample.roundTripsPerReq.toFixed(2)} RT/req` +
          (raw ? `  raw p50/p99 ${raw.p50Ms}/${raw.p99Ms} ms` : '') +
          (wrk.non2xx + wrk.errors > 0 ? `  !! non2xx ${wrk.non2xx} errors ${wrk.errors}` : ''),
      )
    }
  } finally {
    await server.stop()
  }
  return samples
}

async function runMicro(redis: BenchRedis): Promise<MicroResult> {
  const args = JSON.stringify({
    redisUrl: redis.url,
    port: redis.port,
    quick,
    scaleSessions: settings.scaleSessions,
    scaleUsers: settings.scaleUsers,
  })
  const proc = spawnPinned(
    SERVER_CPU,
    process.execPath,
    // --expose-gc: the near cache's memory per entry is a heap delta between two collections.
    [
      '--expose-gc',
      '--import',
      'tsx',
      '--conditions=sessionkit-source',
      join(root, 'bench', 'micro.ts'),
      args,
    ],
    { cwd: root },
  )
  await new Promise((resolve) => proc.child.once('exit', resolve))
  const line = proc
    .output()
    .split('\n')
    .find((l) => l.startsWith('RESULT '))
  if (!line) throw new Error(`micro-benchmarks failed:\n${proc.output()}`)
  return JSON.parse(line.slice('RESULT '.length)) as MicroResult
}

/** The revocation delay with the near cache (bench/revocation.ts), in its own process on the server core. */
async function runRevocation(redis: BenchRedis): Promise<RevocationResult> {
  const args = JSON.stringify({ redisUrl: redis.url, trials: 1000 })
  const proc = spawnPinned(
    SERVER_CPU,
    process.execPath,
    ['--import', 'tsx', '--conditions=sessionkit-source', join(root, 'bench', 'revocation.ts'), args],
    { cwd: root },
  )
  await new Promise((resolve) => proc.child.once('exit', resolve))
  const line = proc
    .output()
    .split('\n')
    .find((l) => l.startsWith('RESULT '))
  if (!line) throw new Error(`revocation delay failed:\n${proc.output()}`)
  return JSON.parse(line.slice('RESULT '.length)) as RevocationResult
}

async function profileServer(config: ServerConfig, route: RouteSpec, redis: BenchRedis): Promise<ProfileRun> {
  await command(redis.client, ['FLUSHALL'])
  const dir = join(work, 'profiles', `${config.id}-${route.id}`)
  rmSync(dir, { recursive: true, force: true })
  const port = 20_000 + Math.floor(Math.random() * 20_000)
  const server = await startServer(config, redis, port, ['--cpu-prof', '--cpu-prof-dir', dir])
  const base = `http://127.0.0.1:${port}`
  try {
    const cookie = await login(config, base)
    await runWrk(work, loadSpec(base, route, cookie, settings.warmSeconds), SIDE_CPU)
    await runWrk(work, loadSpec(base, route, cookie, settings.profileSeconds), SIDE_CPU)
  } finally {
    await server.stop(10_000)
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
  if (!file) throw new Error(`no CPU profile written for ${config.id}`)
  log(`profiled ${config.id} ${route.id}: ${relative(root, join(dir, file))}`)
  return { server: config.id, route: route.id, summary: summarizeProfile(join(dir, file)) }
}

async function main(): Promise<void> {
  mkdirSync(work, { recursive: true })
  // The orchestrator (and the autocannon it runs) stays off the server core.
  await run('taskset', ['-a', '-p', '-c', String(SIDE_CPU), String(process.pid)])
  if (!(await hasWrk())) throw new Error('wrk is required (apt-get install -y wrk)')
  if (!skipBuild) {
    log('building sessionkit (npm run build) so the servers run dist/')
    await run('npm', ['run', 'build'], { cwd: root })
  }
  transpileServers()
  const redis = await startRedis(SIDE_CPU, join(work, 'redis'))
  log(`redis-server on port ${redis.port} (CPU${SIDE_CPU}); servers on CPU${SERVER_CPU}`)
  const stopRedis = (): void => {
    redis.proc.child.kill('SIGKILL')
  }
  process.once('exit', stopRedis)
  try {
    const samples: Sample[] = []
    for (let round = 0; round < settings.rounds; round++) {
      for (let i = 0; i < SERVERS.length; i++) {
        const config = SERVERS[(i + round * 3) % SERVERS.length]!
        samples.push(...(await measureServer(config, redis, round)))
        await sleep(200)
      }
    }
    log('micro-figures and scale test')
    const micro = await runMicro(redis)
    log('revocation delay with the near cache (1,000 trials)')
    await command(redis.client, ['FLUSHALL'])
    const revocation = await runRevocation(redis)
    log(
      `revocation delay p50 ${revocation.p50Ms.toFixed(3)} ms, p99 ${revocation.p99Ms.toFixed(3)} ms, max ${revocation.maxMs.toFixed(3)} ms`,
    )
    log('CPU profiles of sessionkit')
    const profiles: ProfileRun[] = []
    // Quick mode keeps to its 3-minute budget with one profile; the full run profiles both routes of each.
    const profiled = quick
      ? ['express-sessionkit']
      : [
          'express-sessionkit',
          'fastify-sessionkit',
          'express-sessionkit-near',
          'express-session',
          'fastify-session-fixed',
        ]
    for (const id of profiled) {
      const config = SERVERS.find((s) => s.id === id)!
      const routes = id.endsWith('sessionkit') && !quick ? ROUTES.slice(0, 2) : ROUTES.slice(0, 1)
      for (const route of routes) profiles.push(await profileServer(config, route, redis))
    }
    const results: BenchResults = {
      settings,
      machine: await machine(redis),
      servers: SERVERS,
      routes: ROUTES,
      samples,
      micro,
      revocation,
      profiles,
      durationSeconds: (performance.now() - started) / 1000,
    }
    writeFileSync(join(work, `results-${quick ? 'quick' : 'full'}.json`), JSON.stringify(results, null, 2))
    mkdirSync(join(root, 'docs'), { recursive: true })
    writeFileSync(join(root, 'docs', 'benchmarks.md'), renderReport(results))
    writeFileSync(join(root, 'docs', 'benchmarks-ratios.svg'), renderSvg(results))
    await run(
      process.execPath,
      [join(root, 'node_modules', 'prettier', 'bin', 'prettier.cjs'), '--write', 'docs/benchmarks.md'],
      {
        cwd: root,
      },
    )
    log(`done in ${results.durationSeconds.toFixed(0)} s: docs/benchmarks.md, docs/benchmarks-ratios.svg`)
  } finally {
    await redis.stop()
    process.off('exit', stopRedis)
  }
}

await main()
