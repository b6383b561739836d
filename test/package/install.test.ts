/**
 * A stranger's install. Packs sessionkit the way `npm publish` does (`prepack` builds dist/ and writes the
 * published package.json, `postpack` puts ours back), installs the tarball into a fresh project together with the
 * peers an app brings, and checks what a new user meets first: every entry point imports (ESM) and requires
 * (CommonJS, through Node's require(esm)), a TypeScript app type-checks with `nodenext` and with `bundler`, the
 * README's examples run as written against a real Redis, and the `sessionkit` command works.
 *
 * Run by `npm run test:package` (and .ci/run), not by `npm test`: packing rewrites package.json and dist/ for a
 * moment, which would pull the ground from under the tests that run beside it there.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRedis, type RedisProcess } from '../helpers/redis-server.js'
import { call, cookiePair } from '../helpers/http.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
/** The entry points the README documents; the test also covers any other one package.json exports. */
const DOCUMENTED_ENTRIES = [
  'sessionkit',
  'sessionkit/express',
  'sessionkit/fastify',
  'sessionkit/testing',
  'sessionkit/ui/express',
  'sessionkit/ui/fastify',
]
/** What an app installs next to sessionkit, at the versions this repository is tested with. */
const PEERS = ['express', 'fastify', 'redis', 'ioredis', '@types/express', '@types/node']

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The environment minus what `npm run` adds (npm_config_*, npm_package_*), so a child npm sees a plain shell. */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)))
  return { ...env, ...extra }
}

function run(command: string, args: readonly string[], cwd: string, env = plainEnv()): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

async function mustRun(command: string, args: readonly string[], cwd: string): Promise<Run> {
  const result = await run(command, args, cwd)
  if (result.code !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} exited with ${String(result.code)}:\n${result.stdout}\n${result.stderr}`,
    )
  }
  return result
}

function installedVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
    version: string
  }
  return manifest.version
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
}

interface PackedManifest {
  readonly exports: Record<string, string | Record<string, string>>
  readonly bin: Record<string, string>
  readonly scripts?: unknown
}

let work: string
let packed: string // the tarball, unpacked: <work>/unpacked/package
let app: string // the fresh project
let manifest: PackedManifest
let entries: string[]
let ourManifestBefore: string

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'sessionkit-package-'))
  ourManifestBefore = readFileSync(join(ROOT, 'package.json'), 'utf8')
  await mustRun('npm', ['pack', '--pack-destination', work, '--loglevel=error'], ROOT)
  const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'))
  if (tarball === undefined) throw new Error(`npm pack wrote no tarball into ${work}`)
  mkdirSync(join(work, 'unpacked'))
  await mustRun('tar', ['-xzf', join(work, tarball), '-C', join(work, 'unpacked')], work)
  packed = join(work, 'unpacked', 'package')
  manifest = JSON.parse(readFileSync(join(packed, 'package.json'), 'utf8')) as PackedManifest
  entries = Object.keys(manifest.exports)
    .filter((subpath) => subpath !== './package.json')
    .map((subpath) => (subpath === '.' ? 'sessionkit' : `sessionkit${subpath.slice(1)}`))

  app = join(work, 'app')
  mkdirSync(app)
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
  const peers = PEERS.map((name) => `${name}@${installedVersion(name)}`)
  await mustRun(
    'npm',
    [
      'install',
      join(work, tarball),
      ...peers,
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
    ],
    app,
  )
})

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

describe('the packed package', () => {
  it('leaves our package.json as it was, with nothing set aside', () => {
    expect(readFileSync(join(ROOT, 'package.json'), 'utf8')).toBe(ourManifestBefore)
    expect(existsSync(join(ROOT, '.package.json.dev'))).toBe(false)
  })

  it('publishes exports without the development condition, and no scripts', () => {
    expect(readFileSync(join(packed, 'package.json'), 'utf8')).not.toContain('sessionkit-source')
    expect(manifest.scripts).toBeUndefined()
    expect(ourManifestBefore).toContain('sessionkit-source') // development still resolves the sources
  })

  it('exports every documented entry point, and ships every file exports and bin name', () => {
    expect(entries).toEqual(expect.arrayContaining(DOCUMENTED_ENTRIES))
    const targets = Object.values(manifest.exports).flatMap((target) =>
      typeof target === 'string' ? [target] : Object.values(target),
    )
    for (const target of [...targets, ...Object.values(manifest.bin)]) {
      expect(existsSync(join(packed, target)), target).toBe(true)
    }
  })

  it('ships LICENSE, README.md and CHANGELOG.md', () => {
    for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md'])
      expect(existsSync(join(packed, file)), file).toBe(true)
  })

  it('refers to no src/ path: no source maps, and no code or types pointing at the sources', () => {
    const shipped = [...filesUnder(join(packed, 'dist')), join(packed, 'package.json')]
    expect(shipped.filter((file) => file.endsWith('.map')).map((file) => relative(packed, file))).toEqual([])
    const pointing = shipped.filter((file) => /\bsrc\/|sourceMappingURL/.test(readFileSync(file, 'utf8')))
    expect(pointing.map((file) => relative(packed, file))).toEqual([])
  })

  it('leaves @internal members out of the .d.ts files', () => {
    const store = readFileSync(join(packed, 'dist', 'stores', 'redis', 'redis-store.d.ts'), 'utf8')
    expect(store).toContain('class RedisStore')
    expect(store).not.toMatch(/readonly keys: KeyLayout|readonly redis: RedisCommander/)
  })
})

describe('installed into a fresh project', () => {
  it('imports every entry point as an ES module', async () => {
    writeFileSync(
      join(app, 'imports.mjs'),
      'const out = {}\nfor (const name of JSON.parse(process.argv[2])) out[name] = Object.keys(await import(name)).sort()\nconsole.log(JSON.stringify(out))\n',
    )
    const result = await mustRun(process.execPath, ['imports.mjs', JSON.stringify(entries)], app)
    const names = JSON.parse(result.stdout) as Record<string, string[]>
    for (const entry of entries) expect(names[entry]?.length, entry).toBeGreaterThan(0)
    expect(names.sessionkit).toEqual(
      expect.arrayContaining(['createSessionkit', 'RedisStore', 'MemoryStore']),
    )
    expect(names['sessionkit/express']).toContain('sessionMiddleware')
    expect(names['sessionkit/fastify']).toContain('sessionPlugin')
    expect(names['sessionkit/testing']).toContain('createTestSessionkit')
  })

  it('requires every entry point from CommonJS (require(esm)), without a warning', async () => {
    writeFileSync(
      join(app, 'requires.cjs'),
      'const out = {}\nfor (const name of JSON.parse(process.argv[2])) out[name] = Object.keys(require(name)).sort()\nconsole.log(JSON.stringify(out))\n',
    )
    const imported = JSON.parse(
      (await mustRun(process.execPath, ['imports.mjs', JSON.stringify(entries)], app)).stdout,
    ) as unknown
    const result = await mustRun(process.execPath, ['requires.cjs', JSON.stringify(entries)], app)
    expect(JSON.parse(result.stdout)).toEqual(imported)
    expect(result.stderr).toBe('')
  })

  describe('type-checks a TypeScript app (skipLibCheck off, so the shipped .d.ts are checked too)', () => {
    beforeAll(() => {
      cpSync(join(ROOT, 'test', 'package', 'consumer'), app, { recursive: true })
      // One namespace import per entry point, so an entry added later without types fails here too.
      const lines = entries.map((entry, i) => `import * as entry${i} from '${entry}'`)
      lines.push(`export const entryPoints = [${entries.map((_, i) => `entry${i}`).join(', ')}]`)
      writeFileSync(join(app, 'entries.ts'), `${lines.join('\n')}\n`)
    })

    it.each(['nodenext', 'bundler'])('with moduleResolution %s', async (resolution) => {
      const result = await run(process.execPath, [TSC, '-p', `tsconfig.${resolution}.json`], app)
      expect(result.stdout + result.stderr).toBe('')
      expect(result.code).toBe(0)
    })
  })
})

describe('the README examples, run from the fresh project against a real Redis', () => {
  let redis: RedisProcess
  beforeAll(async () => {
    redis = await startRedis()
  })
  afterAll(async () => {
    await redis.stop()
  })

  function startExample(file: string): Promise<{ url: string; child: ChildProcess }> {
    cpSync(join(ROOT, 'examples', file), join(app, file))
    const child = spawn(process.execPath, [file], {
      cwd: app,
      env: plainEnv({ REDIS_URL: redis.url, PORT: '0', NODE_ENV: 'development' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    return new Promise((resolve, reject) => {
      let output = ''
      const onData = (chunk: Buffer): void => {
        output += chunk.toString()
        const match = /listening on (http:\/\/[\d.:]+)/.exec(output)
        if (match?.[1]) resolve({ url: match[1], child })
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      child.once('exit', (code) => {
        reject(new Error(`${file} exited with ${String(code)}: ${output}`))
      })
    })
  }

  it.each([
    ['express.mjs', 'ada', 'application/x-www-form-urlencoded', 'username=ada'],
    ['fastify.mjs', 'bea', 'application/json', JSON.stringify({ username: 'bea' })],
  ])('%s counts visits and signs %s in', async (file, user, contentType, body) => {
    const example = await startExample(file)
    try {
      const first = await call(example.url, 'GET', '/')
      expect(first.text).toBe('Hello stranger, visit number 1')
      const cookie = cookiePair(first.setCookies, 'sid')!
      expect((await call(example.url, 'GET', '/', { cookie })).text).toBe('Hello stranger, visit number 2')
      const login = await fetch(`${example.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': contentType },
        body,
      })
      expect(login.status).toBe(303)
      const signedIn = cookiePair(login.headers.getSetCookie(), 'sid')!
      expect((await call(example.url, 'GET', '/', { cookie: signedIn })).text).toBe(
        `Hello ${user}, visit number 3`,
      )
    } finally {
      example.child.kill()
    }
  })

  it('runs the sessionkit command: --help, and list for the user the Express example signed in', async () => {
    const bin = join(app, 'node_modules', '.bin', 'sessionkit')
    const help = await run(bin, ['--help'], app)
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: sessionkit /)

    const list = await run(bin, ['--redis', redis.url, '--json', 'list', '--user', 'ada'], app)
    expect(list.stderr).toBe('')
    expect(list.code).toBe(0)
    const listed = JSON.parse(list.stdout) as { sessions: { browser: string }[] }
    expect(listed.sessions).toHaveLength(1)
  })
})
