/** Load generators: wrk (throughput; its percentiles are CO-corrected) and autocannon (raw percentiles). */
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { run } from './proc.js'

export interface LoadSpec {
  readonly url: string
  readonly method: 'GET' | 'POST'
  /** Headers sent with every request (Cookie, User-Agent). */
  readonly headers: Record<string, string>
  /** Give each request a fresh user id: `?u=<random>` is appended to the path. */
  readonly uniqueUser: boolean
  readonly connections: number
  readonly seconds: number
}

export interface WrkResult {
  readonly requests: number
  readonly seconds: number
  readonly rps: number
  /** wrk's printed percentiles (coordinated-omission corrected, see peer-baseline.md §3), ms. */
  readonly p50Ms: number
  readonly p99Ms: number
  readonly errors: number
  readonly non2xx: number
}

export interface RawLatency {
  readonly rps: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly errors: number
  readonly non2xx: number
}

export function hasWrk(): Promise<boolean> {
  return run('wrk', ['--version']).then(
    () => true,
    (error: unknown) => String(error).includes('wrk '),
  )
}

/** Writes the wrk Lua script for a spec and returns its path. */
function wrkScript(dir: string, spec: LoadSpec): string {
  const path = join(dir, `wrk-${spec.method}-${spec.uniqueUser ? 'unique' : 'fixed'}.lua`)
  const target = new URL(spec.url)
  const lines = [
    `wrk.method = "${spec.method}"`,
    'local counter = 0',
    'local tag = tostring(math.random(1, 1000000000))',
    'request = function()',
    '  counter = counter + 1',
    spec.uniqueUser
      ? `  return wrk.format(nil, "${target.pathname}?u=w" .. tag .. "-" .. counter)`
      : `  return wrk.format(nil, "${target.pathname}")`,
    'end',
  ]
  writeFileSync(path, lines.join('\n') + '\n')
  return path
}

function toMs(value: string, unit: string): number {
  const n = Number(value)
  if (unit === 'us') return n / 1000
  if (unit === 's') return n * 1000
  if (unit === 'm') return n * 60_000
  return n
}

export async function runWrk(dir: string, spec: LoadSpec, cpu: number): Promise<WrkResult> {
  const args = ['-c', String(cpu), 'wrk', '-t1', `-c${spec.connections}`, `-d${spec.seconds}s`, '--latency']
  for (const [name, value] of Object.entries(spec.headers)) args.push('-H', `${name}: ${value}`)
  args.push('-s', wrkScript(dir, spec), spec.url)
  const out = await run('taskset', args)
  const requests = Number(/(\d+) requests in ([\d.]+)(\w+)/.exec(out)?.[1] ?? Number.NaN)
  const secondsMatch = /\d+ requests in ([\d.]+)(\w+)/.exec(out)
  const seconds = secondsMatch ? toMs(secondsMatch[1]!, secondsMatch[2]!) / 1000 : Number.NaN
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)`, 'm').exec(out)
    return m ? toMs(m[1]!, m[2]!) : Number.NaN
  }
  const errorsMatch = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const errors = errorsMatch ? errorsMatch.slice(1).reduce((a, b) => a + Number(b), 0) : 0
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
  return {
    requests,
    seconds,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN),
    p50Ms: pct('50'),
    p99Ms: pct('99'),
    errors,
    non2xx,
  }
}

interface AutocannonResult {
  requests: { average: number; total: number }
  latency: { p50: number; p99: number }
  errors: number
  non2xx: number
}

type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>

const require = createRequire(import.meta.url)

/**
 * autocannon, in this (CPU1-pinned) process: raw HdrHistogram percentiles at 1 ms resolution. In-process because
 * its CLI cannot take the `[<id>]` placeholder that gives each sign-in a new user.
 */
export async function runAutocannon(spec: LoadSpec): Promise<RawLatency> {
  const autocannon = require('autocannon') as Autocannon
  const result = await autocannon({
    url: spec.uniqueUser ? `${spec.url}?u=a[<id>]` : spec.url,
    method: spec.method,
    headers: spec.headers,
    connections: spec.connections,
    duration: spec.seconds,
    idReplacement: spec.uniqueUser,
  })
  return {
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  }
}
