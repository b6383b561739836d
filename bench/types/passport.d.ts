// passport ships no types and @types/passport is not installed: the little the benchmark uses.
declare module 'passport' {
  import type { RequestHandler } from 'express'

  interface Passport {
    authenticate(strategy: string): RequestHandler
    serializeUser(fn: (user: { id: string }, done: (error: unknown, id?: unknown) => void) => void): void
    deserializeUser(fn: (id: unknown, done: (error: unknown, user?: { id: string }) => void) => void): void
  }

  const passport: Passport
  export default passport
}
