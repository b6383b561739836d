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
  | 'SESSIONKIT_INVALID_ARGUMENT'
  | 'SESSIONKIT_NOT_SIGNED_IN'
  | 'SESSIONKIT_TOO_MANY_ANONYMOUS_SESSIONS'
  | 'SESSIONKIT_TOO_MANY_IPS'

/**
 * Base class of every error sessionkit throws.
 *
 * @example
 * ```ts
 * app.use((error, req, res, next) => {
 *   if (error instanceof SessionkitError && error.code === 'SESSIONKIT_STORE_UNAVAILABLE') {
 *     return res.status(503).send('Sessions are unavailable, try again in a moment')
 *   }
 *   next(error)
 * })
 * ```
 */
export class SessionkitError extends Error {
  /** What kind of error this is: stable across versions, unlike the message. */
  readonly code: SessionkitErrorCode

  constructor(code: SessionkitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
  }

  /** The class name (`'StoreUnavailableError'`...), so stack traces and logs say which error it is. */
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
  /** The session key (or `namespace.key`) whose value was refused. */
  readonly key: string
  /** The size the session would have had with the value, in bytes (key names + JSON of every value). */
  readonly size: number
  /** `maxSessionBytes`, in bytes. */
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
 * The session store failed, did not answer within its `timeoutMs` (`RedisStore`'s, default 1 s), is shedding load,
 * or the replicas did not confirm a write (`waitForReplicas`). This is never "no session": adapters turn it into a
 * 503 and leave the visitor's cookie alone.
 */
export class StoreUnavailableError extends SessionkitError {
  /** HTTP status (503 Service Unavailable) for frameworks that read `statusCode` (Express, Fastify). */
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
  /** HTTP status (409 Conflict) for frameworks that read `statusCode` (Express, Fastify). */
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

/** An argument of a sessionkit call is malformed (a session id, an IP address, a duration...). */
export class InvalidArgumentError extends SessionkitError {
  /** The argument's name, as the method's documentation names it. */
  readonly argument: string

  constructor(argument: string, message: string) {
    super('SESSIONKIT_INVALID_ARGUMENT', message)
    this.argument = argument
  }
}

/** An operation that needs a signed-in session (such as `session.elevate()`) was called on an anonymous one. */
export class NotSignedInError extends SessionkitError {
  /** HTTP status (401 Unauthorized) for frameworks that read `statusCode` (Express, Fastify). */
  readonly statusCode = 401

  constructor(operation: string) {
    super('SESSIONKIT_NOT_SIGNED_IN', `session.${operation}() needs a signed-in session`)
  }
}

/**
 * A new anonymous session was refused: its client address already created `maxAnonymousSessionsPerIp` of them
 * in the counting window (GitLab's `AnonymousSession` limit). Nothing was stored. Turn it into a captcha or a
 * 429; the count for the address is cleared when someone signs in from it.
 */
export class TooManyAnonymousSessionsError extends SessionkitError {
  /** HTTP status (429 Too Many Requests) for frameworks that read `statusCode` (Express, Fastify). */
  readonly statusCode = 429
  /** What was counted: the IPv4 address, or the /64 network of an IPv6 address (`2001:db8:0:1::/64`). */
  readonly ipAddress: string
  /** `maxAnonymousSessionsPerIp`. */
  readonly limit: number

  constructor(ipAddress: string, limit: number) {
    super(
      'SESSIONKIT_TOO_MANY_ANONYMOUS_SESSIONS',
      `${ipAddress} already created ${limit} anonymous sessions in the counting window (maxAnonymousSessionsPerIp)`,
    )
    this.ipAddress = ipAddress
    this.limit = limit
  }
}

/**
 * A sign-in or request came from one more distinct address than `uniqueIpsPerUser.max` allows for the user in
 * the window (GitLab's `TooManyIps`). The addresses already seen keep working; this one is refused until the
 * window slides past the oldest.
 */
export class TooManyIpsError extends SessionkitError {
  /** HTTP status (429 Too Many Requests) for frameworks that read `statusCode` (Express, Fastify). */
  readonly statusCode = 429
  /** The user whose distinct addresses were counted. */
  readonly userId: string
  /** `uniqueIpsPerUser.max`. */
  readonly limit: number

  constructor(userId: string, limit: number) {
    super(
      'SESSIONKIT_TOO_MANY_IPS',
      `user ${JSON.stringify(userId)} already used ${limit} distinct addresses in the window (uniqueIpsPerUser)`,
    )
    this.userId = userId
    this.limit = limit
  }
}
