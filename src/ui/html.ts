/**
 * A tiny `html` tagged template that escapes every interpolated value unless it is already {@link SafeHtml}.
 * Arrays are joined (each item escaped or trusted on its own), and `undefined`, `null` and `false` render as
 * nothing, so conditionals read naturally: `${cond && html`<b>yes</b>`}`.
 *
 * @module
 */

/** Markup that is trusted as is: made only by {@link html} or {@link unsafeRaw}. */
export class SafeHtml {
  readonly #value: string
  constructor(value: string) {
    this.#value = value
  }
  toString(): string {
    return this.#value
  }
}

/** What may be interpolated into {@link html}. */
export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[]

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c] ?? c)
}

function render(value: HtmlValue): string {
  if (value === undefined || value === null || value === false) return ''
  if (value instanceof SafeHtml) return value.toString()
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('')
  return escapeHtml(String(value))
}

/** The tagged template: `html\`<p>${userText}</p>\`` escapes `userText`. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? ''
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? '')
  return new SafeHtml(out)
}

/** Trusts markup as is. Only for constants (icons, CSS) written in this package, never for input. */
export function unsafeRaw(markup: string): SafeHtml {
  return new SafeHtml(markup)
}
