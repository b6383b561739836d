/** How failures map to the CLI's one-line messages and exit codes: no Redis needed. */
import { describe, expect, it } from 'vitest'
import { InvalidUserIdError, StoreUnavailableError } from '../../src/index.js'
import { EXIT, toCliError } from '../../src/cli/errors.js'

describe('CLI errors', () => {
  it('a MOVED reply (a Cluster node reached through --redis) is a usage error pointing at --cluster', () => {
    const cause = new Error('MOVED 3999 127.0.0.1:7001')
    for (const error of [
      cause,
      new StoreUnavailableError('redis EVALSHA failed: MOVED 3999 127.0.0.1:7001', { cause }),
    ]) {
      const mapped = toCliError(error)
      expect(mapped.exitCode).toBe(EXIT.usage)
      expect(mapped.message).toBe(
        'a Redis Cluster answered (MOVED to 127.0.0.1:7001): connect with --cluster 127.0.0.1:7001',
      )
    }
  })

  it('store failures are exit 3, invalid input exit 2, anything else exit 1 as an internal error', () => {
    expect(toCliError(new StoreUnavailableError('redis SCAN did not answer within 10000 ms')).exitCode).toBe(
      EXIT.unavailable,
    )
    expect(toCliError(new InvalidUserIdError('a user id must not be empty')).exitCode).toBe(EXIT.usage)
    // A client's own error, recognised by class name whichever client is installed.
    class ReplyError extends Error {}
    expect(toCliError(new ReplyError('NOPERM this user has no permissions')).exitCode).toBe(EXIT.unavailable)
    const internal = toCliError(new TypeError('x is not a function\n    at somewhere'))
    expect(internal.exitCode).toBe(EXIT.notFound)
    expect(internal.message).toBe('internal error: x is not a function')
  })
})
