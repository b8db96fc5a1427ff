/**
 * HTML-only mail (Alertmanager's default template, Zabbix "Email (HTML)", Grafana) to plain text
 * with its structure kept: <br> (with or without attributes), rows, paragraphs, divs and headings
 * become line breaks, table cells are separated by a tab, links keep their text only, scripts and
 * styles vanish. The `html-to-text` library does the rendering.
 *
 * Its parser (htmlparser2) is linear in the input but not in the nesting depth, and the renderer
 * recurses per level; so a linear pre-scan measures how deep the markup could nest and hands
 * anything deeper than MAX_DEPTH to a small linear tag-stripping scanner instead. The input is cut
 * to MAX_HTML characters first.
 */
import { htmlToText as render, type HtmlToTextOptions, type FormatCallback } from 'html-to-text';

export const MAX_HTML = 512 * 1024;
export const MAX_DEPTH = 256;

const VOID = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr', 'basefont', 'bgsound', 'frame', 'keygen']);

function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x3a || c === 0x5f || c === 0x2e;
}

function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

/** Index of the '>' that ends the tag whose attributes start at i (quotes respected), or -1. */
function tagEnd(html: string, i: number): number {
  const n = html.length;
  let quote = 0;
  for (; i < n; i++) {
    const c = html.charCodeAt(i);
    if (quote) { if (c === quote) quote = 0; continue; }
    if (c === 0x22 || c === 0x27) {
      // a quote only opens a value right after '=' (possibly with blanks): name="x"
      let j = i - 1;
      while (j >= 0 && (html.charCodeAt(j) === 0x20 || html.charCodeAt(j) === 0x09 || html.charCodeAt(j) === 0x0a)) j--;
      if (j >= 0 && html.charCodeAt(j) === 0x3d) quote = c;
      continue;
    }
    if (c === 0x3e) return i;
  }
  return -1;
}

/**
 * An upper bound of how deep the element tree htmlparser2 would build can get: every start tag
 * of a non-void element opens a level, an end tag closes down to the nearest open element of its
 * name (and is ignored when none is open). Elements a parser closes implicitly are counted as
 * open, so the bound is never too low. One forward pass; stops once `limit` is crossed.
 */
export function nestingExceeds(html: string, limit: number): boolean {
  const stack: string[] = [];
  const open = new Map<string, number>();
  const n = html.length;
  let i = html.indexOf('<');
  while (i >= 0 && i < n - 1) {
    const c = html.charCodeAt(i + 1);
    if (c === 0x21) { // <!-- comment --> or <!DOCTYPE ...>
      if (html.startsWith('<!--', i)) {
        const e = html.indexOf('-->', i + 4);
        if (e < 0) return false;
        i = html.indexOf('<', e + 3);
      } else {
        const e = html.indexOf('>', i + 2);
        if (e < 0) return false;
        i = html.indexOf('<', e + 1);
      }
      continue;
    }
    const closing = c === 0x2f;
    let j = closing ? i + 2 : i + 1;
    if (j >= n || !isNameStart(html.charCodeAt(j))) { i = html.indexOf('<', i + 1); continue; }
    const nameStart = j;
    while (j < n && isNameChar(html.charCodeAt(j))) j++;
    const name = html.slice(nameStart, j).toLowerCase();
    const end = tagEnd(html, j);
    if (end < 0) return false; // the rest is one unterminated tag: text to the parser
    if (closing) {
      if ((open.get(name) ?? 0) > 0) {
        for (;;) {
          const top = stack.pop()!;
          open.set(top, open.get(top)! - 1);
          if (top === name) break;
        }
      }
    } else if (!VOID.has(name)) {
      stack.push(name);
      open.set(name, (open.get(name) ?? 0) + 1);
      if (stack.length > limit) return true;
    }
    i = html.indexOf('<', end + 1);
  }
  return false;
}

const cell: FormatCallback = (elem, walk, builder) => {
  walk(elem.children, builder);
  builder.addLiteral('\t');
};

const OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  preserveNewlines: false,
  decodeEntities: true,
  formatters: { alertlineCell: cell },
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'head', format: 'skip' },
    { selector: 'title', format: 'skip' },
    { selector: 'style', format: 'skip' },
    { selector: 'script', format: 'skip' },
    { selector: 'table', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'tbody', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'thead', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'tfoot', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'tr', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'td', format: 'alertlineCell' },
    { selector: 'th', format: 'alertlineCell' },
    { selector: 'p', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'h1', options: { uppercase: false, leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'h2', options: { uppercase: false, leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'h3', options: { uppercase: false, leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'h4', options: { uppercase: false, leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'h5', options: { uppercase: false, leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'h6', options: { uppercase: false, leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'ul', options: { itemPrefix: ' - ' } },
  ],
  limits: { maxDepth: MAX_DEPTH, maxChildNodes: 20_000, ellipsis: '' },
};

/** HTML to text, structure kept (see the file comment). Never throws. */
export function htmlToText(html: string): string {
  const input = html.length > MAX_HTML ? html.slice(0, MAX_HTML) : html;
  if (!nestingExceeds(input, MAX_DEPTH)) {
    try {
      return tidy(render(input, OPTIONS));
    } catch {
      /* fall through to the scanner */
    }
  }
  return tidy(scanText(input));
}

/** Trims every line and drops runs of empty lines (one pass over the lines). */
function tidy(text: string): string {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const e = text.indexOf('\n', start);
    const line = (e < 0 ? text.slice(start) : text.slice(start, e)).trim();
    if (line || (out.length > 0 && out[out.length - 1] !== '')) out.push(line);
    if (e < 0) break;
    start = e + 1;
  }
  while (out.length && out[out.length - 1] === '') out.pop();
  return out.join('\n');
}

const BREAK_TAGS = new Set(['br', 'p', 'div', 'tr', 'li', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'tbody', 'thead', 'tfoot', 'ul', 'ol', 'dl', 'dt', 'dd', 'section', 'article', 'header', 'footer', 'blockquote', 'pre', 'hr', 'title']);
const SKIP_CONTENT = new Set(['script', 'style', 'head', 'title']);
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', rsaquo: '›', lsaquo: '‹', copy: '©', hellip: '…', ndash: '–', mdash: '—' };

/**
 * The fallback for markup too deep for the library: a single forward scan that drops tags
 * (breaking lines at block tags, tab after cells), skips script/style/head content and decodes
 * the common entities. Linear in the input.
 */
export function scanText(html: string): string {
  let out = '';
  const n = html.length;
  let i = 0;
  while (i < n) {
    const lt = html.indexOf('<', i);
    const textEnd = lt < 0 ? n : lt;
    if (textEnd > i) out += decodeEntities(html.slice(i, textEnd)).replace(/\s+/g, ' ');
    if (lt < 0) break;
    const c = lt + 1 < n ? html.charCodeAt(lt + 1) : 0;
    if (c === 0x21) {
      const close = html.startsWith('<!--', lt) ? html.indexOf('-->', lt + 4) : html.indexOf('>', lt + 2);
      if (close < 0) break;
      i = close + (html.startsWith('<!--', lt) ? 3 : 1);
      continue;
    }
    const closing = c === 0x2f;
    let j = closing ? lt + 2 : lt + 1;
    if (j >= n || !isNameStart(html.charCodeAt(j))) { out += '<'; i = lt + 1; continue; }
    const nameStart = j;
    while (j < n && isNameChar(html.charCodeAt(j))) j++;
    const name = html.slice(nameStart, j).toLowerCase();
    const end = tagEnd(html, j);
    if (end < 0) break; // an unterminated tag swallows the rest, as in a browser
    i = end + 1;
    if (!closing && SKIP_CONTENT.has(name)) {
      const close = indexOfCI(html, `</${name}`, i);
      if (close < 0) break;
      const gt = html.indexOf('>', close);
      i = gt < 0 ? n : gt + 1;
      continue;
    }
    if (BREAK_TAGS.has(name)) out += '\n';
    else if (closing && (name === 'td' || name === 'th')) out += '\t';
  }
  return out;
}

function indexOfCI(s: string, needle: string, from: number): number {
  // needle is lower case ASCII; scanning for '<' keeps this linear
  let i = s.indexOf('<', from);
  while (i >= 0) {
    if (s.slice(i, i + needle.length).toLowerCase() === needle) return i;
    i = s.indexOf('<', i + 1);
  }
  return -1;
}

function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  let out = '';
  let flushed = 0; // s[flushed, a) is copied when an entity is replaced
  let pos = 0;
  for (;;) {
    const a = s.indexOf('&', pos);
    if (a < 0) break;
    pos = a + 1;
    let semi = -1;
    for (let k = a + 1; k < s.length && k <= a + 12; k++) if (s.charCodeAt(k) === 0x3b) { semi = k; break; }
    if (semi < 0) continue;
    const body = s.slice(a + 1, semi);
    let rep: string | undefined;
    if (body[0] === '#') {
      const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      if (Number.isInteger(cp) && cp > 0 && cp <= 0x10ffff) rep = String.fromCodePoint(cp);
    } else rep = ENTITIES[body.toLowerCase()];
    if (rep === undefined) continue;
    out += s.slice(flushed, a) + rep;
    flushed = pos = semi + 1;
  }
  return flushed === 0 ? s : out + s.slice(flushed);
}
