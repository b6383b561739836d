/**
 * What every benchmark server shares: the session data, the routes' shape and the process plumbing.
 * Servers read PORT and REDIS_URL from the environment and print `listening` once they accept connections.
 */

/** The exact 211-byte application data of peer-baseline.md §6, stored in every signed-in session. */
export const APP_DATA_JSON =
  '{"userId":"u_8f3a9c2e71b4","username":"alice.example","email":"alice@example.com","roles":["user","editor"],"csrf":"q9XbW3k2Zr7LmN0pT5vY8cD1fG4hJ6sA","loginAt":1732560000000,"prefs":{"theme":"dark","lang":"en"}}'

export type AppData = Record<string, string | number | string[] | Record<string, string>>

export const APP_DATA = JSON.parse(APP_DATA_JSON) as AppData

/** The user the load runs sign in once per round (the cookie every connection then shares). */
export const LOGIN_USER = 'u_8f3a9c2e71b4'

/** A real desktop Chrome User-Agent, sent with every request (sessionkit parses it at sign-in). */
export const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'

/** Secret of the peers' signed cookies (express-session, @fastify/session). */
export const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789'

export function env(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is not set`)
  return value
}

export function port(): number {
  return Number(env('PORT'))
}

/** Exits cleanly on SIGTERM/SIGINT so `--cpu-prof` writes its profile. */
export function exitOnSignal(close: () => Promise<unknown>): void {
  const stop = (): void => {
    const timer = setTimeout(() => process.exit(0), 2000)
    timer.unref()
    close().then(
      () => process.exit(0),
      () => process.exit(0),
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

/** The user a sign-in request names (`/signin?u=...`), so every sign-in makes a new session of its own user. */
export function signInUser(query: unknown): string {
  const u = (query as Record<string, unknown> | undefined)?.u
  return typeof u === 'string' && u !== '' ? u : LOGIN_USER
}
