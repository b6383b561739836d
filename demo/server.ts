/**
 * `npm start`: the demo on HOST:PORT (default 127.0.0.1:3000), with Redis at REDIS_URL or the in-memory store.
 */
import { createClient } from '@redis/client'
import { createSessionkit, MemoryStore, RedisStore } from 'sessionkit'
import { createDemoApp, demoSessionkitOptions } from './app.js'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 3000)
const redisUrl = process.env.REDIS_URL

let store: MemoryStore | RedisStore
let closeStore: () => Promise<void>
if (redisUrl !== undefined && redisUrl !== '') {
  console.log(`sessionkit demo: store = Redis at ${redacted(redisUrl)}`)
  const client = createClient({ url: redisUrl })
  // Without a listener, a Redis error would kill the process; the store turns failures into 503s.
  client.on('error', (error: Error) => console.error('redis:', error.message))
  await client.connect()
  store = new RedisStore({ client })
  closeStore = () => {
    // destroy, not close: close() would wait for a Redis that may be down.
    client.destroy()
    return Promise.resolve()
  }
} else {
  console.log('sessionkit demo: store = in-memory MemoryStore (set REDIS_URL=redis://... to use Redis)')
  const memory = new MemoryStore()
  store = memory
  closeStore = () => {
    memory.close()
    return Promise.resolve()
  }
}

// `secure: false` only because the demo serves plain HTTP on localhost: browsers drop Secure cookies over
// http. In production keep the default (secure: true) and serve HTTPS. The known-device secret is random per
// run here (every device is new after a restart); a real app keeps a stable one.
const kit = createSessionkit({ ...demoSessionkitOptions(), store, cookie: { secure: false } })
const app = createDemoApp(kit, store)

const server = app.listen(port, host, (error?: Error) => {
  if (error) {
    console.error(`sessionkit demo: cannot listen on ${host}:${port}: ${error.message}`)
    process.exit(1)
  }
  console.log(`sessionkit demo: listening on http://${host}:${port}/ (sign in as alice / alice-password)`)
})

function shutdown(): void {
  setTimeout(() => process.exit(1), 5000).unref()
  server.closeAllConnections()
  server.close(() => {
    void closeStore().finally(() => process.exit(0))
  })
}
process.once('SIGINT', shutdown)
process.once('SIGTERM', shutdown)

/** The URL without its password. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(unparsable REDIS_URL)'
  }
}
