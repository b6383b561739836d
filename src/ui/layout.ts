/**
 * The page shell shared by the user and admin pages: one constant stylesheet (allowed by its hash in a strict
 * CSP, so no `'unsafe-inline'`), and the security headers every response of the UI carries.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { html, unsafeRaw, type SafeHtml } from './html.js'

export const CSS = `
:root{color-scheme:light;--bg:#f5f6f8;--card:#fff;--text:#1d2330;--muted:#5f6b7a;--line:#e3e7ed;--accent:#2f5bd3;
--accent-soft:#e8eefc;--danger:#c4302b;--danger-soft:#fdeceb;--ok:#1d7a46;--ok-soft:#e3f4ea;--radius:12px}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"Noto Sans",sans-serif}
a{color:var(--accent)}
.wrap{max-width:760px;margin:0 auto;padding:28px 20px 48px}
.wrap.wide{max-width:1040px}
.topnav{display:flex;gap:16px;align-items:center;font-size:14px;margin-bottom:20px;flex-wrap:wrap}
.topnav a{text-decoration:none}
.topnav .spacer{flex:1}
h1{font-size:26px;line-height:1.25;margin:0 0 6px;letter-spacing:-.01em}
h2{font-size:17px;margin:0 0 12px}
.lead{color:var(--muted);margin:0 0 24px;max-width:60ch}
.muted{color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:18px 20px;
margin-bottom:20px}
.card.flush{padding:0;overflow:hidden}
.card > p:first-child{margin-top:0}
.notice{background:var(--ok-soft);color:var(--ok);border:1px solid #bfe3cd;border-radius:10px;padding:10px 14px;
margin-bottom:20px;font-weight:500}
.notice.error{background:var(--danger-soft);color:var(--danger);border-color:#f4c7c4}
.sessions{list-style:none;margin:0;padding:0}
.session{display:grid;grid-template-columns:44px 1fr auto;gap:4px 14px;align-items:center;padding:16px 20px;
border-top:1px solid var(--line)}
.session:first-child{border-top:0}
.session.current{background:#fafbff}
.icon{grid-row:span 2;width:44px;height:44px;border-radius:50%;background:var(--accent-soft);color:var(--accent);
display:flex;align-items:center;justify-content:center;align-self:start}
.session.current .icon{background:var(--ok-soft);color:var(--ok)}
.device-icon{display:block}
.title{font-weight:600;min-width:0;overflow-wrap:anywhere}
.title .device-name{font-weight:400;color:var(--muted)}
.meta{grid-column:2;color:var(--muted);font-size:13.5px;display:flex;flex-wrap:wrap;gap:2px 14px;min-width:0}
.meta b{color:var(--text);font-weight:600;overflow-wrap:anywhere}
.action{grid-column:3;grid-row:1 / span 2;align-self:center}
.badge{display:inline-block;background:var(--ok-soft);color:var(--ok);border-radius:999px;padding:1px 10px;
font-size:12.5px;font-weight:600}
.badge.warn{background:#fff4e0;color:#8a5300}
.button{display:inline-flex;align-items:center;justify-content:center;min-height:36px;padding:0 16px;
border-radius:8px;border:1px solid var(--line);background:#fff;color:var(--text);font:inherit;font-size:14px;
font-weight:600;text-decoration:none;cursor:pointer;white-space:nowrap}
.button:hover{background:#f0f2f5}
.button.danger{color:var(--danger);border-color:#efc3c0}
.button.danger:hover{background:var(--danger-soft)}
.button.danger.solid{background:var(--danger);border-color:var(--danger);color:#fff}
.button.danger.solid:hover{background:#a82823}
.button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
.actions{display:flex;gap:12px;flex-wrap:wrap;align-items:center}
.footer-actions{display:flex;justify-content:space-between;align-items:center;gap:12px;flex-wrap:wrap;
padding:14px 20px;border-top:1px solid var(--line);background:#fbfcfd}
form{margin:0}
.stats{display:grid;grid-template-columns:repeat(4,1fr);gap:14px;margin-bottom:20px}
.stat{background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:14px 16px}
.stat .value{font-size:26px;font-weight:700;line-height:1.2}
.stat .label{color:var(--muted);font-size:13px}
.charts{display:grid;grid-template-columns:repeat(3,1fr);gap:20px;margin-bottom:20px}
.charts .card{margin:0}
.charts.two{grid-template-columns:1fr 1fr;align-items:start}
.section-head{display:flex;justify-content:space-between;align-items:center;gap:12px;flex-wrap:wrap;
padding:14px 20px;border-bottom:1px solid var(--line)}
.section-head h2{margin:0}
.meta .seen{flex-basis:100%}
.chart{display:block;height:auto;overflow:visible}
.bar-rect{fill:#5478dd}
.bar-label{font-size:12.5px;fill:var(--text)}
.bar-value{font-size:12.5px;fill:var(--muted);font-weight:600}
table{width:100%;border-collapse:collapse;font-size:14px}
th,td{text-align:left;padding:9px 0;border-top:1px solid var(--line)}
th{font-weight:600;color:var(--muted);font-size:12.5px;text-transform:uppercase;letter-spacing:.04em;border-top:0}
td.num,th.num{text-align:right}
.skipped td{vertical-align:top;padding-right:12px}
.skipped td.key{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.lookup{display:flex;gap:10px;flex-wrap:wrap}
input[type=text],input[type=password],input[type=search]{font:inherit;min-height:38px;padding:0 12px;
border:1px solid #cdd3dc;border-radius:8px;background:#fff;color:var(--text);flex:1;min-width:0}
input:focus-visible,.button:focus-visible,a:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
.confirm{max-width:520px}
.empty{padding:24px 20px;color:var(--muted)}
@media (max-width:880px){.charts{grid-template-columns:1fr 1fr}}
@media (max-width:720px){.charts.two{grid-template-columns:1fr}}
@media (max-width:600px){
.wrap{padding:18px 14px 36px}
h1{font-size:22px}
.session{grid-template-columns:40px 1fr;padding:14px 16px}
.icon{width:40px;height:40px;grid-row:span 2}
.action{grid-column:2;grid-row:auto;margin-top:8px}
.stats{grid-template-columns:1fr 1fr}
.charts{grid-template-columns:1fr}
.footer-actions{padding:14px 16px}
.footer-actions .button{width:100%}
}
`.trim()

const CSS_HASH = createHash('sha256').update(CSS).digest('base64')

// Built as one string: the hash covers the element's exact text, so no formatter may touch its whitespace.
const STYLE = unsafeRaw(`<style>${CSS}</style>`)

/** The policy: nothing but this page's own stylesheet, no script at all, forms only to this origin. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `style-src 'sha256-${CSS_HASH}'`,
  'img-src data:',
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ')

/** Headers of every HTML response of the UI. */
export function htmlHeaders(): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  }
}

/** Headers of every JSON response of the API. */
export function jsonHeaders(): Record<string, string> {
  return {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  }
}

export interface DocumentParts {
  readonly title: string
  readonly body: SafeHtml
  /** Wider layout (the admin view). */
  readonly wide?: boolean
}

/** A whole HTML document around `body`. */
export function renderDocument(parts: DocumentParts): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>${parts.title}</title>
        ${STYLE}
      </head>
      <body>
        <main class="${parts.wide === true ? 'wrap wide' : 'wrap'}">${parts.body}</main>
      </body>
    </html> `.toString()
}
