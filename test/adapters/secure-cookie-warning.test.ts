/**
 * A `Secure` cookie sent in answer to plain HTTP from a host that is not loopback is dropped by the browser, so
 * sign-in silently fails (`http://dev.test`). sessionkit says so once, as a process warning; loopback hosts,
 * which browsers treat as secure, get no warning.
 */
import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { createSessionkit, MemoryStore } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { sessionPlugin } from 'sessionkit/fastify'
import { afterEach, describe, expect, it } from 'vitest'

const CODE = 'SESSIONKIT_SECURE_COOKIE_OVER_HTTP'

/** GET with a chosen Host header (fetch does not let a caller set it). Resolves with the Set-Cookie values. */
function get(url: string, host: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.headers['set-cookie'] ?? []))
    })
    req.on('error', reject)
    req.end()
  })
}

async function expressApp(): Promise<{ url: string; close: () => Promise<void> }> {
  const kit = createSessionkit({ store: new MemoryStore({ sweepIntervalMs: 0 }), deviceParser: false })
  const app = express()
  app.use(sessionMiddleware(kit))
  app.get('/signin', (req, res, next) => {
    req.session.signIn('alice').then(() => res.send('ok'), next)
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

async function fastifyApp(): Promise<{ url: string; close: () => Promise<void> }> {
  const kit = createSessionkit({ store: new MemoryStore({ sweepIntervalMs: 0 }), deviceParser: false })
  const app = Fastify()
  await app.register(sessionPlugin, { sessionkit: kit })
  app.get('/signin', async (request) => {
    await request.session.signIn('alice')
    return 'ok'
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, close: () => app.close() }
}

describe.each([
  ['express', expressApp],
  ['fastify', fastifyApp],
] as const)('%s', (_name, start) => {
  const warnings: Error[] = []
  const listen = (warning: Error): void => {
    if ((warning as { code?: string }).code === CODE) warnings.push(warning)
  }
  afterEach(() => {
    process.off('warning', listen)
    warnings.length = 0
  })

  it('warns once when a Secure cookie answers plain HTTP for a non-loopback host, and not for localhost', async () => {
    process.on('warning', listen)
    const app = await start()
    try {
      for (const host of ['localhost', '127.0.0.1']) {
        expect((await get(`${app.url}/signin`, host)).join()).toContain('__Host-sid=')
      }
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings).toEqual([])
      for (let i = 0; i < 3; i++) await get(`${app.url}/signin`, 'dev.test')
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]!.message).toContain('"dev.test"')
    } finally {
      await app.close()
    }
  })
})
