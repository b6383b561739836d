// express-session ships no types and @types/express-session is not installed: the little the benchmark uses.
declare module 'express-session' {
  import type { RequestHandler } from 'express'

  export interface SessionData {
    [key: string]: unknown
  }

  // eslint-disable-next-line @typescript-eslint/no-extraneous-class
  export class Store {}

  export interface PeerSession extends SessionData {
    regenerate(callback: (error?: unknown) => void): void
  }

  export interface SessionOptions {
    secret: string
    store?: Store
    resave?: boolean
    saveUninitialized?: boolean
    rolling?: boolean
    cookie?: { secure?: boolean; httpOnly?: boolean; maxAge?: number }
  }

  export default function session(options: SessionOptions): RequestHandler
}
