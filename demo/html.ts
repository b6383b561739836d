/** The demo's own pages (sign-in, home): a small escaped template and a shell with a strict CSP. */
import { createHash } from 'node:crypto'

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value
  }
}

type Value = Html | string | number | boolean | null | undefined | readonly Value[]

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

function render(value: Value): string {
  if (value === undefined || value === null || value === false) return ''
  if (value instanceof Html) return value.value
  if (Array.isArray(value)) return (value as readonly Value[]).map(render).join('')
  return escape(String(value))
}

export function html(strings: TemplateStringsArray, ...values: readonly Value[]): Html {
  let out = strings[0] ?? ''
  values.forEach((value, i) => (out += render(value) + (strings[i + 1] ?? '')))
  return new Html(out)
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f5f6f8;color:#1d2330;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
main{max-width:440px;margin:0 auto;padding:48px 20px}
h1{font-size:24px;margin:0 0 6px}
p.lead{color:#5f6b7a;margin:0 0 24px}
.card{background:#fff;border:1px solid #e3e7ed;border-radius:12px;padding:20px;margin-bottom:20px}
label{display:block;font-weight:600;font-size:14px;margin:0 0 6px}
input[type=text],input[type=password]{width:100%;font:inherit;min-height:40px;padding:0 12px;border:1px solid #cdd3dc;
border-radius:8px;margin-bottom:14px}
.check{display:flex;gap:8px;align-items:center;font-weight:400;margin-bottom:18px}
button,.button{display:inline-flex;align-items:center;justify-content:center;min-height:40px;padding:0 18px;
border-radius:8px;border:1px solid #2f5bd3;background:#2f5bd3;color:#fff;font:inherit;font-weight:600;cursor:pointer;
text-decoration:none}
button.secondary{background:#fff;color:#1d2330;border-color:#e3e7ed}
.error{background:#fdeceb;color:#c4302b;border:1px solid #f4c7c4;border-radius:10px;padding:10px 14px;margin-bottom:16px}
table{width:100%;border-collapse:collapse;font-size:14px}
th,td{text-align:left;padding:6px 0;border-top:1px solid #e3e7ed}
th{border-top:0;color:#5f6b7a;font-weight:600}
code{font-size:13px}
ul.links{list-style:none;padding:0;margin:0}
ul.links li{padding:10px 0;border-top:1px solid #e3e7ed}
ul.links li:first-child{border-top:0}
.muted{color:#5f6b7a}
.notice{background:#e8f5ee;color:#1f6f43;border:1px solid #bfe3cd;border-radius:10px;padding:10px 14px;margin-bottom:16px}
form.inline{display:inline-block;margin-left:8px}
`.trim()

// One string: the CSP hash covers the element's exact text.
const STYLE = new Html(`<style>${CSS}</style>`)

export const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(CSS).digest('base64')}'`,
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ')

export function documentOf(title: string, body: Html): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title}</title>
        ${STYLE}
      </head>
      <body>
        <main>${body}</main>
      </body>
    </html> `.value
}
