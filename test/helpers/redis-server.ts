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
  /** Stops the server (SIGKILL) and removes its directory. */
  stop(): Promise<void>
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
): Promise<RedisProcess> {
  for (let attempt = 0; ; attempt++) {
    const port = fixedPort ?? (await freePort())
    const dir = mkdtempSync(join(tmpdir(), 'sessionkit-redis-'))
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
    const server: RedisProcess = {
      port,
      url: `redis://127.0.0.1:${port}`,
      child,
      async stop() {
        running.delete(server)
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve))
          child.kill('SIGKILL')
          await exited
        }
        rmSync(dir, { recursive: true, force: true })
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
  readonly nodes: readonly RedisProcess[]
  /** `host:port` of every master. */
  readonly addresses: readonly string[]
  stop(): Promise<void>
}

/**
 * Starts a real 3-master Redis Cluster (no replicas) and waits until every node reports `cluster_state:ok`.
 * `extraArgs` go to every node (e.g. `['--notify-keyspace-events', 'Ex']`).
 */
export async function startCluster(extraArgs: readonly string[] = []): Promise<RedisCluster> {
  const nodes = await Promise.all(
    [0, 1, 2].map(() =>
      startRedis([
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        '5000',
        ...extraArgs,
      ]),
    ),
  )
  const addresses = nodes.map((n) => `127.0.0.1:${n.port}`)
  const create = spawnSync(
    'redis-cli',
    ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
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
  const deadline = Date.now() + 20_000
  for (;;) {
    const states = nodes.map(
      (n) => spawnSync('redis-cli', ['-p', String(n.port), 'cluster', 'info'], { encoding: 'utf8' }).stdout,
    )
    if (states.every((s) => s.includes('cluster_state:ok'))) break
    if (Date.now() > deadline) {
      await stop()
      throw new Error('the cluster did not reach cluster_state:ok')
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { nodes, addresses, stop }
}
