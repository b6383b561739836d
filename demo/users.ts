/**
 * The demo's users. A real app keeps password hashes (argon2/scrypt) in a database; the demo compares SHA-256
 * digests with `timingSafeEqual`, so the comparison takes the same time whatever the input.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

export interface DemoUser {
  readonly username: string
  readonly password: string
  readonly admin: boolean
}

export const DEMO_USERS: readonly DemoUser[] = [
  { username: 'alice', password: 'alice-password', admin: false },
  { username: 'bob', password: 'bob-password', admin: false },
  { username: 'admin', password: 'admin-password', admin: true },
]

const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

/** The user whose credentials these are, or undefined. */
export function authenticate(username: unknown, password: unknown): DemoUser | undefined {
  if (typeof username !== 'string' || typeof password !== 'string') return undefined
  const given = digest(password)
  let found: DemoUser | undefined
  for (const user of DEMO_USERS) {
    // Compare against every user so timing does not reveal which usernames exist.
    const match = timingSafeEqual(digest(user.password), given) && user.username === username
    if (match) found = user
  }
  return found
}

export function isAdminUser(userId: string | undefined): boolean {
  return DEMO_USERS.some((user) => user.admin && user.username === userId)
}
