/**
 * What GitLab builds around a sign-in, for the lifecycle to call at the right moments:
 *
 * - the per-address count of anonymous sessions and its cap (GitLab's `AnonymousSession`), checked before an
 *   anonymous session is first stored, and cleared by a sign-in from the address;
 * - unknown-sign-in detection (GitLab's `KnownSignIn`): a sign-in is from a known device when its IP is one of
 *   the user's other live sessions' IPs (reported by the store in the sign-in's own create call) or the browser
 *   carries a valid known-device cookie; otherwise `onUnknownSignIn` and the `unknownSignIn` event fire. The
 *   cookie is set (refreshed) at every sign-in.
 *
 * The distinct-address limit (`uniqueIpsPerUser`) is enforced by the store itself, inside the load and create
 * calls, so it costs no round trip.
 *
 * @module
 */
import { addressBucket } from './address.js'
import { TooManyAnonymousSessionsError } from './errors.js'
import type { DeviceInfo } from './device.js'
import type { UnknownSignIn } from './events.js'
import type { KnownDeviceCookie } from './known-device.js'
import type { HttpContext } from './state.js'
import type { AnonymousLimit, CreateResult, SessionStore, StoredFields } from './store.js'
import { META } from './stored-fields.js'
import type { Telemetry } from './telemetry.js'
import type { UserRef } from './user-id.js'

/** Unknown-sign-in detection, when on. */
export interface UnknownSignInDetection {
  /** The known-device cookie, unless detection is by IP alone. */
  readonly cookie: KnownDeviceCookie | undefined
  readonly notify: ((signIn: UnknownSignIn) => unknown) | undefined
}

export interface GuardConfig {
  readonly store: SessionStore
  readonly telemetry: Telemetry
  readonly anonymousLimit: AnonymousLimit | undefined
  readonly unknownSignIn: UnknownSignInDetection | undefined
}

/** A sign-in that just succeeded, as the guards need to see it. */
export interface CompletedSignIn {
  readonly http: HttpContext
  readonly user: UserRef
  readonly publicId: string
  readonly ipAddress: string | undefined
  readonly device: DeviceInfo | undefined
  readonly created: CreateResult
  /** The fields of the session the sign-in replaced (empty when there was none). */
  readonly claimed: StoredFields
}

const NOTHING = Promise.resolve()

export class SessionGuards {
  readonly #store: SessionStore
  readonly #telemetry: Telemetry
  readonly #anonymous: AnonymousLimit | undefined
  readonly #detection: UnknownSignInDetection | undefined

  constructor(config: GuardConfig) {
    this.#store = config.store
    this.#telemetry = config.telemetry
    this.#anonymous = config.anonymousLimit
    this.#detection = config.unknownSignIn
  }

  /** Whether sign-ins are checked for unknown devices. */
  get detectsUnknownSignIns(): boolean {
    return this.#detection !== undefined
  }

  /**
   * Counts a new anonymous session for its client address, before it is stored (when counting is on; otherwise
   * `undefined`, with no store call).
   *
   * @returns rejects with TooManyAnonymousSessionsError when the address reached `maxAnonymousSessionsPerIp`
   */
  admitAnonymous(ipAddress: string | undefined): Promise<void> | undefined {
    const limit = this.#anonymous
    const bucket = limit === undefined || ipAddress === undefined ? undefined : addressBucket(ipAddress)
    if (limit === undefined || bucket === undefined) return undefined
    return this.#store.countAnonymous(bucket, limit).then((counted) => {
      if (!counted.allowed) throw new TooManyAnonymousSessionsError(bucket, limit.max ?? counted.count)
    })
  }

  /**
   * Forgets the address's anonymous count, as GitLab does after a successful authentication. Best effort: it
   * runs alongside the sign-in's own calls, and a failure (reported as a `storeError`) does not fail the sign-in.
   */
  clearAnonymous(ipAddress: string | undefined): Promise<void> {
    const bucket =
      this.#anonymous === undefined || ipAddress === undefined ? undefined : addressBucket(ipAddress)
    if (bucket === undefined) return NOTHING
    return this.#store.clearAnonymous(bucket).catch(() => undefined)
  }

  /**
   * After a sign-in (never an impersonation): decides whether the device was known, refreshes the known-device
   * cookie, and reports an unknown one. Returns whether it was known (`undefined` when detection is off).
   */
  signedIn(signIn: CompletedSignIn): boolean | undefined {
    const detection = this.#detection
    if (!detection) return undefined
    const { http, user, created } = signIn
    const known =
      created.knownIp === true ||
      this.#sameDeviceAsReplaced(signIn) ||
      (detection.cookie?.recognizes(http.cookieHeader, user.encoded, created.now) ?? false)
    if (detection.cookie && !http.headersSent()) {
      http.setCookie(detection.cookie.serialize(user.encoded, created.now))
    }
    if (!known) this.#reportUnknown(detection, signIn)
    return known
  }

  /**
   * The session the sign-in replaced was the same user's, from the same address: it left the user's index in
   * this sign-in's claim, before the store could compare addresses.
   */
  #sameDeviceAsReplaced(signIn: CompletedSignIn): boolean {
    if (signIn.ipAddress === undefined) return false
    let owner: string | undefined
    let ip: string | undefined
    let impersonated = false
    for (const [name, value] of signIn.claimed) {
      if (name === META.userId) owner = value
      else if (name === META.ipAddress) ip = value
      else if (name === META.impersonator) impersonated = true
    }
    return owner === signIn.user.encoded && !impersonated && ip === signIn.ipAddress
  }

  #reportUnknown(detection: UnknownSignInDetection, signIn: CompletedSignIn): void {
    const payload: UnknownSignIn = Object.freeze({
      userId: signIn.user.id,
      device: signIn.device,
      ipAddress: signIn.ipAddress,
      signedInAt: new Date(signIn.created.now),
      publicId: signIn.publicId,
    })
    if (this.#telemetry.wants('unknownSignIn')) this.#telemetry.emit('unknownSignIn', payload)
    const notify = detection.notify
    if (!notify) return
    try {
      const result = notify(payload)
      if (result instanceof Promise) result.catch(warnNotify)
    } catch (error) {
      warnNotify(error)
    }
  }
}

function warnNotify(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error)
  process.emitWarning(`sessionkit onUnknownSignIn failed: ${message}`, { code: 'SESSIONKIT_LISTENER_ERROR' })
}
