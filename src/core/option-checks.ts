/**
 * Checks shared by every options object sessionkit validates (createSessionkit, cookie, RedisStore, the UI): a
 * misspelt option name is an error that names the closest valid one, never a silently ignored default.
 *
 * @module
 */
import { InvalidOptionsError } from './errors.js'

/**
 * @param where how the caller is named in the message (`createSessionkit`, `cookie`...)
 * @throws {InvalidOptionsError} for the first own key of `options` that is not in `known`
 */
export function rejectUnknownOptions(where: string, options: object, known: readonly string[]): void {
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue
    const closest = closestName(name, known)
    throw new InvalidOptionsError(
      `${where}: unknown option ${JSON.stringify(name)}${closest === undefined ? '' : ` (did you mean ${JSON.stringify(closest)}?)`}`,
    )
  }
}

/** The name of `known` nearest to `name` (edit distance, case-insensitive), if any is reasonably near. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

/** Levenshtein distance. Option names are short, so the quadratic table is fine. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost)
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

/** A value as an error message shows it. */
export function describeValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}
