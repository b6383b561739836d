/**
 * Inline SVG device icons (24×24, stroked, `currentColor`), one per {@link DeviceCategory}: inline markup needs
 * no `img-src` and no extra request, and inherits the text colour.
 *
 * @module
 */
import type { DeviceCategory } from '../core/device.js'
import { html, unsafeRaw, type SafeHtml } from './html.js'

const PATHS: Record<DeviceCategory, string> = {
  desktop: '<rect x="2.5" y="3.5" width="19" height="13" rx="2"/><path d="M8.5 20.5h7M12 16.5v4"/>',
  phone: '<rect x="6.5" y="2.5" width="11" height="19" rx="2.5"/><path d="M10.5 18.5h3"/>',
  tablet: '<rect x="3.5" y="2.5" width="17" height="19" rx="2.5"/><path d="M10.5 18.5h3"/>',
  other:
    '<circle cx="12" cy="12" r="9.5"/><path d="M2.5 12h19M12 2.5c2.6 2.7 3.9 5.9 3.9 9.5s-1.3 6.8-3.9 9.5c-2.6-2.7-3.9-5.9-3.9-9.5S9.4 5.2 12 2.5z"/>',
}

/** The icon of a device category, labelled for screen readers and with a tooltip. */
export function deviceIcon(category: DeviceCategory, label: string): SafeHtml {
  return html`<svg
    class="device-icon"
    data-device="${category}"
    viewBox="0 0 24 24"
    width="24"
    height="24"
    fill="none"
    stroke="currentColor"
    stroke-width="1.6"
    stroke-linecap="round"
    stroke-linejoin="round"
    role="img"
    aria-label="${label}"
  >
    <title>${label}</title>
    ${unsafeRaw(PATHS[category])}
  </svg>`
}
