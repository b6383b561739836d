/**
 * Device details from the User-Agent, parsed once at sign-in (never per request) with node-device-detector, the
 * JavaScript port of Matomo's device-detector (the database GitLab's `DeviceDetector` gem uses).
 *
 * The User-Agent is truncated before parsing: the detector's regular expressions backtrack on long crafted
 * strings (a 5,000-digit `Chrome/...` costs ~100 ms at 500 chars, ~50 ms at 300), and every real browser's
 * User-Agent fits in 300 characters. Results are cached (LRU), so a fleet of identical browsers costs one parse.
 *
 * @module
 */
/** Device details parsed from the User-Agent at sign-in. */
export interface DeviceInfo {
  /** Browser name, e.g. `Chrome`, `Mobile Safari`; empty when unknown. */
  readonly browser: string
  /** Operating system name, e.g. `Windows`, `iOS`; empty when unknown. */
  readonly os: string
  /** Device type as the detector names it: `desktop`, `smartphone`, `tablet`, `phablet`, `tv`...; empty when unknown. */
  readonly deviceType: string
  /** Marketing name where known, e.g. `iPhone`, `Galaxy S23 Ultra`; empty otherwise. */
  readonly deviceName: string
}

/** Turns a User-Agent into device details. Must not throw. */
export type DeviceParser = (userAgent: string) => DeviceInfo | Promise<DeviceInfo>

/** Longest User-Agent prefix that is parsed. */
export const DEFAULT_MAX_USER_AGENT_LENGTH = 300

const UNKNOWN: DeviceInfo = Object.freeze({ browser: '', os: '', deviceType: '', deviceName: '' })
const CACHE_SIZE = 1000

interface Detector {
  detect(userAgent: string): {
    client: { name?: string }
    os: { name?: string }
    device: { type?: string; brand?: string; model?: string }
  }
}

let detector: Detector | undefined
let loading: Promise<Detector> | undefined

/**
 * Loads the detector (about 0.5 s and 25 MB the first time) in the background. Adapters call it at setup so the
 * first sign-in does not pay for it.
 */
export function preloadDeviceDetector(): Promise<void> {
  loading ??= import('node-device-detector').then((module) => {
    // A CommonJS module: its `module.exports` is the class, which ESM sees as `default`.
    const DeviceDetector = module.default as unknown as new (options: object) => Detector
    detector = new DeviceDetector({
      clientIndexes: true,
      deviceIndexes: true,
      osIndexes: true,
      deviceAliasCode: false,
      maxUserAgentSize: DEFAULT_MAX_USER_AGENT_LENGTH,
    })
    return detector
  })
  return loading.then(() => undefined)
}

/**
 * Creates the default parser: node-device-detector behind a truncation and an LRU cache.
 *
 * @param maxLength characters of the User-Agent that are parsed (default 300)
 */
export function createDeviceParser(maxLength: number = DEFAULT_MAX_USER_AGENT_LENGTH): DeviceParser {
  const cache = new Map<string, DeviceInfo>()
  return async (userAgent) => {
    const ua = userAgent.slice(0, maxLength)
    if (!detector) await preloadDeviceDetector().catch(() => undefined)
    const cached = cache.get(ua)
    if (cached) {
      // Re-insert to keep the Map in least-recently-used order.
      cache.delete(ua)
      cache.set(ua, cached)
      return cached
    }
    const info = detect(ua)
    cache.set(ua, info)
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value ?? '')
    return info
  }
}

function detect(ua: string): DeviceInfo {
  if (ua === '' || !detector) return UNKNOWN
  try {
    const result = detector.detect(ua)
    const brand = result.device.brand ?? ''
    const model = result.device.model ?? ''
    return Object.freeze({
      browser: result.client.name ?? '',
      os: result.os.name ?? '',
      deviceType: result.device.type ?? '',
      // "iPhone", "Galaxy S23 Ultra": the model already says it for Apple and most phones.
      deviceName: model !== '' ? model : brand,
    })
  } catch {
    return UNKNOWN
  }
}

/** The four icon families of the Active Sessions page (GitLab's helper has the same buckets). */
export type DeviceCategory = 'desktop' | 'phone' | 'tablet' | 'other'

/**
 * The icon family of a device type as the detector names it (`ActiveSession.deviceType`): smartphones, feature
 * phones and phablets are `phone`; anything unknown is `other`.
 *
 * @example
 * ```ts
 * deviceCategory('smartphone') // 'phone'
 * deviceCategory('') // 'other'
 * ```
 */
export function deviceCategory(deviceType: string): DeviceCategory {
  switch (deviceType) {
    case 'desktop':
      return 'desktop'
    case 'smartphone':
    case 'feature phone':
    case 'phablet':
      return 'phone'
    case 'tablet':
      return 'tablet'
    default:
      return 'other'
  }
}

/** Longest device field kept (a custom parser may return anything; stored metadata must stay bounded). */
export const MAX_DEVICE_FIELD_LENGTH = 100

/** Device info is stored as a compact JSON array `[browser, os, deviceType, deviceName]`. */
export function encodeDevice(device: DeviceInfo): string {
  const cut = (text: unknown): string =>
    typeof text === 'string' ? text.slice(0, MAX_DEVICE_FIELD_LENGTH) : ''
  return JSON.stringify([cut(device.browser), cut(device.os), cut(device.deviceType), cut(device.deviceName)])
}

/** Reverses {@link encodeDevice}; `undefined` for anything else. */
export function decodeDevice(text: string | undefined): DeviceInfo | undefined {
  if (text === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(text)
    if (!Array.isArray(parsed) || parsed.length !== 4 || !parsed.every((v) => typeof v === 'string')) {
      return undefined
    }
    const [browser, os, deviceType, deviceName] = parsed as [string, string, string, string]
    return { browser, os, deviceType, deviceName }
  } catch {
    return undefined
  }
}
