/** The test kit (`sessionkit/testing`) works the way its README section says. */
import express from 'express'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { currentSession, NoRequestError } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { createTestSessionkit, detachedSession, signInCookie, withSession } from 'sessionkit/testing'

describe('sessionkit/testing', () => {
  it('signInCookie signs a user in through the real path and returns a working Cookie header', async () => {
    const kit = createTestSessionkit()
    const app = express()
    app.use(sessionMiddleware(kit))
    app.get('/me', async (req, res) => {
      res.json({
        user: req.session.userId ?? null,
        role: req.session.get('role') ?? null,
        n: (await req.session.listSessions()).length,
      })
    })
    const server = app.listen(0)
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      const cookie = await signInCookie(kit, 'alice', {
        userAgent:
          'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
        data: { role: 'admin' },
      })
      expect(cookie).toMatch(/^sid=[0-9a-f]{3}\./)
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/me`, {
        headers: { cookie },
      })
      expect(await res.json()).toEqual({ user: 'alice', role: 'admin', n: 1 })
      const [listed] = await kit.listSessions('alice')
      expect(listed).toMatchObject({ browser: 'Mobile Safari', os: 'iOS', deviceType: 'smartphone' })
    } finally {
      server.close()
    }
  })

  it('withSession gives code a current session, nests, and restores the previous one when fn throws', () => {
    expect(currentSession()).toBeUndefined()
    withSession({ a: 1 }, () => {
      expect(currentSession()?.get('a')).toBe(1)
      expect(() =>
        withSession({ a: 2 }, () => {
          expect(currentSession()?.get('a')).toBe(2)
          throw new Error('inner')
        }),
      ).toThrow('inner')
      expect(currentSession()?.get('a')).toBe(1)
      withSession(undefined, () => {
        expect(currentSession()).toBeUndefined()
      })
    })
    expect(currentSession()).toBeUndefined()
  })

  it('keeps the current session across awaits inside withSession', async () => {
    const session = detachedSession({ step: 3 })
    const seen = await withSession(session, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5))
      await Promise.resolve()
      return currentSession()?.get('step')
    })
    expect(seen).toBe(3)
  })

  it('a detached session refuses request-only operations with a typed error', async () => {
    await expect(detachedSession().signIn('alice')).rejects.toBeInstanceOf(NoRequestError)
    await expect(detachedSession().signOut()).rejects.toMatchObject({ code: 'SESSIONKIT_NO_REQUEST' })
  })
})
