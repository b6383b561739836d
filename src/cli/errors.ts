/**
 * The CLI's one error type: a message for stderr and the exit code the process ends with.
 *
 * | code | meaning                                             |
 * |------|-----------------------------------------------------|
 * | 0    | done                                                |
 * | 1    | not found (or an unexpected internal failure)       |
 * | 2    | bad usage: unknown command or option, invalid value |
 * | 3    | Redis unreachable, timed out or refused a command   |
 *
 * @module
 */
import {
  InvalidOptionsError,
  InvalidSessionKeyError,
  InvalidUserIdError,
  StoreUnavailableError,
} from '../core/errors.js'
import { toUserRef, type UserRef } from '../core/user-id.js'

export const EXIT = Object.freeze({ ok: 0, notFound: 1, usage: 2, unavailable: 3 })

export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

export class CliError extends Error {
  readonly exitCode: ExitCode

  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.exitCode = exitCode
  }

  override get name(): string {
    return 'CliError'
  }
}

export function usageError(message: string): CliError {
  return new CliError(EXIT.usage, message)
}

/** Validates a user id from the command line. @throws {CliError} exit 2 */
export function userFromArgument(id: string): UserRef {
  try {
    return toUserRef(id)
  } catch (error) {
    throw usageError(errorMessage(error))
  }
}

export function notFoundError(message: string): CliError {
  return new CliError(EXIT.notFound, message)
}

export function unavailableError(message: string, cause?: unknown): CliError {
  return new CliError(EXIT.unavailable, message, { cause })
}

/** Maps anything thrown while running a command to a CliError: the only kind of failure the CLI reports. */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error
  const moved = movedTo(error)
  if (moved !== undefined) {
    return usageError(`a Redis Cluster answered (MOVED to ${moved}): connect with --cluster ${moved}`)
  }
  if (error instanceof StoreUnavailableError) return unavailableError(error.message, error)
  if (
    error instanceof InvalidUserIdError ||
    error instanceof InvalidOptionsError ||
    error instanceof InvalidSessionKeyError
  ) {
    return usageError(error.message)
  }
  if (isRedisFailure(error)) return unavailableError(`redis: ${firstLine(errorMessage(error))}`, error)
  return new CliError(EXIT.notFound, `internal error: ${firstLine(errorMessage(error))}`, { cause: error })
}

/** The `host:port` of a MOVED or ASK redirection anywhere in the error's chain: a Cluster node behind --redis. */
function movedTo(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const match = /\b(?:MOVED|ASK) \d+ (\S+:\d+)/.exec(e.message)
    if (match) return match[1]
  }
  return undefined
}

/**
 * Errors of a Redis client itself: connection lost or refused, timeouts, server error replies. Told apart by class
 * name, since the CLI loads whichever client is installed (node-redis leaves `name` as "Error").
 */
function isRedisFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  return (
    REDIS_ERROR_NAMES.has(error.name) ||
    REDIS_ERROR_NAMES.has(error.constructor.name) ||
    /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE)\b/.test(error.message)
  )
}

const REDIS_ERROR_NAMES: ReadonlySet<string> = new Set([
  // node-redis
  'ErrorReply',
  'ConnectionTimeoutError',
  'SocketTimeoutError',
  'ClientClosedError',
  'ClientOfflineError',
  'SocketClosedUnexpectedlyError',
  'RootNodesUnavailableError',
  'ReconnectStrategyError',
  'TimeoutError',
  'MaxCommandRedirectionsError',
  // ioredis
  'ReplyError',
  'MaxRetriesPerRequestError',
  'ClusterAllFailedError',
  'RedisError',
])

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export function firstLine(text: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? ''
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}
