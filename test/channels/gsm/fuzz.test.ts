/**
 * Property/fuzz suite over everything that reads modem output or SMS PDUs: random and
 * structured hostile inputs either parse or fail with the codec's own error (PduError for PDUs;
 * the AT parsers return null for what they cannot read and never throw).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AtLineSplitter,
  classifyLine,
  MAX_LINE_LENGTH,
  parseClcc,
  parseClip,
  parseCmgs,
  parseCmti,
  parseCops,
  parseCpin,
  parseCreg,
  parseCsq,
  parseDtmf,
  parseFinal,
  parseStoredPdus,
  parseUrc,
  type AtToken,
} from '../../../src/channels/gsm/at-parser.js';
import { toModemEvent } from '../../../src/channels/gsm/modem/events.js';
import {
  decodeSmsDeliver,
  decodeSmsSubmit,
  encodeSmsDeliver,
  encodeSmsSubmit,
  normalizePhone,
  PduError,
  reassembleAll,
  sanitizeSmsText,
  type DecodedDeliver,
} from '../../../src/channels/gsm/pdu/index.js';

const RUNS = { numRuns: 400 };

/** Characters AT lines are made of, weighted towards the separators parsers look at. */
const atChar = fc.constantFrom(...' ,"+:;0123456789ABCDEF\t\r\n>a'.split(''), '\x1a', '\x1b', '\x00', '\u00ff');
const atText = fc.string({ unit: atChar, maxLength: 200 });
const anyText = fc.string({ unit: 'binary', maxLength: 300 });
const PREFIXES = ['+CLCC:', '+CREG:', '+CSQ:', '+COPS:', '+CPIN:', '+CMTI:', '+DTMF:', '+CMGS:', '+CMGL:', '+CMGR:', '+CLIP:', '+CME ERROR:', '+CMS ERROR:', 'CONNECT', 'RING', 'NO CARRIER', '> '];
const structuredLine = fc.tuple(fc.constantFrom(...PREFIXES), atText).map(([p, rest]) => p + rest);
const line = fc.oneof(anyText, atText, structuredLine);
const COMMANDS = [undefined, 'AT', 'AT+CSQ', 'ATD+15551230001;', 'AT+CLCC', 'AT+CPIN?', 'AT+CMGS=20', 'AT+CMGL=4'];

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}

/** Parses or throws PduError: anything else (TypeError, RangeError) is a bug. */
function pduOrError<T>(f: () => T): T | PduError {
  try {
    return f();
  } catch (e) {
    if (e instanceof PduError) return e;
    throw e;
  }
}

describe('AT line framing under hostile bytes', () => {
  it('yields only bounded printable lines, prompts and overflow reports, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 20 }), (chunks) => {
        const s = new AtLineSplitter();
        for (const c of chunks) {
          for (const t of s.push(c)) {
            if (t.type === 'line') expect(t.text).toMatch(/^[\x20-\x7e]+$/);
            if (t.type === 'line') expect(t.text.length).toBeLessThanOrEqual(MAX_LINE_LENGTH);
            if (t.type === 'overflow') expect(t.length).toBeGreaterThan(MAX_LINE_LENGTH);
          }
          expect(s.pending().length).toBeLessThanOrEqual(MAX_LINE_LENGTH);
        }
      }),
      RUNS,
    );
  });

  it('the tokens do not depend on how the stream was cut into chunks', () => {
    const bytes = fc.uint8Array({ maxLength: 3000 }).chain((b) => fc.tuple(fc.constant(b), fc.array(fc.nat(b.length), { maxLength: 12 })));
    fc.assert(
      fc.property(bytes, ([b, cuts]) => {
        const whole: AtToken[] = new AtLineSplitter().push(b);
        const s = new AtLineSplitter();
        const pieces: AtToken[] = [];
        let from = 0;
        for (const at of [...cuts].sort((x, y) => x - y)) {
          pieces.push(...s.push(b.subarray(from, at)));
          from = at;
        }
        pieces.push(...s.push(b.subarray(from)));
        expect(pieces).toEqual(whole);
      }),
      RUNS,
    );
  });

  it('an overlong line is dropped whole, the line after it survives', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_LINE_LENGTH + 1, max: 3 * MAX_LINE_LENGTH }), (n) => {
        const toks = new AtLineSplitter().push('7'.repeat(n) + '\r\nOK\r\n');
        expect(toks).toEqual([{ type: 'overflow', length: n }, { type: 'line', text: 'OK' }]);
      }),
      { numRuns: 30 },
    );
  });
});

describe('AT line parsers never throw', () => {
  it('classify, final codes, URCs and typed events', () => {
    fc.assert(
      fc.property(line, fc.constantFrom(...COMMANDS), (l, cmd) => {
        const m = classifyLine(l, cmd);
        expect(['final', 'urc', 'echo', 'response']).toContain(m.type);
        const f = parseFinal(l, cmd);
        if (f) expect(f.line).toBe(l);
        const u = parseUrc(l, cmd);
        if (u) expect(() => toModemEvent(u)).not.toThrow();
      }),
      RUNS,
    );
  });

  it('information responses: null or a well-formed value', () => {
    fc.assert(
      fc.property(line, (l) => {
        const c = parseClcc(l);
        if (c) expect(Number.isInteger(c.index) && c.index < 1e6).toBe(true);
        const r = parseCreg(l);
        if (r) expect(r.stat).toBeGreaterThanOrEqual(0);
        parseCsq(l);
        parseCops(l);
        const p = parseCpin(l);
        if (p !== null) expect(p).toBe(p.trim());
        const t = parseCmti(l);
        if (t) expect(t.index).toBeLessThan(1e6);
        const k = parseDtmf(l);
        if (k) expect(k).toMatch(/^[0-9*#A-D]$/);
        const mr = parseCmgs(l);
        if (mr !== null) expect(mr).toBeLessThan(1000);
        const id = parseClip(l);
        if (id) expect(id.number).toMatch(/^\+?[0-9*#]{0,32}$/);
      }),
      RUNS,
    );
  });

  it('+CMGL/+CMGR listings: only hex PDUs come out', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(line, fc.uint8Array({ maxLength: 60 }).map(hex)), { maxLength: 30 }), fc.option(fc.nat(30)), (lines, idx) => {
        for (const s of parseStoredPdus(lines, idx ?? undefined)) {
          expect(s.pdu).toMatch(/^[0-9A-F]+$/);
          expect(s.index).toBeLessThan(1e6);
        }
      }),
      RUNS,
    );
  });
});

const DELIVER = '07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37';
const SUBMIT = '0011000B916407281553F80000AA0AE8329BFD4697D9EC37';

/** A valid PDU with some octets flipped, the tail cut or junk appended. */
function mutated(base: string) {
  const bytes = Buffer.from(base, 'hex');
  return fc
    .tuple(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(bytes.length), fc.uint8Array({ maxLength: 8 }))
    .map(([flips, cut, extra]) => {
      const b = Buffer.from(bytes);
      for (const [i, v] of flips) b[i] = v;
      return hex(Buffer.concat([b.subarray(0, cut), extra]));
    });
}

describe('PDU decoders: a message or PduError', () => {
  for (const [name, decode] of [
    ['SMS-DELIVER', decodeSmsDeliver],
    ['SMS-SUBMIT', decodeSmsSubmit],
  ] as const) {
    it(`${name}: arbitrary text`, () => {
      fc.assert(fc.property(anyText, (t) => void pduOrError(() => decode(t))), RUNS);
    });

    it(`${name}: arbitrary octets`, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => void pduOrError(() => decode(hex(b)))), RUNS);
    });

    it(`${name}: mutations of valid PDUs`, () => {
      fc.assert(
        fc.property(fc.oneof(mutated(DELIVER), mutated(SUBMIT)), (h) => {
          const r = pduOrError(() => decode(h));
          if (!(r instanceof PduError)) expect(typeof r.text).toBe('string');
        }),
        RUNS,
      );
    });
  }

  it('SMS-DELIVER round trip: what the simulator encodes, the inbox decodes', () => {
    const sender = fc.stringMatching(/^\+?[1-9][0-9]{2,14}$/);
    const text = fc.string({ maxLength: 60 });
    fc.assert(
      fc.property(sender, text, (from, t) => {
        const clean = sanitizeSmsText(t);
        const pdu = pduOrError(() => encodeSmsDeliver({ sender: from, text: clean, timestamp: new Date(Date.UTC(2026, 0, 2)) }));
        if (pdu instanceof PduError) return; // did not fit one part
        const d = decodeSmsDeliver(pdu);
        expect(d.sender).toBe(from);
        expect(d.text).toBe(clean);
      }),
      RUNS,
    );
  });

  it('SMS-SUBMIT: any text becomes parts that decode back to the (sanitized, maybe cut) text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 500 }), fc.integer({ min: 1, max: 4 }), (t, maxParts) => {
        const e = encodeSmsSubmit({ to: '+15551230001', text: t, reference: 7, maxParts });
        expect(e.parts.length).toBeLessThanOrEqual(maxParts);
        const text = e.parts.map((p) => decodeSmsSubmit(p.hex).text).join('');
        expect(text).toBe(e.text);
        for (const p of e.parts) expect(p.hex).toMatch(/^[0-9A-F]+$/);
      }),
      { numRuns: 200 },
    );
  });

  it('reassembly of arbitrary part sets never throws and only joins complete sets', () => {
    const part = fc.record({
      sender: fc.constantFrom('+1555000', '+1555001'),
      text: fc.string({ maxLength: 5 }),
      encoding: fc.constant('gsm7' as const),
      timestamp: fc.constant('2026-01-01T00:00:00+00:00'),
      concat: fc.option(fc.record({ ref: fc.nat(3), total: fc.integer({ min: 1, max: 3 }), seq: fc.integer({ min: 1, max: 3 }) }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(part, { maxLength: 12 }), (parts) => {
        const clean = parts.map((p) => (p.concat ? p : { sender: p.sender, text: p.text, encoding: p.encoding, timestamp: p.timestamp })) as DecodedDeliver[];
        const { complete, incomplete } = reassembleAll(clean);
        expect(complete.reduce((n, m) => n + m.parts.length, 0) + incomplete.length).toBe(clean.length);
        for (const m of complete) if (m.parts[0]!.concat) expect(new Set(m.parts.map((p) => p.concat!.seq)).size).toBe(m.parts[0]!.concat.total);
      }),
      RUNS,
    );
  });

  it('the one-pass sanitizer gives what the rule says (reference: the rule written plainly)', () => {
    const reference = (t: string): string => {
      let out = '';
      const x = t.replace(/\r\n/g, '\n');
      for (let i = 0; i < x.length; i++) {
        const u = x.charCodeAt(i);
        if (u >= 0xd800 && u <= 0xdbff && i + 1 < x.length && x.charCodeAt(i + 1) >= 0xdc00 && x.charCodeAt(i + 1) <= 0xdfff) {
          out += x[i]! + x[i + 1]!;
          i++;
        } else if (u >= 0xd800 && u <= 0xdfff) out += '\ufffd';
        else if ((u < 0x20 || (u >= 0x7f && u <= 0x9f)) && u !== 0x0a && u !== 0x0d && u !== 0x0c) out += ' ';
        else out += x[i]!;
      }
      return out;
    };
    const unit = fc.oneof(fc.constantFrom('\r', '\n', '\r\n', '\x1a', '\x1b', '\f', '\ud800', '\udc00', '\u0085', 'é', '😀'), fc.string({ unit: 'binary', maxLength: 3 }));
    fc.assert(fc.property(fc.array(unit, { maxLength: 40 }).map((a) => a.join('')), (t) => {
      expect(sanitizeSmsText(t)).toBe(reference(t));
    }), { numRuns: 1000 });
    expect(sanitizeSmsText('a\r\r\nb')).toBe('a\r\nb');
  });

  it('phone numbers: canonical or PduError', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, fc.string({ unit: fc.constantFrom(...'+0123456789 -().;'.split('')), maxLength: 30 })), (t) => {
        const r = pduOrError(() => normalizePhone(t));
        if (!(r instanceof PduError)) expect(r).toMatch(/^\+?[0-9]{3,15}$/);
      }),
      RUNS,
    );
  });
});
