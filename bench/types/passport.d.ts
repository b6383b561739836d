// passport ships no types and @types/passport is not installed: the little the benchmark uses.
declare module 'passport' {
  import type { RequestHandler } from 'express'

  interface Passport {
    authenticate(strategy: string): RequestHandler
    serializeUser<U>(fn: (user: U, done: (error: unknown, id?: unknown) => void) => void): void
    deserializeUser<U>(fn: (id: unknown, done: (error: unknown, user?: U) => void) => void): void
  }

  const passport: Passport
  export default passport
}
