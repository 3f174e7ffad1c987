/**
 * The HTML around a GradLens webview bundle, for the VS Code panel and for a
 * standalone report alike. The Content Security Policy allows nothing but
 * the page's own nonce-stamped script and style (and, in a panel, files from
 * the extension's webview origin); data from logs reaches the page as JSON in
 * a non-executing script element and is only ever rendered as text.
 */
export interface PageOptions {
  title: string;
  /** A fresh random value per render. */
  nonce: string;
  /** The webview's `cspSource` in a VS Code panel; absent for a standalone page. */
  cspSource?: string;
  /** The bundle: a URI to load (panel) or its source text to inline (standalone). */
  script: { src: string } | { inline: string };
  /** Style sheets: URIs (panel) or their text (standalone). */
  styles: Array<{ href: string } | { inline: string }>;
  /** Wire-encoded data for the page to read at start (a standalone report). */
  data?: string;
  /** `data-page` on body: which app the bundle starts. */
  page: 'dashboard' | 'playground' | 'sweep';
}

/** Each page's style sheet, relative to the extension's root: the sweep table is drawn with the dashboard's. */
export const PAGE_STYLE_SHEETS: Record<PageOptions['page'], string> = {
  dashboard: 'media/dashboard.css',
  playground: 'media/playground.css',
  sweep: 'media/dashboard.css',
};

/** Element id of the embedded data. */
export const DATA_ELEMENT_ID = 'gradlens-data';

/** 32 hex characters from a cryptographic source. */
export function createNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const escapeAttribute = (text: string): string => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Text that cannot end the element it is inlined in. */
function inlineSafe(text: string, element: 'script' | 'style'): string {
  return text.replace(new RegExp(`</(${element})`, 'gi'), '<\\/$1');
}

export function renderPage(o: PageOptions): string {
  const origin = o.cspSource ? ` ${o.cspSource}` : '';
  const csp = [
    "default-src 'none'",
    `img-src${origin} data:`,
    `style-src${origin} 'nonce-${o.nonce}'`,
    `font-src${origin}`,
    `script-src 'nonce-${o.nonce}'`,
  ].join('; ');
  const styles = o.styles
    .map((s) => ('href' in s ? `<link rel="stylesheet" nonce="${o.nonce}" href="${escapeAttribute(s.href)}">` : `<style nonce="${o.nonce}">${inlineSafe(s.inline, 'style')}</style>`))
    .join('\n');
  // In JSON, '<' only occurs inside strings, where \u003c means the same.
  const data = o.data === undefined ? '' : `<script type="application/json" id="${DATA_ELEMENT_ID}">${o.data.replace(/</g, '\\u003c')}</script>\n`;
  const script = 'src' in o.script ? `<script nonce="${o.nonce}" src="${escapeAttribute(o.script.src)}"></script>` : `<script nonce="${o.nonce}">${inlineSafe(o.script.inline, 'script')}</script>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeAttribute(o.title)}</title>
${styles}
</head>
<body data-page="${o.page}">
<div id="app"></div>
${data}${script}
</body>
</html>
`;
}
