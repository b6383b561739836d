/**
 * A tiny fake browser for driving a Sessionkit without HTTP: it keeps the session cookie from the `Set-Cookie`
 * values sessionkit sets (`Max-Age=0` clears it) and sends it back as the `Cookie` header.
 */
import type { HttpContext, Session, Sessionkit } from '../../src/index.js'

export interface Request {
  readonly session: Session
  readonly binding: FakeBinding
  /** Commits the session, like an adapter at the end of the request. */
  commit(): Promise<void>
}

export interface FakeBinding extends HttpContext {
  /** Every Set-Cookie value set during this request. */
  readonly setCookies: string[]
  /** Pretend the headers went out. */
  sent: boolean
}

export class Browser {
  /** The session cookie's value, as the browser holds it. */
  cookie: string | undefined
  /** Other cookies sessionkit set (the known-device cookie), by name, sent back with the session cookie. */
  readonly otherCookies = new Map<string, string>()
  readonly userAgent: string
  readonly ipAddress: string
  readonly #kit: Sessionkit

  constructor(kit: Sessionkit, options: { userAgent?: string; ipAddress?: string; cookie?: string } = {}) {
    this.#kit = kit
    this.userAgent = options.userAgent ?? 'TestBrowser/1.0'
    this.ipAddress = options.ipAddress ?? '192.0.2.10'
    this.cookie = options.cookie
  }

  /** The `Cookie` header this browser sends. */
  get cookieHeader(): string | undefined {
    const pairs = [...this.otherCookies].map(([name, value]) => `${name}=${value}`)
    if (this.cookie !== undefined) pairs.unshift(`${this.#kit.cookieName}=${this.cookie}`)
    return pairs.length === 0 ? undefined : pairs.join('; ')
  }

  /** Opens a request: loads the session from the current cookie. The cookie is read now, at open time. */
  async open(cookieHeader: string | undefined = this.cookieHeader): Promise<Request> {
    const name = this.#kit.cookieName
    const cookieAtOpen = this.cookie
    const binding: FakeBinding = {
      cookieHeader,
      userAgent: this.userAgent,
      ipAddress: this.ipAddress,
      setCookies: [],
      sent: false,
      headersSent: () => binding.sent,
      setCookie: (value: string | undefined) => {
        if (value === undefined) {
          // Withdrawn: the response carries no session cookie after all.
          binding.setCookies.length = 0
          this.cookie = cookieAtOpen
          return
        }
        binding.setCookies.push(value)
        const pair = value.split(';', 1)[0]!
        const eq = pair.indexOf('=')
        const cleared = /;\s*Max-Age=0(;|$)/i.test(value)
        if (pair.slice(0, eq) !== name) {
          if (cleared) this.otherCookies.delete(pair.slice(0, eq))
          else this.otherCookies.set(pair.slice(0, eq), pair.slice(eq + 1))
          return
        }
        this.cookie = cleared ? undefined : pair.slice(eq + 1)
      },
    }
    const session = await this.#kit.openSession(binding)
    return { session, binding, commit: () => session.commit() }
  }

  /** One whole request: open, run `fn`, commit. */
  async request<T>(fn: (session: Session) => T | Promise<T>): Promise<T> {
    const req = await this.open()
    const result = await fn(req.session)
    await req.commit()
    return result
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
