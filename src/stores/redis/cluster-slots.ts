/**
 * Which Cluster primary serves each slot tag, for the near cache's per-primary tracking links: the slot of a
 * `{tag}` (CRC16, as Redis Cluster computes it) and the primaries `CLUSTER SLOTS` names for each slot range.
 *
 * @module
 */

/** Slots in a Redis Cluster. */
export const SLOT_COUNT = 16384
/** Slot tags are 3 hex characters (see core/token.ts). */
export const TAG_COUNT = 4096

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256)
  for (let i = 0; i < 256; i++) {
    let crc = i << 8
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
    table[i] = crc
  }
  return table
})()

/** CRC16-XMODEM of an ASCII string: the hash Redis Cluster uses for key slots. */
export function crc16(text: string): number {
  let crc = 0
  for (let i = 0; i < text.length; i++) {
    crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ text.charCodeAt(i)) & 0xff] as number)
  }
  return crc
}

/** The slot of every key tagged `{tag}`. */
export function slotOfTag(tag: string): number {
  return crc16(tag) % SLOT_COUNT
}

/** The index of a slot tag (`'000'`..`'fff'`), or -1 for anything else. */
export function tagIndex(tag: string): number {
  if (tag.length !== 3) return -1
  let index = 0
  for (let i = 0; i < 3; i++) {
    const c = tag.charCodeAt(i)
    const digit = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1
    if (digit < 0) return -1
    index = index * 16 + digit
  }
  return index
}

/** The tag of a tag index. */
export function tagAt(index: number): string {
  return index.toString(16).padStart(3, '0')
}

/** A slot range and the node id of the primary that serves it. */
export interface SlotRange {
  readonly start: number
  readonly end: number
  readonly primary: string
}

/**
 * Reads a `CLUSTER SLOTS` reply: `[[start, end, [host, port, id, ...], replica...], ...]`. Ranges without a
 * primary id are left out (their slots then have no tracking link, so their sessions are not cached).
 */
export function parseClusterSlots(reply: unknown): SlotRange[] {
  if (!Array.isArray(reply)) return []
  const ranges: SlotRange[] = []
  for (const entry of reply as unknown[]) {
    if (!Array.isArray(entry)) continue
    const [start, end, primary] = entry as unknown[]
    const id = Array.isArray(primary) ? (primary as unknown[])[2] : undefined
    if (typeof id !== 'string' && !Buffer.isBuffer(id)) continue
    ranges.push({ start: Number(start), end: Number(end), primary: String(id) })
  }
  return ranges
}

/** For each tag index, the primary id that serves its slot (`undefined` when no range covers it). */
export function primariesByTag(ranges: readonly SlotRange[]): (string | undefined)[] {
  const bySlot = new Array<string | undefined>(SLOT_COUNT)
  for (const range of ranges) {
    for (let slot = Math.max(0, range.start); slot <= Math.min(SLOT_COUNT - 1, range.end); slot++) {
      bySlot[slot] = range.primary
    }
  }
  const byTag = new Array<string | undefined>(TAG_COUNT)
  for (let i = 0; i < TAG_COUNT; i++) byTag[i] = bySlot[slotOfTag(tagAt(i))]
  return byTag
}
