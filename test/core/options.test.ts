import { describe, expect, it } from 'vitest'
import { createSessionkit, DEFAULTS, InvalidOptionsError, MemoryStore } from '../../src/index.js'
import { RedisStore } from '../../src/stores/redis/redis-store.js'

const store = new MemoryStore({ sweepIntervalMs: 0 })

function expectInvalid(options: Record<string, unknown>, mention?: string): void {
  let caught: unknown
  try {
    createSessionkit({ store, ...options })
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(InvalidOptionsError)
  expect(caught).toMatchObject({ code: 'SESSIONKIT_INVALID_OPTIONS' })
  if (mention !== undefined) expect((caught as Error).message).toContain(mention)
}

describe('createSessionkit options', () => {
  it('defaults are applied and frozen', () => {
    const kit = createSessionkit({ store })
    expect(kit.options.policy).toMatchObject({
      idleTimeoutMs: DEFAULTS.idleTimeoutMs,
      absoluteTimeoutMs: DEFAULTS.absoluteTimeoutMs,
      anonymousTimeoutMs: DEFAULTS.anonymousTimeoutMs,
      touchIntervalMs: DEFAULTS.touchIntervalMs,
      maxSessionsPerUser: DEFAULTS.maxSessionsPerUser,
    })
    expect(Object.isFrozen(kit.options)).toBe(true)
    expect(Object.isFrozen(kit.options.policy)).toBe(true)
    // Secure by default, so the __Host- prefix is on by default.
    expect(kit.cookieName).toBe('__Host-sid')
  })

  it.each(['idleTimeoutMs', 'absoluteTimeoutMs', 'anonymousTimeoutMs', 'touchIntervalMs'])(
    '%s: rejects 0, negative, NaN, Infinity, 2**53, fractions and strings',
    (name) => {
      for (const value of [0, -1, Number.NaN, Infinity, 2 ** 53, 1.5, '10', null, {}]) {
        expectInvalid({ [name]: value }, name)
      }
    },
  )

  it.each([
    [{ idleTimeoutMs: 2000, absoluteTimeoutMs: 1000, anonymousTimeoutMs: 500 }, 'idleTimeoutMs'],
    [{ anonymousTimeoutMs: 2000, absoluteTimeoutMs: 1000, idleTimeoutMs: 500 }, 'anonymousTimeoutMs'],
    [{ touchIntervalMs: 1000, idleTimeoutMs: 1000, anonymousTimeoutMs: 1000 }, 'touchIntervalMs'],
    [{ touchIntervalMs: 600, idleTimeoutMs: 1000, anonymousTimeoutMs: 500 }, 'touchIntervalMs'],
    [{ maxSessionBytes: 1 }, 'maxSessionBytes'],
    [{ maxSessionBytes: 2 ** 40 }, 'maxSessionBytes'],
    [{ maxSessionsPerUser: 0 }, 'maxSessionsPerUser'],
    [{ maxSessionsPerUser: 1.5 }, 'maxSessionsPerUser'],
    [{ maxSessionsPerUser: '5' }, 'maxSessionsPerUser'],
    [{ maxUserAgentLength: 0 }, 'maxUserAgentLength'],
    [{ deviceParser: 'yes' }, 'deviceParser'],
    [{ cookie: { sameSite: 'none', secure: false } }, 'sameSite'],
    [{ cookie: { sameSite: 'bogus' } }, 'sameSite'],
    [{ cookie: { name: 'a;b' } }, 'cookie.name'],
    [{ cookie: { name: 'sid\r\nSet-Cookie: x=1' } }, 'cookie.name'],
    [{ cookie: { name: '__Host-sid' } }, 'cookie.name'],
    [{ cookie: { path: '/; Domain=evil.example' } }, 'cookie.path'],
    [{ cookie: { path: '/\r\n' } }, 'cookie.path'],
    [{ cookie: { domain: 'evil.example; Secure' } }, 'cookie.domain'],
    [{ cookie: { hostPrefix: true, secure: false } }, 'hostPrefix'],
    [{ cookie: { hostPrefix: true, domain: 'example.com' } }, 'hostPrefix'],
    [{ cookie: { secure: 'false' } }, 'cookie.secure'],
  ])('rejects %j', (options, mention) => {
    expectInvalid(options, mention)
  })

  it('rejects a missing or wrong store', () => {
    for (const value of [undefined, null, {}, { load: 1 }, 'redis://x']) {
      expect(() => createSessionkit({ store: value } as never)).toThrow(InvalidOptionsError)
    }
    expect(() => createSessionkit(undefined as never)).toThrow(InvalidOptionsError)
  })

  it('RedisStore rejects a bad client, prefix or timeout', () => {
    const client = { sendCommand: () => Promise.resolve(null) }
    for (const options of [
      undefined,
      { client: undefined },
      { client: {} },
      { client, prefix: 'a{b}' },
      { client, prefix: 'a*' },
      { client, prefix: 'x'.repeat(65) },
      { client, timeoutMs: 0 },
      { client, timeoutMs: -5 },
      { client, timeoutMs: 1.5 },
      { client, timeoutMs: Number.NaN },
    ]) {
      expect(() => new RedisStore(options as never), JSON.stringify(options)).toThrow(InvalidOptionsError)
    }
    expect(() => new RedisStore({ client, prefix: 'app:sess:' })).not.toThrow()
  })

  it('MemoryStore rejects a bad sweep interval', () => {
    expect(() => new MemoryStore({ sweepIntervalMs: -1 })).toThrow(InvalidOptionsError)
  })

  it.each([
    [
      () => createSessionkit({ store, idleTimoutMs: 1000 } as never),
      'unknown option "idleTimoutMs"',
      'idleTimeoutMs',
    ],
    [() => createSessionkit({ store, cookie: { sameSIte: 'lax' } } as never), '"sameSIte"', 'sameSite'],
    [
      () => new RedisStore({ client: { sendCommand: () => Promise.resolve(null) }, timeOutMs: 5 } as never),
      '"timeOutMs"',
      'timeoutMs',
    ],
    [() => new MemoryStore({ sweepInterval: 5 } as never), '"sweepInterval"', 'sweepIntervalMs'],
  ])('a misspelt option is refused, naming the closest valid one (%#)', (make, unknown, closest) => {
    expect(make).toThrow(InvalidOptionsError)
    expect(make).toThrow(unknown)
    expect(make).toThrow(`did you mean "${closest}"`)
  })

  it('an option name far from every valid one is refused without a guess', () => {
    expect(() => createSessionkit({ store, banana: true } as never)).toThrow(/unknown option "banana"$/)
  })

  it('maxUserAgentLength above what the device parser reads (300) is refused, not silently capped', () => {
    expectInvalid({ maxUserAgentLength: 301 }, 'maxUserAgentLength')
    expectInvalid({ maxUserAgentLength: 1000 }, 'maxUserAgentLength')
    expect(() => createSessionkit({ store, maxUserAgentLength: 300 })).not.toThrow()
  })

  it('RedisStore refuses a waitForReplicas that could not finish within the call deadline', () => {
    const client = { sendCommand: () => Promise.resolve(null) }
    expect(
      () => new RedisStore({ client, timeoutMs: 500, waitForReplicas: { replicas: 1, timeoutMs: 500 } }),
    ).toThrow(/waitForReplicas.timeoutMs/)
    expect(() => new RedisStore({ client, waitForReplicas: { replicas: 0, timeoutMs: 100 } })).toThrow(
      InvalidOptionsError,
    )
    expect(() => new RedisStore({ client, maxInFlight: 0 })).toThrow(InvalidOptionsError)
    expect(() => new RedisStore({ client, circuitBreaker: { failures: -1 } })).toThrow(InvalidOptionsError)
    expect(() => new RedisStore({ client, circuitBreaker: false, maxInFlight: 10 })).not.toThrow()
  })
})
