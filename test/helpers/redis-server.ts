/**
 * Starts private `redis-server` processes on free loopback ports, so tests can kill, pause and cluster them
 * without ever touching the shared Redis on 6379. Every process is killed when the test process exits, also
 * after a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisProcess {
  readonly port: number
  readonly url: string
  readonly child: ChildProcess
  /** The server's working directory (AOF and cluster config files live here). */
  readonly dir: string
  /** Stops the server (SIGKILL) and removes its directory (unless it was given with `options.dir`). */
  stop(): Promise<void>
  /** Kills the server (SIGKILL) and keeps its directory, so a restart with `options.dir` finds its AOF. */
  kill(): Promise<void>
}

export interface StartRedisOptions {
  /**
   * Working directory to use (and keep): a restart on the same `dir` and port reloads the AOF a killed server
   * left. Default: a fresh temporary directory, removed by `stop()`.
   */
  readonly dir?: string
}

const running = new Set<RedisProcess>()
process.on('exit', () => {
  for (const server of running) server.child.kill('SIGKILL')
})

/** A port that is free, whose cluster bus port (+10000) is free too. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 20000)
    if ((await isFree(port)) && (await isFree(port + 10000))) return port
  }
  throw new Error('no free port found')
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => {
      resolve(false)
    })
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(true)
      })
    })
  })
}

/** Starts a redis-server (on `fixedPort`, or a free port) and waits until it answers PING. */
export async function startRedis(
  extraArgs: readonly string[] = [],
  fixedPort?: number,
  options: StartRedisOptions = {},
): Promise<RedisProcess> {
  for (let attempt = 0; ; attempt++) {
    const port = fixedPort ?? (await freePort())
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'sessionkit-redis-'))
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        ...extraArgs,
      ],
      { stdio: 'ignore' },
    )
    const kill = async (): Promise<void> => {
      running.delete(server)
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        // A stopped (SIGSTOP) server still dies of SIGKILL.
        child.kill('SIGKILL')
        await exited
      }
    }
    const server: RedisProcess = {
      port,
      url: `redis://127.0.0.1:${port}`,
      child,
      dir,
      kill,
      async stop() {
        await kill()
        if (options.dir === undefined) rmSync(dir, { recursive: true, force: true })
      },
    }
    running.add(server)
    if (await waitForPing(port, 5000)) return server
    await server.stop()
    if (attempt >= 3) throw new Error(`redis-server did not start on port ${port}`)
  }
}

/** Resolves true once the server on `port` answers PING within `timeoutMs`. */
export async function waitForPing(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if ((await ping(port)) === 'PONG') return true
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return false
}

function ping(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = new Socket()
    let data = ''
    socket.setTimeout(500)
    socket.once('error', () => {
      resolve('')
    })
    socket.once('timeout', () => {
      socket.destroy()
      resolve('')
    })
    socket.on('data', (chunk) => {
      data += chunk.toString()
      if (data.includes('\r\n')) {
        socket.destroy()
        resolve(data.startsWith('+PONG') ? 'PONG' : data)
      }
    })
    socket.connect(port, '127.0.0.1', () => {
      socket.write('PING\r\n')
    })
  })
}

export interface RedisCluster {
  /** Every node, masters first (as `redis-cli --cluster create` was given them). */
  readonly nodes: readonly RedisProcess[]
  /** `host:port` of every master. */
  readonly addresses: readonly string[]
  stop(): Promise<void>
}

export interface ClusterOptions {
  /** Replicas per master (default 0). */
  readonly replicas?: number
  /** `cluster-node-timeout`: how long a silent master has before its replica takes over (default 5000 ms). */
  readonly nodeTimeoutMs?: number
  /** Extra arguments for every node (e.g. `['--notify-keyspace-events', 'Ex']`). */
  readonly extraArgs?: readonly string[]
}

/**
 * Starts a real 3-master Redis Cluster (with `replicas` replicas per master) and waits until every node reports
 * `cluster_state:ok` and every replica is attached to its master.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<RedisCluster> {
  const replicas = options.replicas ?? 0
  const nodes = await Promise.all(
    Array.from({ length: 3 * (1 + replicas) }, () =>
      startRedis([
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        String(options.nodeTimeoutMs ?? 5000),
        ...(options.extraArgs ?? []),
      ]),
    ),
  )
  const all = nodes.map((n) => `127.0.0.1:${n.port}`)
  const create = spawnSync(
    'redis-cli',
    ['--cluster', 'create', ...all, '--cluster-replicas', String(replicas), '--cluster-yes'],
    {
      encoding: 'utf8',
      timeout: 30_000,
    },
  )
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()))
  }
  if (create.status !== 0) {
    await stop()
    throw new Error(`redis-cli --cluster create failed: ${create.stderr || create.stdout}`)
  }
  const deadline = Date.now() + 30_000
  for (;;) {
    const states = nodes.map(
      (n) => spawnSync('redis-cli', ['-p', String(n.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout,
    )
    const roles = nodes.map(
      (n) => spawnSync('redis-cli', ['-p', String(n.port), 'role'], { encoding: 'utf8' }).stdout,
    )
    const replicasLinked = roles.filter((r) => /connected/.test(r) && r.startsWith('slave')).length
    if (states.every((s) => s.includes('cluster_state:ok')) && replicasLinked === 3 * replicas) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error('the cluster did not reach cluster_state:ok with every replica attached')
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  // `--cluster create` gives the first three nodes the slots; the others become their replicas.
  return { nodes, addresses: all.slice(0, 3), stop }
}
