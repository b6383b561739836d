/**
 * The Active Sessions UI mounted on Express 5 and on Fastify 5, each on a real HTTP server on a free port, with a
 * test-only sign-in route (`POST /test/login?user=...&impersonator=...`, device from the request's User-Agent).
 */
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import type { Sessionkit } from 'sessionkit'
import { sessionMiddleware } from 'sessionkit/express'
import { sessionPlugin } from 'sessionkit/fastify'
import { activeSessionsRouter, type ExpressActiveSessionsOptions } from 'sessionkit/ui/express'
import { activeSessionsPlugin } from 'sessionkit/ui/fastify'

export type UiFramework = 'express' | 'fastify'
export const UI_FRAMEWORKS: readonly UiFramework[] = ['express', 'fastify']

export interface RunningUi {
  readonly url: string
  close(): Promise<void>
}

export interface MountOptions {
  readonly loginPath?: string
  readonly admins?: readonly string[]
}

export async function startUi(
  framework: UiFramework,
  kit: Sessionkit,
  mount: MountOptions = {},
): Promise<RunningUi> {
  const admins = mount.admins ?? ['admin']
  const common: ExpressActiveSessionsOptions =
    mount.loginPath === undefined ? {} : { loginPath: mount.loginPath }
  if (framework === 'express') {
    const app = express()
    app.use(sessionMiddleware(kit))
    app.post('/test/login', (req, res, next) => {
      const user = typeof req.query.user === 'string' ? req.query.user : ''
      const impersonator = req.query.impersonator
      req.session
        .signIn(user, typeof impersonator === 'string' ? { impersonator } : {})
        .then(() => res.status(204).end(), next)
    })
    app.use(
      activeSessionsRouter(kit, {
        ...common,
        isAdmin: (req) => admins.includes(req.session.userId ?? ''),
      }),
    )
    const server = app.listen(0, '127.0.0.1')
    await new Promise<void>((resolve) => server.once('listening', resolve))
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    }
  }
  const app = Fastify()
  await app.register(sessionPlugin, { sessionkit: kit })
  app.post('/test/login', async (request, reply) => {
    const query = request.query as Record<string, string | undefined>
    const impersonator = query.impersonator
    await request.session.signIn(String(query.user), impersonator === undefined ? {} : { impersonator })
    return reply.code(204).send()
  })
  await app.register(activeSessionsPlugin, {
    ...common,
    sessionkit: kit,
    isAdmin: (request) => admins.includes(request.session.userId ?? ''),
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    close: () => app.close(),
  }
}
