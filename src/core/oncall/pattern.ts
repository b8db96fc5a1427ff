/**
 * Operator-written regular expressions (silence --host/--subject, routes) matched in time linear
 * in the text: the pattern is compiled to a Thompson NFA and simulated state-set by state-set,
 * so no pattern, however written, can backtrack exponentially on a crafted alert subject.
 *
 * The syntax is the JavaScript RegExp syntax (non-unicode mode), always case-insensitive, minus
 * what an automaton cannot do: back-references and look-arounds are refused with an error that
 * names the pattern. Supported: literals and escapes (\. \t \n \xHH \uHHHH …), `.`, classes
 * `[a-z0-9_-]`, `[^…]`, \d \w \s and their negations, \b \B, ^ $ (whole text, no multiline),
 * groups `(…)` `(?:…)` `(?<name>…)`, alternation `|`, quantifiers * + ? {n} {n,} {n,m}
 * (lazy forms accepted; they match the same texts).
 */
import { OncallInputError } from './time.js';

export const MAX_PATTERN = 200;
/** Longest text examined; the rest of a longer subject is not looked at. */
export const MAX_TEXT = 1000;
const MAX_STATES = 1_000;
const MAX_REPEAT = 1000;

type CharTest = (c: string) => boolean;
type Node =
  | { t: 'char'; test: CharTest }
  | { t: 'assert'; kind: '^' | '$' | 'b' | 'B' }
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; options: Node[] }
  | { t: 'repeat'; node: Node; min: number; max: number };

const isDigit = (c: string) => c >= '0' && c <= '9';
const isWord = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c === '_';
const SPACE = new Set([' ', '\t', '\n', '\r', '\v', '\f', '\u00a0', '\u1680', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff']);
const isSpace = (c: string) => SPACE.has(c) || (c >= '\u2000' && c <= '\u200a');
const isLineEnd = (c: string) => c === '\n' || c === '\r' || c === '\u2028' || c === '\u2029';

/** Case-insensitive: a test passes if it passes for the character or its other case (ASCII answers memoized). */
function fold(test: CharTest): CharTest {
  const slow: CharTest = (c) => test(c) || test(c.toLowerCase()) || test(c.toUpperCase());
  const memo = new Int8Array(128);
  return (c) => {
    const code = c.charCodeAt(0);
    if (code >= 128) return slow(c);
    const m = memo[code]!;
    if (m !== 0) return m > 0;
    const r = slow(c);
    memo[code] = r ? 1 : -1;
    return r;
  };
}

class Parser {
  i = 0;
  constructor(readonly src: string, readonly field: string) {}

  fail(why: string): never {
    throw new OncallInputError(this.field, this.src, `${this.field}: bad regular expression ${JSON.stringify(this.src)}: ${why}`);
  }

  parse(): Node {
    const n = this.alt();
    if (this.i < this.src.length) this.fail(`unmatched ")" at ${this.i + 1}`);
    return n;
  }

  private alt(): Node {
    const options = [this.seq()];
    while (this.src[this.i] === '|') {
      this.i++;
      options.push(this.seq());
    }
    return options.length === 1 ? options[0]! : { t: 'alt', options };
  }

  private seq(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const atom = this.atom();
      items.push(this.quantified(atom));
    }
    return { t: 'seq', items };
  }

  private quantified(atom: Node): Node {
    let node = atom;
    for (;;) {
      const c = this.src[this.i];
      let min: number;
      let max: number;
      if (c === '*') [min, max] = [0, Infinity];
      else if (c === '+') [min, max] = [1, Infinity];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i, this.i + 40));
        if (!m) return node; // a "{" that is no quantifier is a literal (non-unicode RegExp rule)
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
        if (max < min) this.fail(`numbers out of order in ${m[0]}`);
        if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) this.fail(`repetition ${m[0]} above ${MAX_REPEAT}`);
        this.i += m[0].length - 1;
      } else return node;
      this.i++;
      if (this.src[this.i] === '?') this.i++; // lazy: same language
      if (node.t === 'assert') this.fail('nothing to repeat');
      if (node.t === 'repeat') this.fail('nothing to repeat (two quantifiers in a row)');
      node = { t: 'repeat', node, min, max };
    }
  }

  private atom(): Node {
    const c = this.src[this.i]!;
    this.i++;
    switch (c) {
      case '^': return { t: 'assert', kind: '^' };
      case '$': return { t: 'assert', kind: '$' };
      case '.': return { t: 'char', test: (x) => !isLineEnd(x) };
      case '[': return { t: 'char', test: this.cls() };
      case '(': return this.group();
      case '\\': return this.escape();
      case '*': case '+': case '?': return this.fail(`nothing to repeat at ${this.i}`);
      case '{':
        if (/^\d+(,\d*)?\}/.test(this.src.slice(this.i, this.i + 40))) this.fail(`nothing to repeat at ${this.i}`);
        return lit(c);
      default: return lit(c);
    }
  }

  private group(): Node {
    if (this.src[this.i] === '?') {
      const rest = this.src.slice(this.i, this.i + 3);
      if (rest.startsWith('?:')) this.i += 2;
      else if (rest.startsWith('?=') || rest.startsWith('?!') || rest.startsWith('?<=') || rest.startsWith('?<!')) this.fail('look-arounds are not supported');
      else if (rest.startsWith('?<')) {
        const m = /^\?<([A-Za-z_$][\w$]{0,31})>/.exec(this.src.slice(this.i, this.i + 40));
        if (!m) this.fail('bad group name');
        this.i += m[0].length;
      } else this.fail('unknown group kind "(?"');
    }
    const inner = this.alt();
    if (this.src[this.i] !== ')') this.fail('unterminated group');
    this.i++;
    return inner;
  }

  /** After a backslash outside a class. */
  private escape(): Node {
    const c = this.src[this.i];
    if (c === undefined) this.fail('"\\" at the end');
    if (c === 'b' || c === 'B') {
      this.i++;
      return { t: 'assert', kind: c };
    }
    if (c >= '1' && c <= '9') this.fail('back-references are not supported');
    if (c === 'k' && this.src[this.i + 1] === '<') this.fail('back-references are not supported');
    const e = this.escaped(false);
    return typeof e === 'string' ? lit(e) : { t: 'char', test: e };
  }

  /** An escape (`this.i` after the backslash): one character, or a test for a class of them. */
  private escaped(inClass: boolean): string | CharTest {
    const c = this.src[this.i]!;
    this.i++;
    switch (c) {
      case 'd': return isDigit;
      case 'D': return (x) => !isDigit(x);
      case 'w': return isWord;
      case 'W': return (x) => !isWord(x);
      case 's': return isSpace;
      case 'S': return (x) => !isSpace(x);
      case 't': return '\t';
      case 'n': return '\n';
      case 'r': return '\r';
      case 'f': return '\f';
      case 'v': return '\v';
      case '0': return '\0';
      case 'b': if (inClass) return '\b'; break;
      case 'x': case 'u': {
        const len = c === 'x' ? 2 : 4;
        const hex = this.src.slice(this.i, this.i + len);
        if (!(c === 'x' ? /^[0-9a-fA-F]{2}$/ : /^[0-9a-fA-F]{4}$/).test(hex)) this.fail(`bad \\${c} escape`);
        this.i += len;
        return String.fromCharCode(parseInt(hex, 16));
      }
      default:
        if (!/[A-Za-z0-9]/.test(c)) return c; // escaped punctuation is itself
    }
    return this.fail(`unsupported escape "\\${c}"`);
  }

  /** After "[": a class up to its "]". */
  private cls(): CharTest {
    let negate = false;
    if (this.src[this.i] === '^') {
      negate = true;
      this.i++;
    }
    if (this.src[this.i] === ']') {
      // "[]" matches nothing, "[^]" anything (JavaScript)
      this.i++;
      return negate ? () => true : () => false;
    }
    const parts: CharTest[] = [];
    for (;;) {
      if (this.i >= this.src.length) this.fail('unterminated character class');
      if (this.src[this.i] === ']') {
        this.i++;
        break;
      }
      const lo = this.classAtom();
      if (this.src[this.i] === '-' && this.i + 1 < this.src.length && this.src[this.i + 1] !== ']') {
        this.i++;
        const hi = this.classAtom();
        if (typeof lo === 'string' && typeof hi === 'string') {
          if (hi < lo) this.fail(`range out of order ${lo}-${hi}`);
          parts.push((x) => x >= lo && x <= hi);
        } else {
          // [\d-z]: no range, the three members (non-unicode RegExp rule)
          parts.push(typeof lo === 'string' ? eq(lo) : lo, eq('-'), typeof hi === 'string' ? eq(hi) : hi);
        }
      } else parts.push(typeof lo === 'string' ? eq(lo) : lo);
    }
    const any = fold((x) => parts.some((p) => p(x)));
    return negate ? (x) => !any(x) : any;
  }

  /** One class member: a character (string) or a class escape (\d …). */
  private classAtom(): string | CharTest {
    const c = this.src[this.i]!;
    this.i++;
    if (c !== '\\') return c;
    if (this.i >= this.src.length) this.fail('"\\" at the end');
    return this.escaped(true);
  }
}

function eq(ch: string): CharTest {
  return (x) => x === ch;
}

function lit(ch: string): Node {
  return { t: 'char', test: fold(eq(ch)) };
}

// ---------------------------------------------------------------------------------------------
// Thompson NFA

type State =
  | { k: 'char'; test: CharTest; out: number }
  | { k: 'split'; a: number; b: number }
  | { k: 'assert'; kind: '^' | '$' | 'b' | 'B'; out: number }
  | { k: 'match' };

/** A fragment: its start state and the dangling exits to patch. */
interface Frag {
  start: number;
  exits: { s: number; f: 'out' | 'a' | 'b' }[];
}

class Builder {
  states: State[] = [];
  constructor(readonly fail: (why: string) => never) {}

  add(s: State): number {
    if (this.states.length >= MAX_STATES) this.fail('too complex (expands to too many states)');
    this.states.push(s);
    return this.states.length - 1;
  }

  patch(f: Frag, to: number): void {
    for (const e of f.exits) (this.states[e.s] as Record<string, unknown>)[e.f] = to;
  }

  empty(): Frag {
    const s = this.add({ k: 'split', a: -1, b: -1 });
    // a split whose both arms go to the same place is an epsilon
    return { start: s, exits: [{ s, f: 'a' }, { s, f: 'b' }] };
  }

  build(n: Node): Frag {
    switch (n.t) {
      case 'char': {
        const s = this.add({ k: 'char', test: n.test, out: -1 });
        return { start: s, exits: [{ s, f: 'out' }] };
      }
      case 'assert': {
        const s = this.add({ k: 'assert', kind: n.kind, out: -1 });
        return { start: s, exits: [{ s, f: 'out' }] };
      }
      case 'seq': {
        if (n.items.length === 0) return this.empty();
        let f = this.build(n.items[0]!);
        for (const item of n.items.slice(1)) {
          const g = this.build(item);
          this.patch(f, g.start);
          f = { start: f.start, exits: g.exits };
        }
        return f;
      }
      case 'alt': {
        let f = this.build(n.options[0]!);
        for (const o of n.options.slice(1)) {
          const g = this.build(o);
          const s = this.add({ k: 'split', a: f.start, b: g.start });
          f = { start: s, exits: [...f.exits, ...g.exits] };
        }
        return f;
      }
      case 'repeat': {
        const parts: Frag[] = [];
        for (let i = 0; i < n.min; i++) parts.push(this.build(n.node));
        if (n.max === Infinity) {
          const body = this.build(n.node);
          const s = this.add({ k: 'split', a: body.start, b: -1 });
          this.patch(body, s);
          parts.push({ start: s, exits: [{ s, f: 'b' }] });
        } else {
          // (x(x(x)?)?)? for the optional copies
          let tail: Frag | undefined;
          for (let i = n.min; i < n.max; i++) {
            const body = this.build(n.node);
            if (tail) this.patch(body, tail.start);
            const s = this.add({ k: 'split', a: body.start, b: -1 });
            tail = { start: s, exits: [{ s, f: 'b' }, ...(tail ? tail.exits : body.exits)] };
          }
          if (tail) parts.push(tail);
        }
        if (parts.length === 0) return this.empty();
        let f = parts[0]!;
        for (const g of parts.slice(1)) {
          this.patch(f, g.start);
          f = { start: f.start, exits: g.exits };
        }
        return f;
      }
    }
  }
}

/** A compiled operator pattern. */
export class Pattern {
  private readonly states: State[];
  private readonly start: number;
  private readonly anchoredStart: boolean;

  private constructor(readonly source: string, states: State[], start: number, anchoredStart: boolean) {
    this.states = states;
    this.start = start;
    this.anchoredStart = anchoredStart;
  }

  /**
   * Compiles `source` (at most MAX_PATTERN characters). `whole`: the pattern must match the whole
   * text (as if written ^(?:…)$); otherwise it may match anywhere. Errors name `field` and the pattern.
   */
  static compile(source: string, field: string, whole = false): Pattern {
    if (typeof source !== 'string') throw new OncallInputError(field, String(source), `${field}: expected a regular expression`);
    if (source.length > MAX_PATTERN) throw new OncallInputError(field, source, `${field}: regular expression longer than ${MAX_PATTERN} characters`);
    const parser = new Parser(source, field);
    try {
      new RegExp(source, 'i');
    } catch (e) {
      parser.fail((e as Error).message.replace(/^Invalid regular expression: /, ''));
    }
    let ast = parser.parse();
    if (whole) ast = { t: 'seq', items: [{ t: 'assert', kind: '^' }, ast, { t: 'assert', kind: '$' }] };
    const b = new Builder((why) => parser.fail(why));
    const frag = b.build(ast);
    const match = b.add({ k: 'match' });
    b.patch(frag, match);
    return new Pattern(source, b.states, frag.start, whole);
  }

  /** Whether the pattern matches `text` (anywhere, or whole when compiled so). Linear in the text. */
  test(text: string): boolean {
    const s = text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text;
    const n = this.states.length;
    const mark = new Int32Array(n).fill(-1);
    let cur: number[] = [];
    let next: number[] = [];
    const states = this.states;

    // Adds state `id` and everything reachable without reading a character at position `pos`.
    const stack: number[] = [];
    const close = (list: number[], id: number, pos: number): boolean => {
      stack.push(id);
      while (stack.length > 0) {
        const x = stack.pop()!;
        if (x < 0 || mark[x] === pos) continue;
        mark[x] = pos;
        const st = states[x]!;
        if (st.k === 'match') {
          stack.length = 0;
          return true;
        }
        if (st.k === 'split') {
          stack.push(st.b, st.a);
        } else if (st.k === 'assert') {
          if (assertHolds(st.kind, s, pos)) stack.push(st.out);
        } else list.push(x);
      }
      return false;
    };

    if (close(cur, this.start, 0)) return true;
    for (let pos = 0; pos < s.length; pos++) {
      const ch = s[pos]!;
      next = [];
      for (const x of cur) {
        const st = states[x] as { k: 'char'; test: CharTest; out: number };
        if (st.test(ch) && close(next, st.out, pos + 1)) return true;
      }
      if (!this.anchoredStart && close(next, this.start, pos + 1)) return true;
      cur = next;
      if (cur.length === 0 && this.anchoredStart) return false;
    }
    return false;
  }
}

function assertHolds(kind: '^' | '$' | 'b' | 'B', s: string, pos: number): boolean {
  if (kind === '^') return pos === 0;
  if (kind === '$') return pos === s.length;
  const before = pos > 0 && isWord(s[pos - 1]!);
  const after = pos < s.length && isWord(s[pos]!);
  return kind === 'b' ? before !== after : before === after;
}
