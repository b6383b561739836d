/**
 * Helpers both adapters use to put sessionkit's `Set-Cookie` on a response without disturbing the application's
 * own cookies.
 *
 * @module
 */

type HeaderValue = number | string | readonly string[] | undefined

/**
 * Returns the `Set-Cookie` list with `value` replacing any earlier value for the same cookie name (a request
 * that signs in and then rotates must send only the last token).
 */
export function replaceSetCookie(
  current: HeaderValue,
  cookieName: string,
  value: string | undefined,
): string[] {
  const list =
    current === undefined ? [] : Array.isArray(current) ? [...(current as string[])] : [String(current)]
  const prefix = `${cookieName}=`
  const others = list.filter((item) => !item.startsWith(prefix))
  return value === undefined ? others : [...others, value]
}

/** A response that sets a session cookie must never be cached by a shared cache (OWASP, ASVS 5.0 14.3.2). */
export const NO_STORE = 'no-store'
