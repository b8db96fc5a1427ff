/** The one escaping helper every CLI printer uses (src/util/terminal.ts). */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { jsonSafe, termSafe, termSafeText } from '../../src/util/terminal.js';

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

describe('termSafe', () => {
  it.each([
    ['plain text', 'db1 disk full', 'db1 disk full'],
    ['OSC title', '\x1b]0;owned\x07', '\\x1b]0;owned\\x07'],
    ['clear screen', 'a\x1b[2Jb', 'a\\x1b[2Jb'],
    ['newline, CR and tab', 'a\nb\rc\td', 'a\\nb\\rc\\td'],
    ['NUL and DEL', '\x00\x7f', '\\x00\\x7f'],
    ['C1 CSI and NEL', '\u009b31m\u0085', '\\x9b31m\\x85'],
    ['bidi override', 'abc\u202egpj.exe', 'abc\\u202egpj.exe'],
    ['line separator', 'a\u2028b', 'a\\u2028b'],
    ['non-ASCII letters stay', 'Señal débil — ñ ü 漢字 🚨', 'Señal débil — ñ ü 漢字 🚨'],
    ['null and undefined', null, ''],
  ])('%s', (_n, input, want) => {
    expect(termSafe(input)).toBe(want);
  });

  it('termSafeText keeps the newlines of a block and escapes the rest', () => {
    expect(termSafeText('PASS  a\nFAIL  b \x1b[2J\n')).toBe('PASS  a\nFAIL  b \\x1b[2J\n');
  });

  it('never lets a control character through, for any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => !UNSAFE.test(termSafe(s)) && !UNSAFE.test(termSafeText(s).replace(/\n/g, ''))));
  });

  it('escapes a megabyte of ESC (one pass, no backtracking pattern)', () => {
    const s = '\x1b'.repeat(1 << 20);
    expect(termSafe(s).length).toBe(4 << 20);
  });
});

describe('jsonSafe', () => {
  it('writes DEL, C1, U+2028/2029 and bidi controls as \\u escapes; C0 as JSON.stringify does', () => {
    const v = { name: 'a\x1b[2J\u009b\u2028\u202e\x7f' };
    const text = jsonSafe(v);
    expect(text).toBe('{\n  "name": "a\\u001b[2J\\u009b\\u2028\\u202e\\u007f"\n}');
    expect(JSON.parse(text)).toEqual(v);
  });

  it('means the same document as JSON.stringify, with nothing unsafe in the text', () => {
    fc.assert(fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (v, s) => {
      const doc = { v, s };
      const text = jsonSafe(doc);
      return !UNSAFE.test(text.replace(/\n/g, '')) && JSON.stringify(JSON.parse(text)) === JSON.stringify(doc);
    }));
  });
});
