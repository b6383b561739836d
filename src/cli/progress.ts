/**
 * Progress lines of the long walks (`cleanup` over every user, `stats`), shown only when stderr is a terminal.
 * Their totals come from a first SCAN that only counts key names (no command per key), so a line reads
 * `cleanup: 1,200 of ~5,000 users`: `~` because keys come and go during the walk.
 *
 * @module
 */
import type { CliContext } from './connect.js'
import { countKeys } from './raw-redis.js'

/** `1,200`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US')
}

/** `1,200 of ~5,000` (the total never shown below what was already done). */
export function ofTotal(done: number, total: number): string {
  return `${formatCount(done)} of ~${formatCount(Math.max(done, total))}`
}

/** Counts the keys matching `pattern`, showing the count as it grows; `undefined` when progress is not shown. */
export async function totalForProgress(
  ctx: CliContext,
  label: string,
  pattern: string,
): Promise<number | undefined> {
  const progress = ctx.progress
  if (!progress) return undefined
  return countKeys(ctx.store.redis, pattern, (n) => {
    progress(`${label}… ${formatCount(n)}`)
  })
}
