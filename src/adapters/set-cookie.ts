/**
 * Helpers both adapters use to put sessionkit's `Set-Cookie` on a response without disturbing the application's
 * own cookies.
 *
 * @module
 */

type HeaderValue = number | string | readonly string[] | undefined

/**
 * Returns the `Set-Cookie` list with `value` replacing any earlier value set for the same cookie (same name,
 * `Domain` and `Path`): a request that signs in and then rotates must send only the last token, while the clears
 * of other scopes sent for a tossed cookie stay. `value` may be another cookie of sessionkit's (the known-device
 * cookie). `undefined` withdraws the session cookie's tokens (a new session that ended up not stored), keeping
 * the clears.
 */
export function replaceSetCookie(
  current: HeaderValue,
  cookieName: string,
  value: string | undefined,
): string[] {
  const list =
    current === undefined ? [] : Array.isArray(current) ? [...(current as string[])] : [String(current)]
  if (value === undefined) {
    const prefix = `${cookieName}=`
    return list.filter((item) => !item.startsWith(prefix) || isClear(item))
  }
  const prefix = value.slice(0, value.indexOf('=') + 1)
  const scope = scopeOf(value)
  return [...list.filter((item) => !item.startsWith(prefix) || scopeOf(item) !== scope), value]
}

/** A cookie's scope: its `Domain` and `Path` attributes, as the browser keys it. */
function scopeOf(setCookie: string): string {
  let domain = ''
  let path = ''
  for (const part of setCookie.split(';').slice(1)) {
    const [name = '', attribute = ''] = part.split('=', 2)
    const key = name.trim().toLowerCase()
    if (key === 'domain') domain = attribute.trim().toLowerCase().replace(/^\./, '')
    else if (key === 'path') path = attribute.trim()
  }
  return `${domain};${path}`
}

function isClear(setCookie: string): boolean {
  return /;\s*max-age=0(;|$)/i.test(setCookie)
}

/** A response that sets a session cookie must never be cached by a shared cache (OWASP, ASVS 5.0 14.3.2). */
export const NO_STORE = 'no-store'
