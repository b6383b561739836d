/**
 * Every error sessionkit throws is a {@link SessionkitError} with a stable `code`, so callers can branch on
 * `err.code` (or `instanceof`) instead of matching messages.
 *
 * @module
 */

/** Stable error codes. They are part of the public API: never rename one. */
export type SessionkitErrorCode =
  | 'SESSIONKIT_INVALID_OPTIONS'
  | 'SESSIONKIT_INVALID_VALUE'
  | 'SESSIONKIT_INVALID_KEY'
  | 'SESSIONKIT_SESSION_TOO_LARGE'
  | 'SESSIONKIT_INVALID_USER_ID'
  | 'SESSIONKIT_STORE_UNAVAILABLE'
  | 'SESSIONKIT_SESSION_CONFLICT'
  | 'SESSIONKIT_NO_REQUEST'
  | 'SESSIONKIT_HEADERS_SENT'

/** Base class of every error sessionkit throws. */
export class SessionkitError extends Error {
  readonly code: SessionkitErrorCode

  constructor(code: SessionkitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  override get name(): string {
    return this.constructor.name
  }
}

/** Options given to a constructor or factory are invalid. Thrown at construction, never per request. */
export class InvalidOptionsError extends SessionkitError {
  constructor(message: string) {
    super('SESSIONKIT_INVALID_OPTIONS', message)
  }
}

/**
 * A value given to `session.set()` cannot be stored as JSON and read back unchanged (a function, a class
 * instance, a Map, a BigInt, a cycle, NaN...). Nothing was written.
 */
export class InvalidSessionValueError extends SessionkitError {
  /** The session key (or `namespace.key`) whose value was rejected. */
  readonly key: string
  /** Where inside the value the problem is, as a JSON path such as `$.items[2]`. */
  readonly path: string

  constructor(key: string, path: string, reason: string) {
    super('SESSIONKIT_INVALID_VALUE', `session value for key "${key}" is not JSON-safe at ${path}: ${reason}`)
    this.key = key
    this.path = path
  }
}

/** A session key or namespace name is not a string of the allowed length and characters. */
export class InvalidSessionKeyError extends SessionkitError {
  constructor(message: string) {
    super('SESSIONKIT_INVALID_KEY', message)
  }
}

/** Storing a value would make the session larger than `maxSessionBytes`. Nothing was written. */
export class SessionTooLargeError extends SessionkitError {
  readonly key: string
  readonly size: number
  readonly limit: number

  constructor(key: string, size: number, limit: number) {
    super(
      'SESSIONKIT_SESSION_TOO_LARGE',
      `setting "${key}" would make the session ${size} bytes, over the limit of ${limit} bytes (maxSessionBytes)`,
    )
    this.key = key
    this.size = size
    this.limit = limit
  }
}

/** A user id is empty, too long, or not a string or safe integer. */
export class InvalidUserIdError extends SessionkitError {
  constructor(message: string) {
    super('SESSIONKIT_INVALID_USER_ID', message)
  }
}

/**
 * The session store failed or did not answer within `storeTimeoutMs`. This is never "no session": adapters
 * turn it into a 503 and leave the visitor's cookie alone.
 */
export class StoreUnavailableError extends SessionkitError {
  /** HTTP status for frameworks that read `statusCode` (Express, Fastify). */
  readonly statusCode = 503
  /** Frameworks must not show this message to clients. */
  readonly expose = false

  constructor(message: string, options?: { cause?: unknown }) {
    super('SESSIONKIT_STORE_UNAVAILABLE', message, options)
  }
}

/**
 * The session changed under this request: it was rotated, signed out or revoked by another request between
 * load and this operation. Thrown by `rotate()`/`signIn()`, so that of two concurrent rotations only one wins.
 */
export class SessionConflictError extends SessionkitError {
  readonly statusCode = 409

  constructor(message: string) {
    super('SESSIONKIT_SESSION_CONFLICT', message)
  }
}

/** A lifecycle operation (sign-in, sign-out, rotate) was called on a session that is not bound to a request. */
export class NoRequestError extends SessionkitError {
  constructor(operation: string) {
    super(
      'SESSIONKIT_NO_REQUEST',
      `session.${operation}() needs a session bound to an HTTP request (this one comes from withSession or a job)`,
    )
  }
}

/** The session needed to set a cookie after the response headers were already sent. */
export class HeadersSentError extends SessionkitError {
  constructor(operation: string) {
    super(
      'SESSIONKIT_HEADERS_SENT',
      `cannot ${operation}: the response headers were already sent, so the session cookie cannot be set`,
    )
  }
}
