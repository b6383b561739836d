/**
 * Fast seeding of sessionkit sessions straight into Redis, in the exact layout of src/stores/redis/keys.ts and
 * src/core/stored-fields.ts (what create.lua writes at sign-in): one hash per session, one index ZSET per user, both
 * with their PEXPIREAT. Commands are pipelined over a raw socket as RESP, so a million sessions take seconds.
 */
import { Socket } from 'node:net'
import { encodeDevice, type DeviceInfo } from '../../src/core/device.js'
import { META, dataField } from '../../src/core/stored-fields.js'
import { generateToken, refFromToken } from '../../src/core/token.js'
import { toUserRef } from '../../src/core/user-id.js'
import { KeyLayout } from '../../src/stores/redis/keys.js'

const DAY = 86_400_000

export interface SeedOptions {
  readonly port: number
  /** Users `${userPrefix}${i}` for i in [0, users). */
  readonly users: number
  readonly sessionsPerUser: number
  readonly userPrefix: string
  /** Application data (top-level keys become `d:<key>` fields). */
  readonly data: Record<string, unknown>
  readonly device: DeviceInfo
  readonly ipAddress: string
  /** Keep one token in `keepEvery` (to load those sessions by cookie later). */
  readonly keepEvery: number
  readonly prefix?: string
}

export interface SeededSession {
  readonly token: string
  readonly userId: string
}

function resp(args: readonly string[]): string {
  let out = `*${args.length}\r\n`
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`
  return out
}

/** The field/value pairs create.lua writes for a signed-in session (same names, same value encodings). */
export function sessionFields(
  options: Pick<SeedOptions, 'data' | 'device' | 'ipAddress'>,
  encodedUser: string,
  now: number,
): string[] {
  const fields: string[] = []
  for (const [key, value] of Object.entries(options.data)) fields.push(dataField(key), JSON.stringify(value))
  fields.push(META.ipAddress, options.ipAddress, META.device, encodeDevice(options.device))
  fields.push(
    META.createdAt,
    String(now),
    META.lastSeenAt,
    String(now),
    META.absoluteExpiresAt,
    String(now + 30 * DAY),
  )
  fields.push(META.userId, encodedUser, META.signedInAt, String(now))
  return fields
}

/** Seeds `users × sessionsPerUser` sessions; returns the kept tokens. */
export async function seedSessions(options: SeedOptions): Promise<SeededSession[]> {
  const layout = new KeyLayout(options.prefix)
  const socket = new Socket()
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.connect(options.port, '127.0.0.1', resolve)
  })
  let replies = 0
  let errorText = ''
  socket.on('data', (chunk: Buffer) => {
    // Every reply here is one line (`:n` or `-ERR ...`).
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) replies++
    if (errorText === '' && chunk.includes('-ERR')) errorText = chunk.toString().slice(0, 200)
  })
  let sent = 0
  const kept: SeededSession[] = []
  const now = Date.now()
  const expires = String(now + 7 * DAY)
  let batch = ''
  let n = 0
  const flush = async (): Promise<void> => {
    if (batch === '') return
    const ok = socket.write(batch)
    batch = ''
    if (!ok) await new Promise((resolve) => socket.once('drain', resolve))
    while (sent - replies > 300_000) await new Promise((resolve) => setTimeout(resolve, 5))
  }
  for (let u = 0; u < options.users; u++) {
    const user = toUserRef(`${options.userPrefix}${u}`)
    const index = layout.userIndex(user)
    const fields = sessionFields(options, user.encoded, now)
    for (let s = 0; s < options.sessionsPerUser; s++) {
      const token = generateToken(user.tag)
      const ref = refFromToken(token)
      const key = layout.session(ref)
      batch += resp(['HSET', key, ...fields])
      batch += resp(['PEXPIREAT', key, expires])
      batch += resp(['ZADD', index, expires, ref.hash])
      sent += 3
      if (n % options.keepEvery === 0) kept.push({ token, userId: user.id })
      n++
    }
    batch += resp(['PEXPIREAT', index, expires])
    sent += 1
    if (batch.length > 256 * 1024) await flush()
  }
  await flush()
  while (replies < sent) {
    if (errorText !== '') break
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  socket.destroy()
  if (errorText !== '') throw new Error(`seeding failed: ${errorText}`)
  return kept
}
