import { describe, expect, it } from 'vitest'
import {
  currentSession,
  detachedSession,
  NamespacedSessionStore,
  NoRequestError,
  SessionTooLargeError,
  withSession,
} from '../../src/index.js'

describe('currentSession / withSession', () => {
  it('is undefined outside, set inside, restored after (also when fn throws), and survives awaits', async () => {
    expect(currentSession()).toBeUndefined()
    await withSession({ a: 1 }, async () => {
      expect(currentSession()?.get('a')).toBe(1)
      await new Promise((resolve) => setTimeout(resolve, 5))
      expect(currentSession()?.get('a')).toBe(1)
      withSession({ a: 2 }, () => {
        expect(currentSession()?.get('a')).toBe(2)
      })
      expect(() =>
        withSession(undefined, () => {
          expect(currentSession()).toBeUndefined()
          throw new Error('inner')
        }),
      ).toThrow('inner')
      expect(currentSession()?.get('a')).toBe(1)
    })
    expect(currentSession()).toBeUndefined()
  })

  it('a NamespacedSessionStore without a session argument follows the current session', () => {
    const feature = new NamespacedSessionStore('feature')
    const session = detachedSession()
    withSession(session, () => {
      expect(feature.get('x')).toBeUndefined()
      expect(session.size).toBe(0)
      feature.set('x', 1)
    })
    expect(session.namespace('feature').toObject()).toEqual({ x: 1 })
    // Outside any session: harmless no-op.
    feature.set('y', 2)
    expect(feature.get('x')).toBeUndefined()
    expect(session.namespace('feature').has('y')).toBe(false)
  })

  it('detached sessions hold data but refuse lifecycle operations with NoRequestError', async () => {
    const session = detachedSession({ a: [1] }, 256)
    expect(session.get('a')).toEqual([1])
    expect(session.isNew).toBe(true)
    expect(() => session.set('big', 'x'.repeat(300))).toThrow(SessionTooLargeError)
    for (const op of [
      () => session.signIn('u'),
      () => session.signOut(),
      () => session.rotate(),
      () => session.listSessions(),
      () => session.revokeSession('x'),
      () => session.revokeOtherSessions(),
    ]) {
      await expect(op()).rejects.toBeInstanceOf(NoRequestError)
      await expect(op()).rejects.toMatchObject({ code: 'SESSIONKIT_NO_REQUEST' })
    }
  })

  it('a plain object with a __proto__ key pollutes nothing', () => {
    const data = JSON.parse('{"__proto__":{"polluted":1},"ok":1}') as Record<string, never>
    const obj = withSession(data, () => {
      expect(currentSession()?.get('ok')).toBe(1)
      expect(currentSession()?.get('__proto__')).toEqual({ polluted: 1 })
      return currentSession()!.toObject()
    })
    expect(Object.getPrototypeOf(obj)).toBeNull()
    expect(Object.keys(obj).sort()).toEqual(['__proto__', 'ok'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
