/**
 * A small keep-alive HTTP client for the load generator: `fetch` costs several times the CPU per request, and on a
 * 2-core machine the load generator must leave room for the app and Redis.
 */
import { Agent, request } from 'node:http'

export interface HttpReply {
  /** HTTP status; 0 when the request failed at the socket (the app is down or hung up). */
  readonly status: number
  readonly body: unknown
  readonly setCookies: readonly string[]
  /** `performance.now()` when the request was sent and when its answer (or failure) arrived. */
  readonly startedAt: number
  readonly endedAt: number
  /** The socket error, when `status` is 0. */
  readonly error?: string
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 })

export function send(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  cookie?: string,
  timeoutMs = 15_000,
): Promise<HttpReply> {
  const startedAt = performance.now()
  return new Promise((resolve) => {
    const headers: Record<string, string> = {}
    if (cookie !== undefined) headers.cookie = cookie
    const req = request(base + path, { method, headers, agent }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => {
        let body: unknown = text
        try {
          body = JSON.parse(text)
        } catch {
          // not JSON
        }
        resolve({
          status: res.statusCode ?? 0,
          body,
          setCookies: res.headers['set-cookie'] ?? [],
          startedAt,
          endedAt: performance.now(),
        })
      })
    })
    req.setTimeout(timeoutMs, () => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`))
    })
    req.on('error', (error) => {
      resolve({
        status: 0,
        body: undefined,
        setCookies: [],
        startedAt,
        endedAt: performance.now(),
        error: error.message,
      })
    })
    req.end()
  })
}
