/**
 * Whatever a handler does — sync or async, `return reply` or not, redirects, streams, throws after a change,
 * changes after the response ended, double `end`/`send` — the session layer never crashes the host process, the
 * client gets the response the handler meant, and what was stored is there on the next request.
 *
 * Each framework's app runs in its own process (test/adapters/pattern-app.ts) over a real Redis, so a crash shows
 * as a dead process. Every pattern runs twice: on a visitor without a session (the session is created by the
 * change) and on an existing session.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inject } from 'vitest'
import { call, cookiePair } from '../helpers/http.js'
import { randomPrefix } from '../helpers/backends.js'
import { FRAMEWORKS, type Framework } from './apps.js'

interface Pattern {
  readonly path: string
  readonly status: number
  /** The body the handler meant to send (for redirects: the Location header). */
  readonly body?: string
  readonly location?: string
  /** Whether the change the handler made is stored. */
  readonly stored: boolean
  readonly signedIn?: boolean
  readonly only?: Framework[]
}

const PATTERNS: readonly Pattern[] = [
  { path: '/sync-send', status: 200, body: 'sync', stored: true },
  { path: '/async-return', status: 200, body: 'returned', stored: true },
  { path: '/async-send-no-return', status: 200, body: 'ok', stored: true },
  { path: '/async-send-no-return-after-await', status: 200, body: 'ok', stored: true },
  { path: '/async-signin-send-no-return', status: 200, body: 'signed in', stored: true, signedIn: true },
  { path: '/redirect', status: 303, location: '/read', stored: true },
  { path: '/stream', status: 200, body: 'chunk-1;chunk-2', stored: true },
  // A change made before a throw is saved with the error response (as express-session does).
  { path: '/throw-sync', status: 500, stored: true },
  { path: '/throw-async', status: 500, stored: true },
  // Once the response is sent, nothing can carry a change to the store (or a new cookie to the browser).
  { path: '/change-after-end', status: 200, body: 'done', stored: false },
  { path: '/double-send', status: 200, body: 'first', stored: true },
  {
    path: '/write-then-end',
    status: 200,
    body: 'part-1;part-2',
    stored: true,
    only: ['express4', 'express5'],
  },
]

function startPatternApp(
  framework: Framework,
): Promise<{ url: string; child: ChildProcess; log: () => string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=sessionkit-source', 'test/adapters/pattern-app.ts'],
    {
      env: { ...process.env, FRAMEWORK: framework, REDIS_URL: inject('redisUrl'), PREFIX: randomPrefix() },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /listening on (http:\/\/[\d.:]+)/.exec(output)
      if (match?.[1]) resolve({ url: match[1], child, log: () => output })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => {
      reject(new Error(`pattern app exited with ${String(code)}: ${output}`))
    })
  })
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe.each(FRAMEWORKS)('handler patterns on %s', (framework) => {
  let app: { url: string; child: ChildProcess; log: () => string }

  beforeAll(async () => {
    app = await startPatternApp(framework)
  })

  afterAll(() => {
    app.child.kill()
  })

  const patterns = PATTERNS.filter((p) => !p.only || p.only.includes(framework))

  describe.each(['a new visitor', 'an existing session'] as const)('for %s', (who) => {
    it.each(patterns)(
      '$path: the process stays up, the response is the one meant, the store agrees',
      async (pattern) => {
        let cookie: string | undefined
        if (who === 'an existing session') {
          const first = await call(app.url, 'GET', '/sync-send?v=before')
          cookie = cookiePair(first.setCookies, 'sid')
          expect(cookie).toBeDefined()
        }
        const reply = await call(app.url, 'GET', `${pattern.path}?v=after`, { cookie })
        expect(reply.status).toBe(pattern.status)
        if (pattern.body !== undefined) expect(reply.text).toBe(pattern.body)
        if (pattern.location !== undefined) expect(reply.headers.get('location')).toBe(pattern.location)
        // Let anything the handler does after the response (late changes, second sends) play out.
        await sleep(30)
        expect(app.child.exitCode).toBeNull()
        const next = cookiePair(reply.setCookies, 'sid') ?? cookie
        const expected = pattern.stored ? 'after' : who === 'an existing session' ? 'before' : null
        if (next === undefined) {
          expect(expected).toBeNull()
          return
        }
        const read = await call(app.url, 'GET', '/read', { cookie: next })
        expect(read.body).toEqual({ v: expected, user: pattern.signedIn === true ? 'alice' : null })
      },
    )
  })

  it('is still running after every pattern, with no uncaught error in its output', () => {
    expect(app.child.exitCode).toBeNull()
    expect(app.log()).not.toMatch(/ERR_HTTP_HEADERS_SENT|Uncaught|unhandled/i)
  })
})
