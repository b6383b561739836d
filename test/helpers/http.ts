/** A minimal HTTP client for integration tests: fetch, plus a raw-socket request for bytes fetch refuses. */
import { Socket } from 'node:net'

export interface Reply {
  readonly status: number
  readonly body: unknown
  readonly text: string
  readonly setCookies: string[]
  readonly headers: Headers
}

export async function call(
  base: string,
  method: string,
  path: string,
  options: { cookie?: string; json?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.cookie !== undefined) headers.cookie = options.cookie
  let body: string | undefined
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(options.json)
  }
  const response = await fetch(base + path, { method, headers, body, redirect: 'manual' })
  const text = await response.text()
  let parsed: unknown = text
  try {
    parsed = JSON.parse(text)
  } catch {
    // not JSON
  }
  return {
    status: response.status,
    body: parsed,
    text,
    setCookies: response.headers.getSetCookie(),
    headers: response.headers,
  }
}

/** The `name=value` pair of a Set-Cookie for `name`, or undefined. */
export function cookiePair(setCookies: readonly string[], name: string): string | undefined {
  const match = setCookies.find((c) => c.startsWith(`${name}=`))
  return match?.split(';', 1)[0]
}

/** Sends raw bytes as an HTTP/1.1 request (for header bytes `fetch` refuses to send) and returns the status. */
export function rawRequest(base: string, head: Buffer): Promise<{ status: number; raw: string }> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const socket = new Socket()
    let data = ''
    socket.setTimeout(5000)
    socket.on('data', (chunk) => (data += chunk.toString('latin1')))
    socket.on('end', () => {
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0), raw: data })
    })
    socket.on('timeout', () => {
      socket.destroy()
      reject(new Error('raw request timed out'))
    })
    socket.on('error', reject)
    socket.connect(Number(url.port), url.hostname, () => {
      socket.end(head)
    })
  })
}

/**
 * POSTs a JSON body in two chunks with a pause between them, so the server's body parser finishes from a later
 * socket event (where an AsyncLocalStorage context set before parsing would be lost).
 */
export async function postSlowJson(
  base: string,
  path: string,
  cookie: string,
  json: unknown,
  contentType = 'application/json',
): Promise<Reply> {
  const { request } = await import('node:http')
  const text = JSON.stringify(json)
  const half = Math.floor(text.length / 2)
  return new Promise((resolve, reject) => {
    const req = request(
      base + path,
      {
        method: 'POST',
        headers: { cookie, 'content-type': contentType, 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => {
          const headers = new Headers()
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v)
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(body) as unknown,
            text: body,
            setCookies: res.headers['set-cookie'] ?? [],
            headers,
          })
        })
      },
    )
    req.on('error', reject)
    req.flushHeaders()
    req.write(text.slice(0, half))
    setTimeout(() => {
      req.end(text.slice(half))
    }, 50)
  })
}
