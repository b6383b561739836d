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
import {
  ClientClosedError,
  ClientOfflineError,
  ConnectionTimeoutError,
  ErrorReply,
  MaxCommandRedirectionsError,
  ReconnectStrategyError,
  RootNodesUnavailableError,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError,
} from '@redis/client'

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

/** Errors of the Redis client itself: connection lost or refused, timeouts, server error replies. */
function isRedisFailure(error: unknown): boolean {
  if (REDIS_ERRORS.some((type) => error instanceof type)) return true
  return (
    error instanceof Error &&
    /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE)\b/.test(error.message)
  )
}

const REDIS_ERRORS: readonly (abstract new (...args: never[]) => Error)[] = [
  ErrorReply,
  ConnectionTimeoutError,
  SocketTimeoutError,
  ClientClosedError,
  ClientOfflineError,
  SocketClosedUnexpectedlyError,
  RootNodesUnavailableError,
  ReconnectStrategyError,
  TimeoutError,
  MaxCommandRedirectionsError,
]

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export function firstLine(text: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? ''
  return line.length > 300 ? `${line.slice(0, 300)}…` : line
}
