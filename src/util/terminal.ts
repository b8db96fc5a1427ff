/**
 * Text that reaches an operator's terminal. Host, severity and subject come from mail written by
 * anyone; names, reasons and modem/registrar answers from peers. Printed raw, an ESC or C1 byte
 * lets that text drive the terminal (`\x1b]0;…\x07` retitles it, `\x1b[2J` clears it, OSC 52 can
 * write the clipboard), and a bare CR or newline forges lines. These helpers make every control
 * character visible instead, as a `\x1b`-style escape. Linear, no regular-expression backtracking.
 *
 * Escaped: C0 controls (U+0000–U+001F), DEL, C1 controls (U+0080–U+009F), the line/paragraph
 * separators U+2028/U+2029, and the bidirectional formatting characters (U+061C, U+200E, U+200F,
 * U+202A–U+202E, U+2066–U+2069), which reorder what is shown ("Trojan Source").
 */

function unsafe(c: number): boolean {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029 || c === 0x061c ||
    c === 0x200e || c === 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

function escapeChar(c: number): string {
  if (c === 0x0a) return '\\n';
  if (c === 0x0d) return '\\r';
  if (c === 0x09) return '\\t';
  if (c < 0x100) return `\\x${c.toString(16).padStart(2, '0')}`;
  return `\\u${c.toString(16).padStart(4, '0')}`;
}

function escapeWith(s: string, keep: (c: number) => boolean): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (unsafe(c) && !keep(c)) {
      out += s.slice(from, i) + escapeChar(c);
      from = i + 1;
    }
  }
  return from === 0 ? s : out + s.slice(from);
}

const none = () => false;
const newline = (c: number) => c === 0x0a;

/** One value or one line: every control character escaped, newlines included. */
export function termSafe(value: unknown): string {
  return escapeWith(value === null || value === undefined ? '' : String(value), none);
}

/** A block of lines this program laid out: newlines kept, every other control character escaped. */
export function termSafeText(text: string): string {
  return escapeWith(text, newline);
}

/**
 * JSON for a terminal or a pipe: JSON.stringify already writes C0 controls as \u00XX; this also
 * writes DEL, C1, U+2028/2029 and the bidi controls as \uXXXX escapes (they can occur only inside
 * strings, so the document means the same).
 */
export function jsonSafe(value: unknown, indent = 2): string {
  const text = JSON.stringify(value, null, indent) ?? 'null';
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x7f && unsafe(c)) {
      out += text.slice(from, i) + `\\u${c.toString(16).padStart(4, '0')}`;
      from = i + 1;
    }
  }
  return from === 0 ? text : out + text.slice(from);
}
