/** The compat options of the adapters are checked at setup, with a message naming the problem. */
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { InvalidOptionsError } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { sessionPlugin } from 'sessionkit/fastify'
import { createTestSessionkit } from 'sessionkit/testing'

const kit = createTestSessionkit()

describe('sessionMiddleware options', () => {
  it('refuses an unknown api with InvalidOptionsError', () => {
    expect(() => sessionMiddleware(kit, { api: 'connect' as never })).toThrow(InvalidOptionsError)
    expect(() => sessionMiddleware(kit, { api: 'connect' as never })).toThrow(/api must be/)
  })

  it('refuses userId outside the express-session API mode', () => {
    expect(() => sessionMiddleware(kit, { userId: () => undefined })).toThrow(/userId applies to api/)
  })

  it('refuses a userId that is not a function', () => {
    expect(() => sessionMiddleware(kit, { api: 'express-session', userId: 'passport' as never })).toThrow(
      /userId must be a function/,
    )
  })

  it('names the closest option for a misspelt one', () => {
    expect(() => sessionMiddleware(kit, { apii: 'express-session' } as never)).toThrow(/did you mean "api"/)
  })

  it('accepts the express-session API mode with and without userId', () => {
    expect(typeof sessionMiddleware(kit, { api: 'express-session' })).toBe('function')
    expect(typeof sessionMiddleware(kit, { api: 'express-session', userId: () => undefined })).toBe(
      'function',
    )
  })
})

describe('sessionPlugin options', () => {
  async function register(options: Record<string, unknown>): Promise<unknown> {
    const app = Fastify()
    try {
      await app.register(sessionPlugin, { sessionkit: kit, ...options })
      await app.ready()
      return undefined
    } catch (error) {
      return error
    } finally {
      await app.close()
    }
  }

  it('refuses an unknown api with InvalidOptionsError', async () => {
    const error = await register({ api: 'express-session' })
    expect(error).toBeInstanceOf(InvalidOptionsError)
    expect(String(error)).toMatch(/api must be 'sessionkit' or '@fastify\/session'/)
  })

  it('refuses userId outside the @fastify/session API mode', async () => {
    expect(String(await register({ userId: () => undefined }))).toMatch(/userId applies to api/)
  })

  it('names the closest option for a misspelt one', async () => {
    expect(String(await register({ userID: () => undefined }))).toMatch(/did you mean "userId"/)
  })

  it('accepts the @fastify/session API mode', async () => {
    expect(await register({ api: '@fastify/session', userId: () => undefined })).toBeUndefined()
  })
})
