/**
 * examples/gitlab-features.mjs run as written (a separate process against a private Redis), driven over HTTP:
 * admin mode, the unknown sign-in alert, background access and events. The README's sections on these features
 * quote it: every code block there marked `// from examples/gitlab-features.mjs` must appear in the file verbatim.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRedis, type RedisProcess } from './helpers/redis-server.js'
import { cookiePair } from './helpers/http.js'

const FILE = 'examples/gitlab-features.mjs'
const MARK = '// from examples/gitlab-features.mjs\n'

let redis: RedisProcess
let child: ChildProcess
let url: string
let output = ''

beforeAll(async () => {
  redis = await startRedis()
  child = spawn(process.execPath, ['--import', 'tsx', '--conditions=sessionkit-source', FILE], {
    env: { ...process.env, REDIS_URL: redis.url, PORT: '0', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /listening on (http:\/\/[\d.:]+)/.exec(output)
      if (match?.[1]) resolve(match[1])
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${FILE} exited with ${String(code)}: ${output}`)))
  })
})
afterAll(async () => {
  child.kill()
  await redis.stop()
})

function post(path: string, cookie: string | undefined, fields: Record<string, string>): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    body: new URLSearchParams(fields).toString(),
  })
}

/** Waits for a line of the example's output that matches. */
async function line(pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 5000
  for (;;) {
    const found = output.split('\n').find((l) => pattern.test(l))
    if (found !== undefined) return found
    if (Date.now() > deadline) throw new Error(`no output line matches ${String(pattern)}:\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Waits until `pattern` (global) matches `count` times in the output. */
async function linesMatching(pattern: RegExp, count: number): Promise<void> {
  const deadline = Date.now() + 5000
  while ((output.match(new RegExp(pattern.source, 'gm')) ?? []).length < count) {
    if (Date.now() > deadline)
      throw new Error(`expected ${count} lines matching ${String(pattern)}:\n${output}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe(FILE, () => {
  it('is quoted verbatim by the README sections that name it', () => {
    const readme = readFileSync('README.md', 'utf8')
    const source = readFileSync(FILE, 'utf8')
    const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)]
      .map((m) => m[1]!)
      .filter((block) => block.startsWith(MARK))
      .map((block) => block.slice(MARK.length).trim())
    expect(blocks.length).toBeGreaterThanOrEqual(4)
    for (const block of blocks) expect(source).toContain(block)
  })

  it('alerts on the first sign-in, emits events, and lets a job read the carts of every session', async () => {
    const cart = await post('/cart', undefined, { item: 'book' })
    const anonymous = cookiePair(cart.headers.getSetCookie(), 'sid')!
    const login = await post('/login', anonymous, { username: 'alice', password: 'alice-password' })
    expect(login.status).toBe(303)
    expect(await line(/^mail to alice: new sign-in from an unknown browser at 127\.0\.0\.1/)).toMatch(
      /\([0-9a-f]{3}\.[A-Za-z0-9_-]{27}\)$/,
    )
    expect(await line(/^event signIn alice /)).toContain('127.0.0.1')
    const jobs = (await (await fetch(`${url}/jobs/carts/alice`)).json()) as { cart: string[] }[]
    expect(jobs).toEqual([expect.objectContaining({ cart: ['book'] })])
    // A second browser from the same address: known by IP, no second mail.
    await post('/login', undefined, { username: 'alice', password: 'alice-password' })
    await linesMatching(/^event signIn alice /g, 2)
    expect(output.match(/^mail to alice/gm)).toHaveLength(1)
  })

  it('admin mode: refused until the password is re-entered, then on, and visible to a sessionless call', async () => {
    const login = await post('/login', undefined, { username: 'admin', password: 'admin-password' })
    const cookie = cookiePair(login.headers.getSetCookie(), 'sid')!
    expect((await fetch(`${url}/admin`, { headers: { cookie } })).status).toBe(403)
    expect(await (await fetch(`${url}/api/users/admin/admin-mode`)).json()).toEqual({ elevated: false })
    expect((await post('/admin-mode', cookie, { password: 'guess' })).status).toBe(401)
    const entered = await post('/admin-mode', cookie, { password: 'admin-password' })
    expect(entered.status).toBe(303)
    const elevated = cookiePair(entered.headers.getSetCookie(), 'sid')!
    expect(elevated).not.toBe(cookie)
    const admin = await fetch(`${url}/admin`, { headers: { cookie: elevated } })
    expect(admin.status).toBe(200)
    expect(await admin.text()).toMatch(/^Admin mode until \d{4}-/)
    expect(await (await fetch(`${url}/api/users/admin/admin-mode`)).json()).toEqual({ elevated: true })
  })
})
