/**
 * Client addresses as the per-address limits count them.
 *
 * @module
 */
import { isIP } from 'node:net'

/**
 * The unit an address is counted under for the anonymous-session cap: an IPv4 address as it is (also when it
 * arrives IPv4-mapped, `::ffff:203.0.113.5`), and an IPv6 address by its /64 network (`2001:db8:0:1::/64`),
 * since a client picks any address inside its /64 at will (privacy addresses): counting whole addresses would let
 * one client mint sessions without limit. `undefined` for anything that is not an IP address.
 */
export function addressBucket(address: string): string | undefined {
  const version = isIP(address)
  if (version === 4) return address
  if (version !== 6) return undefined
  const lower = address.toLowerCase().split('%', 1)[0] ?? ''
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower)
  if (mapped?.[1] !== undefined && isIP(mapped[1]) === 4) return mapped[1]
  return `${expandIpv6(lower).slice(0, 4).join(':')}::/64`
}

/** The eight hextets of an IPv6 address, without leading zeros (an embedded IPv4 tail becomes two). */
function expandIpv6(address: string): string[] {
  let text = address
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::', 2)
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const middle = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0')
  return [...left, ...middle, ...right].map((part) => parseInt(part, 16).toString(16))
}
