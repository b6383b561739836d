/** `bindCurrentSession: false` keeps req.session and drops only the AsyncLocalStorage binding. */
import express from 'express'
import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { currentSession } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { sessionPlugin } from 'sessionkit/fastify'
import { createTestSessionkit, signInCookie } from 'sessionkit/testing'

describe('bindCurrentSession', () => {
  it.each([true, false])('express with bindCurrentSession: %s', async (bind) => {
    const kit = createTestSessionkit()
    const app = express()
    app.use(sessionMiddleware(kit, { bindCurrentSession: bind }))
    app.get('/', (req, res) => {
      res.json({ user: req.session.userId, current: currentSession() === req.session })
    })
    const server = app.listen(0)
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      const cookie = await signInCookie(kit, 'alice')
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
        headers: { cookie },
      })
      expect(await res.json()).toEqual({ user: 'alice', current: bind })
    } finally {
      server.close()
    }
  })

  it.each([true, false])('fastify with bindCurrentSession: %s', async (bind) => {
    const kit = createTestSessionkit()
    const app = Fastify()
    await app.register(sessionPlugin, { sessionkit: kit, bindCurrentSession: bind })
    app.get('/', (request) => ({
      user: request.session.userId,
      current: currentSession() === request.session,
    }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      const cookie = await signInCookie(kit, 'alice')
      const res = await fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/`, {
        headers: { cookie },
      })
      expect(await res.json()).toEqual({ user: 'alice', current: bind })
    } finally {
      await app.close()
    }
  })
})
