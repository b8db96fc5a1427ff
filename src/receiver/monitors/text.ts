/**
 * Linear text tools for mail bodies: control-character stripping, bounded lines, "Name: value"
 * fields, and the common severity scale. Nothing here uses a regular expression that can
 * backtrack: every function is a single forward scan, and every line is cut to MAX_LINE before
 * anything looks at it (a 60 000-blank "Host:" line costs the same as a short one).
 */
import { SEVERITY_LEVELS, type SeverityLevel } from '../../core/model.js';

/** Characters of a line that are looked at; the rest of a longer line is ignored. */
export const MAX_LINE = 1000;
/** Longest value kept for a single-line field (host, severity, sentence...). */
export const MAX_FIELD = 200;

function isC0orC1(c: number): boolean {
  return c < 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f);
}

/**
 * Removes terminal control sequences and control characters: ESC sequences (CSI `ESC [ … final`,
 * OSC/DCS/PM/APC/SOS strings up to BEL or `ESC \`, two-character escapes), the C1 equivalents
 * (U+009B CSI, U+009D OSC, …), and every other C0/C1 character. With `keepNewlines`, \n and \t
 * stay (multi-line text); otherwise they become a space. One pass, linear.
 */
export function stripControls(s: string, keepNewlines = false): string {
  let out = '';
  let i = 0;
  const n = s.length;
  let from = 0; // start of the pending run of ordinary characters
  while (i < n) {
    const c = s.charCodeAt(i);
    if (!isC0orC1(c)) { i++; continue; }
    if (from < i) out += s.slice(from, i);
    if (c === 0x0a || c === 0x09) {
      out += keepNewlines ? s[i] : ' ';
      i++;
    } else if (c === 0x1b || c === 0x9b || c === 0x9d || c === 0x90 || c === 0x98 || c === 0x9e || c === 0x9f) {
      i = skipEscape(s, i);
    } else {
      i++;
    }
    from = i;
  }
  if (from === 0) return s;
  if (from < n) out += s.slice(from);
  return out;
}

/** Index just after the escape sequence starting at i (ESC or a C1 introducer). */
function skipEscape(s: string, i: number): number {
  const n = s.length;
  let c = s.charCodeAt(i);
  let kind: 'csi' | 'string' | 'two';
  if (c === 0x1b) {
    if (i + 1 >= n) return n;
    const d = s.charCodeAt(i + 1);
    if (d === 0x5b) { kind = 'csi'; i += 2; }                         // ESC [
    else if (d === 0x5d || d === 0x50 || d === 0x58 || d === 0x5e || d === 0x5f) { kind = 'string'; i += 2; } // ] P X ^ _
    else {
      // ESC, intermediates (0x20-0x2f), one final byte
      i += 1;
      while (i < n && (c = s.charCodeAt(i)) >= 0x20 && c <= 0x2f) i++;
      return i < n ? i + 1 : n;
    }
  } else {
    kind = c === 0x9b ? 'csi' : 'string';
    i += 1;
  }
  if (kind === 'csi') {
    // parameters and intermediates 0x20-0x3f, then one final byte 0x40-0x7e
    while (i < n && (c = s.charCodeAt(i)) >= 0x20 && c <= 0x3f) i++;
    if (i < n && (c = s.charCodeAt(i)) >= 0x40 && c <= 0x7e) i++;
    return i;
  }
  // string: up to BEL, ST (ESC \ or U+009C); a newline also ends it so a stray OSC cannot eat a body
  while (i < n) {
    c = s.charCodeAt(i);
    if (c === 0x07 || c === 0x9c) return i + 1;
    if (c === 0x1b) return i + 1 < n && s.charCodeAt(i + 1) === 0x5c ? i + 2 : i + 1;
    if (c === 0x0a) return i;
    i++;
  }
  return n;
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0xa0 || c === 0x0d || c === 0x0a || c === 0x0c || c === 0x0b || c === 0x3000 || c === 0xfeff || (c >= 0x2000 && c <= 0x200b);
}

/** Collapses every run of white space to one space and trims (one pass). */
export function squash(s: string): string {
  let out = '';
  let pendingSpace = false;
  let from = -1;
  for (let i = 0; i < s.length; i++) {
    if (isBlank(s.charCodeAt(i))) {
      if (from >= 0) { out += s.slice(from, i); from = -1; pendingSpace = true; }
      continue;
    }
    if (from < 0) {
      if (pendingSpace && out) out += ' ';
      pendingSpace = false;
      from = i;
    }
  }
  if (from >= 0) out += s.slice(from);
  return out;
}

/** A value for a single-line field: no controls, white space squashed, at most `max` characters. */
export function oneLine(s: string | undefined, max = MAX_FIELD): string | undefined {
  if (s === undefined) return undefined;
  // Cut before the work so a megabyte of blanks costs no more than `max * 4` characters of it.
  const cut = s.length > max * 4 ? s.slice(0, max * 4) : s;
  const v = squash(stripControls(cut));
  const chars = [...v];
  const r = chars.length > max ? chars.slice(0, max).join('') : v;
  return r || undefined;
}

/** The text's lines, each trimmed and cut to MAX_LINE characters. */
export function boundedLines(text: string, maxLine = MAX_LINE): string[] {
  const lines: string[] = [];
  let start = 0;
  const n = text.length;
  while (start <= n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    const line = text.slice(start, Math.min(end, start + maxLine));
    lines.push(line.trim());
    start = end + 1;
  }
  return lines;
}

/** A line's "name: value" or "name = value" split: name lower-cased without list bullets. */
export interface LineField {
  name: string;
  value: string;
  sep: ':' | '=';
}

const MAX_NAME = 60;

/**
 * Splits a (bounded, trimmed) line at its first ':' or '=' when what comes before is a short
 * name: "Host: web01", " - instance = web01:9100", "Original problem ID: 8". Linear.
 */
export function splitField(line: string): LineField | null {
  let i = 0;
  // list bullets: "- ", "* ", "• "
  while (i < line.length && (line[i] === '-' || line[i] === '*' || line[i] === '•' || line[i] === ' ' || line[i] === '\t')) i++;
  const start = i;
  const limit = Math.min(line.length, start + MAX_NAME);
  for (; i < limit; i++) {
    const ch = line[i];
    if (ch === ':' || ch === '=') {
      const name = line.slice(start, i).trim().toLowerCase();
      if (!name) return null;
      // "http://..." is not a field named http
      if (ch === ':' && line[i + 1] === '/' && line[i + 2] === '/') return null;
      return { name: squash(name), value: line.slice(i + 1).trim(), sep: ch };
    }
  }
  return null;
}

/** First value per field name (lower case), in line order. */
export class FieldIndex {
  private readonly first = new Map<string, string>();
  constructor(lines: readonly string[]) {
    for (const line of lines) {
      const f = splitField(line);
      if (f && f.value && !this.first.has(f.name)) this.first.set(f.name, f.value);
    }
  }
  get(...names: string[]): string | undefined {
    for (const n of names) {
      const v = this.first.get(n.toLowerCase());
      if (v) return v;
    }
    return undefined;
  }
}

/** ASCII-case-insensitive "starts with" without allocating a lower-cased copy of a long line. */
export function startsWithCI(s: string, prefix: string): boolean {
  if (s.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    let a = s.charCodeAt(i);
    let b = prefix.charCodeAt(i);
    if (a >= 65 && a <= 90) a += 32;
    if (b >= 65 && b <= 90) b += 32;
    if (a !== b) return false;
  }
  return true;
}

/** Words monitors use for severity, onto the common scale (lower-cased keys). */
const LEVEL_WORDS: Record<string, SeverityLevel> = {
  // Zabbix (en, es, pt, fr, de)
  'not classified': 'info', information: 'info', info: 'info', informational: 'info',
  'no clasificada': 'info', 'información': 'info', informacion: 'info', 'informação': 'info', 'non classé': 'info', 'nicht klassifiziert': 'info',
  warning: 'warning', warn: 'warning', advertencia: 'warning', aviso: 'warning', avertissement: 'warning', warnung: 'warning',
  average: 'average', media: 'average', 'média': 'average', moyen: 'average', moyenne: 'average', durchschnitt: 'average', medium: 'average', moderate: 'average',
  high: 'high', alta: 'high', alto: 'high', haut: 'high', haute: 'high', hoch: 'high', major: 'high', error: 'high',
  disaster: 'critical', desastre: 'critical', 'désastre': 'critical', katastrophe: 'critical',
  // Nagios states
  critical: 'critical', crit: 'critical', down: 'critical', unreachable: 'high', unknown: 'average', ok: 'info', up: 'info',
  // Alertmanager / Grafana labels in common use
  page: 'critical', emergency: 'critical', fatal: 'critical', alert: 'critical', minor: 'warning', low: 'info', none: 'info', debug: 'info', notice: 'info',
};

/** The common level for a monitor's severity word, when it is one we know. */
export function levelOf(severity: string | undefined): SeverityLevel | undefined {
  if (!severity) return undefined;
  const w = squash(severity).toLowerCase();
  return LEVEL_WORDS[w];
}

/** The higher of two levels (undefined counts as lowest). */
export function maxLevel(a: SeverityLevel | undefined, b: SeverityLevel | undefined): SeverityLevel | undefined {
  if (!a) return b;
  if (!b) return a;
  return SEVERITY_LEVELS.indexOf(a) >= SEVERITY_LEVELS.indexOf(b) ? a : b;
}
