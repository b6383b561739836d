/**
 * A horizontal bar chart as server-rendered SVG: no chart library, no script, no inline `style` (the page's CSP
 * forbids it), so colours and sizes are presentation attributes and classes.
 *
 * @module
 */
import { html, type SafeHtml } from './html.js'

export interface BarDatum {
  readonly label: string
  readonly value: number
}

export interface BarChartOptions {
  /** Accessible title of the chart. */
  readonly title: string
  /** Most bars shown; the rest are summed into "Other". Default 8. */
  readonly maxBars?: number
}

// Sized so that, in a card of ~280 CSS px (a third of the admin page), one SVG unit is about one pixel.
const WIDTH = 280
const LABEL_WIDTH = 104
const VALUE_WIDTH = 34
const ROW = 28
const BAR = 16
const MAX_LABEL_CHARS = 14

/** Renders `data` (any order) as bars sorted by value, largest first. */
export function barChart(data: readonly BarDatum[], options: BarChartOptions): SafeHtml {
  const rows = topRows(data, options.maxBars ?? 8)
  if (rows.length === 0) {
    return html`<p class="muted chart-empty">No signed-in sessions yet.</p>`
  }
  const scale = {
    max: Math.max(...rows.map((d) => d.value)),
    total: rows.reduce((sum, d) => sum + d.value, 0),
  }
  const height = rows.length * ROW
  return html`<svg
    class="chart"
    viewBox="0 0 ${WIDTH} ${height}"
    width="100%"
    role="img"
    aria-label="${options.title}"
  >
    <title>${options.title}</title>
    ${rows.map((d, i) => bar(d, i * ROW, scale))}
  </svg>`
}

/** The largest values first; beyond `maxBars`, the rest summed into "Other". */
function topRows(data: readonly BarDatum[], maxBars: number): BarDatum[] {
  const sorted = [...data]
    .filter((d) => d.value > 0)
    .sort((a, b) => b.value - a.value || cmp(a.label, b.label))
  if (sorted.length <= maxBars) return sorted
  const rest = sorted.slice(maxBars - 1).reduce((sum, d) => sum + d.value, 0)
  return [...sorted.slice(0, maxBars - 1), { label: 'Other', value: rest }]
}

/** One bar at height `y`: its label, the bar scaled to the largest value, and the count. */
function bar(d: BarDatum, y: number, scale: { readonly max: number; readonly total: number }): SafeHtml {
  const width = Math.max(2, Math.round((d.value / scale.max) * (WIDTH - LABEL_WIDTH - VALUE_WIDTH)))
  const label = d.label.length > MAX_LABEL_CHARS ? `${d.label.slice(0, MAX_LABEL_CHARS - 1)}…` : d.label
  const percent = Math.round((d.value / scale.total) * 100)
  return html`<g class="bar" data-label="${d.label}" data-value="${d.value}"
    ><title>${d.label}: ${d.value} (${percent}%)</title
    ><text
      x="${LABEL_WIDTH - 10}"
      y="${y + ROW / 2}"
      text-anchor="end"
      dominant-baseline="central"
      class="bar-label"
      >${label}</text
    ><rect
      x="${LABEL_WIDTH}"
      y="${y + (ROW - BAR) / 2}"
      width="${width}"
      height="${BAR}"
      rx="4"
      class="bar-rect"
    /><text x="${LABEL_WIDTH + width + 8}" y="${y + ROW / 2}" dominant-baseline="central" class="bar-value"
      >${d.value}</text
    ></g
  >`
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
