/**
 * Operator patterns: the same answers as JavaScript's RegExp (case-insensitive) on the supported
 * syntax, compared on generated patterns and texts; refused constructs named in the error; and
 * patterns that make a backtracking engine explode answer here (a backtracking run of these
 * would not finish within the test timeout).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Pattern } from '../../../src/core/oncall/pattern.js';
import { OncallInputError } from '../../../src/core/oncall/time.js';

const atom = fc.constantFrom('a', 'b', 'A', '1', '-', '.', '\\d', '\\w', '\\s', '\\.', '[ab]', '[^a]', '[a-c]', '[A-Z0-9_-]', '\\x41', 'é', ' ');
const pattern: fc.Arbitrary<string> = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, atom, tie('seq'), tie('alt'), tie('rep'), tie('group')),
  seq: fc.array(tie('node') as fc.Arbitrary<string>, { minLength: 1, maxLength: 4 }).map((xs) => xs.join('')),
  alt: fc.tuple(tie('node') as fc.Arbitrary<string>, tie('node') as fc.Arbitrary<string>).map(([x, y]) => `(?:${x}|${y})`),
  group: (tie('node') as fc.Arbitrary<string>).map((x) => `(${x})`),
  rep: fc.tuple(tie('group') as fc.Arbitrary<string>, fc.constantFrom('*', '+', '?', '{2}', '{1,3}', '{0,}', '*?', '+?')).map(([x, q]) => x + q),
})).node as fc.Arbitrary<string>;
const anchored = fc.tuple(fc.constantFrom('', '^', '\\b'), pattern, fc.constantFrom('', '$', '\\b', '\\B')).map(([a, p, z]) => a + p + z);
const text = fc.string({ unit: fc.constantFrom('a', 'b', 'A', 'B', 'c', '1', '-', '.', ' ', '_', 'é', 'É', '\n'), maxLength: 12 });

describe('agrees with RegExp', () => {
  it('search (anywhere), case-insensitive', () => {
    fc.assert(fc.property(anchored, text, (p, s) => {
      expect(Pattern.compile(p, 'subject').test(s)).toBe(new RegExp(p, 'i').test(s));
    }), { numRuns: 3000 });
  });
  it('whole-text match', () => {
    fc.assert(fc.property(pattern, text, (p, s) => {
      expect(Pattern.compile(p, 'host', true).test(s)).toBe(new RegExp(`^(?:${p})$`, 'i').test(s));
    }), { numRuns: 3000 });
  });
  it.each([
    ['db-.*', 'db-01', true, true],
    ['db-.*', 'mydb-01', false, true],
    ['DB-\\d+', 'db-17', true, true],
    ['web(0[1-9]|1[0-2])\\.prod', 'WEB07.prod', true, true],
    ['disk full', 'Problem: Disk full on /var', false, true],
    ['^problem:', 'Problem: x', false, true],
    ['^problem:', 'Re: Problem: x', false, false],
    ['a{2,3}', 'aaaa', false, true],
    ['^a{2,3}$', 'aaaa', false, false],
    ['x{', 'x{', true, true],
    ['[]', '', false, false],
    ['[^]', 'q', true, true],
    ['\\bcpu\\b', 'high cpu load', false, true],
    ['\\bcpu\\b', 'cpus', false, false],
    ['', 'anything', false, true],
  ])('%j on %j: whole %s, anywhere %s', (p, s, whole, any) => {
    expect(Pattern.compile(p, 'host', true).test(s)).toBe(whole);
    expect(Pattern.compile(p, 'subject').test(s)).toBe(any);
    expect(new RegExp(`^(?:${p})$`, 'i').test(s)).toBe(whole);
    expect(new RegExp(p, 'i').test(s)).toBe(any);
  });
});

describe('refused patterns name the field and the pattern', () => {
  it.each([
    ['(a)\\1', /back-references/],
    ['(?<x>a)\\k<x>', /back-references/],
    ['(?=a)b', /look-arounds/],
    ['(?<!a)b', /look-arounds/],
    ['(ab', /bad regular expression/],
    ['a**', /bad regular expression/],
    ['*a', /bad regular expression/],
    ['[z-a]', /bad regular expression/],
    ['a{5000}', /above 1000/],
    ['(a{1000}){1000}', /too complex/],
    ['[a-z]{1001}', /above 1000|too complex/],
    ['\\p{L}', /unsupported escape/],
    ['x'.repeat(201), /longer than 200/],
  ])('%j', (p, why) => {
    expect(() => Pattern.compile(p, 'host')).toThrow(OncallInputError);
    expect(() => Pattern.compile(p, 'host')).toThrow(why);
    expect(() => Pattern.compile(p, 'host')).toThrow(/^host: /);
  });
});

describe('no catastrophic backtracking', () => {
  it.each([
    ['(a+)+$', 'a'.repeat(990) + '!'],
    ['(a|a)*b', 'a'.repeat(999)],
    ['(.*)*x', 'y'.repeat(999)],
    ['(\\w+\\s?)+$', 'word '.repeat(190) + '!'],
    ['.*.*.*.*.*.*=', 'x'.repeat(999)],
  ])('%j on a crafted %#-th text answers', (p, s) => {
    expect(Pattern.compile(p, 'subject').test(s)).toBe(false);
    expect(Pattern.compile(p, 'host', true).test(s)).toBe(false);
  });
  it('texts beyond 1000 characters are not examined', () => {
    expect(Pattern.compile('needle', 'subject').test('x'.repeat(995) + 'needle')).toBe(false);
    expect(Pattern.compile('needle', 'subject').test('x'.repeat(994) + 'needle')).toBe(true);
  });
});
