/**
 * The README's Express and Fastify examples are the files in examples/, run here as written (as separate
 * processes against a private Redis), and the README must show them verbatim.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRedis, type RedisProcess } from './helpers/redis-server.js'
import { call, cookiePair } from './helpers/http.js'

let redis: RedisProcess
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await redis.stop()
})

function startExample(file: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=sessionkit-source', file], {
    env: { ...process.env, REDIS_URL: redis.url, PORT: '0', NODE_ENV: 'development' },
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

describe.each([
  ['examples/express.mjs', 'form'],
  ['examples/fastify.mjs', 'json'],
] as const)('%s', (file, bodyKind) => {
  let example: { url: string; child: ChildProcess }
  beforeAll(async () => {
    example = await startExample(file)
  })
  afterAll(() => {
    example.child.kill()
  })

  it('is shown verbatim in the README', () => {
    expect(readFileSync('README.md', 'utf8')).toContain(readFileSync(file, 'utf8').trim())
  })

  it('counts visits, signs in with rotation, lists and revokes sessions, and signs out', async () => {
    const first = await call(example.url, 'GET', '/')
    expect(first.text).toBe('Hello stranger, visit number 1')
    const anonymous = cookiePair(first.setCookies, 'sid')!
    expect((await call(example.url, 'GET', '/', { cookie: anonymous })).text).toBe(
      'Hello stranger, visit number 2',
    )

    const login = await fetch(`${example.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers:
        bodyKind === 'form'
          ? { cookie: anonymous, 'content-type': 'application/x-www-form-urlencoded' }
          : { cookie: anonymous, 'content-type': 'application/json' },
      body: bodyKind === 'form' ? 'username=alice&password=x' : JSON.stringify({ username: 'alice' }),
    })
    expect(login.status).toBe(303)
    const signedIn = cookiePair(login.headers.getSetCookie(), 'sid')!
    expect(signedIn).not.toBe(anonymous)
    expect((await call(example.url, 'GET', '/', { cookie: signedIn })).text).toBe(
      'Hello alice, visit number 3',
    )
    expect((await call(example.url, 'GET', '/', { cookie: anonymous })).text).toBe(
      'Hello stranger, visit number 1',
    )

    const other = await fetch(`${example.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': bodyKind === 'form' ? 'application/x-www-form-urlencoded' : 'application/json',
      },
      body: bodyKind === 'form' ? 'username=alice' : JSON.stringify({ username: 'alice' }),
    })
    const otherCookie = cookiePair(other.headers.getSetCookie(), 'sid')!
    const list = await call(example.url, 'GET', '/sessions', { cookie: signedIn })
    expect((list.body as { sessions: unknown[] }).sessions).toHaveLength(2)
    const revoked = await call(example.url, 'POST', '/sessions/revoke-others', { cookie: signedIn })
    expect(revoked.body).toEqual({ revoked: 1 })
    expect((await call(example.url, 'GET', '/sessions', { cookie: otherCookie })).status).toBe(401)

    const out = await call(example.url, 'POST', '/logout', { cookie: signedIn })
    expect(out.status).toBe(303)
    expect((await call(example.url, 'GET', '/sessions', { cookie: signedIn })).status).toBe(401)
  })
})
