/**
 * Helpers of the CLI tests: real sessions created through the library on the private Redis and Cluster of the
 * run, and the CLI spawned as a real process.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { inject } from 'vitest'
import { createSessionkit, type HttpContext, type Sessionkit } from '../../src/index.js'
import type { Session, SignInOptions } from '../../src/index.js'
import { connect, resolveTarget, type Connection } from '../../src/cli/connect.js'

export const USER_AGENTS = {
  chromeWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  safariIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  chromeAndroidTablet:
    'Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
} as const

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** One Redis deployment the CLI must work on the same way. */
export interface Deployment {
  readonly name: 'single' | 'cluster'
  /** The connection flags that point the CLI at it. */
  readonly flags: readonly string[]
}

export function deployments(): Deployment[] {
  return [
    { name: 'single', flags: ['--redis', inject('redisUrl')] },
    { name: 'cluster', flags: ['--cluster', inject('clusterAddresses').join(',')] },
  ]
}

/** A fresh key prefix, so tests never see each other's keys. */
export function uniquePrefix(): string {
  return `cli${randomBytes(4).toString('hex')}:`
}

export function connectionOptions(
  deployment: Deployment,
  prefix: string,
): { redis?: string; cluster?: string; prefix: string } {
  const [flag, value] = deployment.flags
  return flag === '--cluster' ? { cluster: value, prefix } : { redis: value, prefix }
}

/** Connects the way the CLI does. */
export function connectTo(deployment: Deployment, prefix: string): Promise<Connection> {
  return connect(resolveTarget(connectionOptions(deployment, prefix), {}))
}

/** A kit on the same store, to create real sessions the way an app does. */
export function appKit(connection: Connection, maxSessionsPerUser?: number): Sessionkit {
  return createSessionkit({ store: connection.store, cookie: { secure: false }, maxSessionsPerUser })
}

function binding(userAgent: string, ipAddress: string): HttpContext {
  return {
    cookieHeader: undefined,
    userAgent,
    ipAddress,
    headersSent: () => false,
    setCookie() {
      // The tests only need the session's private id.
    },
  }
}

/** Signs a user in from a fresh browser; `write` then runs on the signed-in session. Returns the private id. */
export async function signIn(
  kit: Sessionkit,
  userId: string,
  userAgent: string,
  ipAddress: string,
  write?: (session: Session) => void,
  options?: SignInOptions,
): Promise<string> {
  const session = await kit.openSession(binding(userAgent, ipAddress))
  await session.signIn(userId, options)
  write?.(session)
  await session.commit()
  if (session.id === undefined) throw new Error('sign-in created no session')
  return session.id
}

/** An anonymous visitor's session holding `cart`. Returns the private id. */
export async function anonymousSession(kit: Sessionkit, cart: string[]): Promise<string> {
  const session = await kit.openSession(binding(USER_AGENTS.firefoxLinux, '198.51.100.9'))
  session.set('cart', cart)
  await session.commit()
  if (session.id === undefined) throw new Error('no anonymous session was created')
  return session.id
}

export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** Runs the CLI from source as a real process. */
export function runCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<CliRun> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=sessionkit-source', 'src/cli/main.ts', ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, REDIS_URL: undefined, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.once('error', reject)
    child.once('close', (code) => {
      resolve({ code, stdout, stderr, ms: Date.now() - started })
    })
  })
}

/** The run's private single Redis. */
export function singleRedisUrl(): string {
  return inject('redisUrl')
}
