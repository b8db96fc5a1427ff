/**
 * Low-level pieces of the RFC 3261 §25 grammar shared by the header parsers: tokens, quoted
 * strings, comma-separated lists and ;parameters. All functions are pure and throw SipParseError.
 */
import { SipParseError } from './errors.js';

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
export const isToken = (s: string): boolean => TOKEN_RE.test(s);

/** Linear white space (after unfolding only SP and HTAB remain). */
export const isWsp = (c: string | undefined): boolean => c === ' ' || c === '\t';

/** Strips SIP linear white space (SP, HTAB) at both ends, by scanning (no regular expression). */
export function trimWsp(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWsp(s[a])) a++;
  while (b > a && isWsp(s[b - 1])) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Index of the first character at or after `from` that is not SP/HTAB. */
export function skipWsp(s: string, from: number): number {
  let i = from;
  while (i < s.length && isWsp(s[i])) i++;
  return i;
}

/**
 * Reads a quoted-string starting at s[start] (which must be a DQUOTE). Returns the unescaped
 * content and the index just past the closing quote. One pass; a bare CR or LF (never valid
 * inside a header after unfolding) is an error.
 */
export function readQuoted(s: string, start: number): { text: string; end: number } {
  if (s[start] !== '"') throw new SipParseError('expected a quoted string');
  const parts: string[] = [];
  let from = start + 1;
  for (let i = start + 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[i + 1];
      if (n === undefined || n === '\r' || n === '\n') throw new SipParseError('bad escape in quoted string');
      if (i > from) parts.push(s.slice(from, i));
      parts.push(n);
      i++;
      from = i + 1;
    } else if (c === '"') {
      if (i > from) parts.push(s.slice(from, i));
      return { text: parts.join(''), end: i + 1 };
    } else if (c === '\r' || c === '\n') {
      throw new SipParseError('line break inside a quoted string');
    }
  }
  throw new SipParseError('unterminated quoted string');
}

/**
 * Splits a header value on `sep` where the separator is outside quoted strings and outside
 * <...> (so commas inside a URI or a display name don't split). Elements are trimmed.
 */
export function splitOutside(value: string, sep: string): string[] {
  const parts: string[] = [];
  let from = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (inQuote) {
      if (c === '\\') i++;
      else if (c === '"') inQuote = false;
      continue;
    }
    if (c === '"') inQuote = true;
    else if (c === '<') inAngle = true;
    else if (c === '>') inAngle = false;
    else if (c === sep && !inAngle) {
      parts.push(value.slice(from, i).trim());
      from = i + 1;
    }
  }
  if (inQuote) throw new SipParseError('unterminated quoted string');
  parts.push(value.slice(from).trim());
  return parts;
}

/** Parameters keyed by lower-case name; a parameter without "=" has value null. */
export type Params = Map<string, string | null>;

/**
 * Parses `;name[=value]` pairs. `text` is everything after the first ";" (or "" for none).
 * Values may be tokens, hosts ([IPv6]) or quoted strings (returned unquoted).
 */
export function parseParams(text: string): Params {
  const params: Params = new Map();
  if (text.trim() === '') return params;
  for (const raw of splitOutside(text, ';')) {
    if (raw === '') throw new SipParseError('empty parameter');
    const eq = raw.indexOf('=');
    const name = (eq < 0 ? raw : raw.slice(0, eq)).trim();
    if (!isToken(name)) throw new SipParseError(`bad parameter name "${name}"`);
    if (eq < 0) {
      params.set(name.toLowerCase(), null);
      continue;
    }
    const v = raw.slice(eq + 1).trim();
    let value: string;
    if (v.startsWith('"')) {
      const q = readQuoted(v, 0);
      if (q.end !== v.length) throw new SipParseError(`junk after quoted value of ${name}`);
      value = q.text;
    } else {
      if (!/^[A-Za-z0-9\-.!%*_+`'~[\]:&$/]+$/.test(v)) throw new SipParseError(`bad value for parameter ${name}`);
      value = v;
    }
    params.set(name.toLowerCase(), value);
  }
  return params;
}

/** Formats parameters back as `;a=b;c` (values that are not tokens get quoted). */
export function formatParams(params: Params): string {
  let out = '';
  for (const [k, v] of params) {
    if (v === null) out += `;${k}`;
    else if (/^[A-Za-z0-9\-.!%*_+`'~[\]:&$/]*$/.test(v) && v !== '') out += `;${k}=${v}`;
    else out += `;${k}=${quote(v)}`;
  }
  return out;
}

/** Makes a quoted-string, escaping backslash and double quote. */
export function quote(s: string): string {
  return '"' + s.replace(/[\\"]/g, (c) => '\\' + c) + '"';
}
