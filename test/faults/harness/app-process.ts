/** Starts the fault app (./app.ts) in a child process and talks to its side doors (heap, ping). */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomPrefix } from '../../helpers/backends.js'
import { send } from './http.js'

export type Framework = 'express5' | 'fastify'
export type ClientKind =
  | 'node-redis'
  | 'ioredis'
  | 'node-redis-sentinel'
  | 'ioredis-sentinel'
  | 'node-redis-cluster'
  | 'ioredis-cluster'

export interface AppTarget {
  readonly url?: string
  readonly sentinels?: readonly { host: string; port: number }[]
  readonly name?: string
  readonly nodes?: readonly { host: string; port: number }[]
}

/**
 * RedisStore options the app is started with. `maxInFlight`, `circuitBreaker` and `waitForReplicas` are the
 * options issue 9 adds; a store that does not know them yet ignores them.
 */
export interface FaultStoreOptions {
  readonly timeoutMs: number
  readonly maxInFlight?: number
  readonly circuitBreaker?: { failures?: number; cooldownMs?: number } | false
  readonly waitForReplicas?: { replicas: number; timeoutMs: number }
}

export interface AppSpec {
  readonly framework: Framework
  readonly client: ClientKind
  readonly target: AppTarget
  readonly store: FaultStoreOptions
}

export interface Memory {
  readonly heapUsed: number
  readonly external: number
  readonly rss: number
}

export interface AppProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Everything the app printed. */
  log(): string
  /** True while the process runs. */
  alive(): boolean
  /** Heap and external memory after a full GC. */
  memory(): Promise<Memory>
  stop(): Promise<void>
}

export async function startApp(spec: AppSpec): Promise<AppProcess> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--conditions=sessionkit-source', 'test/faults/harness/app.ts'],
    {
      env: {
        ...process.env,
        FRAMEWORK: spec.framework,
        CLIENT: spec.client,
        TARGET: JSON.stringify(spec.target),
        STORE_OPTIONS: JSON.stringify(spec.store),
        PREFIX: randomPrefix(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /listening on (http:\/\/[\d.:]+)/.exec(output)
      if (match?.[1]) resolve(match[1])
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code, signal) => {
      reject(new Error(`fault app exited (${String(code ?? signal)}): ${output}`))
    })
  })
  const alive = (): boolean => child.exitCode === null && child.signalCode === null
  return {
    url,
    child,
    log: () => output,
    alive,
    async memory() {
      const reply = await send(url, 'GET', '/__heap', undefined, 30_000)
      return reply.body as Memory
    },
    async stop() {
      if (!alive()) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGKILL')
      await exited
    },
  }
}
