import { describe, expect, it } from 'vitest';
import {
  decodeSmsDeliver,
  decodeSmsSubmit,
  encodeSmsDeliver,
  encodeSmsSubmit,
  PduError,
  sanitizeSmsText,
} from '../../../../src/channels/gsm/pdu/index.js';

/** Small deterministic PRNG (xorshift32) so a failing fuzz case can be reproduced. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

const DELIVER = '07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37';
const SUBMIT = '0011000B916407281553F80000AA0AE8329BFD4697D9EC37';

describe('malformed SMS-DELIVER hex → PduError with a clear message', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /empty/],
    ['whitespace only', '  \r\n', /empty/],
    ['non-hex', '07917283010010F5040BC8ZZ', /non-hex character at position 22/],
    ['AT command smuggled in', '00;ATH', /non-hex/],
    ['odd digit count', '0791728', /odd number of hex digits/],
    ['only the SMSC octet', '00', /first octet missing/],
    ['SMSC length beyond data', '0791728301', /SMSC address needs 6 octets/],
    ['SMSC length too large', '0C91' + '11'.repeat(11), /SMSC address length 12/],
    ['not a DELIVER (MTI 01)', '0001000B916407281553F80000AA0AE8329BFD4697D9EC37', /not an SMS-DELIVER: TP-MTI is 1/],
    ['address cut short', '00040B91640728', /TP-OA needs 6 octets/],
    ['time stamp cut short', '0004058121 43F5 0000 99309251'.replace(/ /g, ''), /TP-SCTS needs 7 octets/],
    ['UDL missing', '000405812143F50000' + '99309251619580', /TP-UDL missing/],
    ['UDL beyond data', '000405812143F50000' + '99309251619580' + '0A' + 'E8329B', /user data needs 9 octets/],
    ['UDL above 160 septets', '000405812143F50000' + '99309251619580' + 'A1' + '00'.repeat(141), /exceeds 160/],
    ['UCS-2 UDL above 140', '000405812143F50008' + '99309251619580' + '8D' + '00'.repeat(141), /exceeds 140/],
    ['trailing octets', DELIVER + '00', /1 unexpected octets/],
    ['odd UCS-2 length', '000405812143F50008' + '99309251619580' + '03' + '003100', /odd number of octets/],
    ['8-bit data', '000405812143F50004' + '99309251619580' + '01' + '31', /8-bit data/],
    ['compressed', '000405812143F50020' + '99309251619580' + '01' + '31', /compressed/],
    ['UDHL beyond user data', '004405812143F50008' + '99309251619580' + '04' + '09000301', /header length 9 exceeds/],
    ['IE overruns UDH', '004405812143F50008' + '99309251619580' + '04' + '03000501', /overruns the header/],
    ['UDH longer than 7-bit UDL', '004405812143F50000' + '99309251619580' + '06' + '050003010201', /longer than TP-UDL/],
    ['month 13', '000405812143F50000' + '99319251619580' + '01' + '31', /not a valid date/],
    ['30 February', '000405812143F50000' + '42200300000000' + '01' + '31', /not a valid date/],
    ['hex letters in time stamp', '000405812143F50000' + '9A309251619580' + '01' + '31', /not decimal/],
    ['too long', '00'.repeat(177), /too long/],
  ];
  for (const [name, hex, why] of cases) {
    it(name, () => {
      expect(() => decodeSmsDeliver(hex)).toThrow(PduError);
      expect(() => decodeSmsDeliver(hex)).toThrow(why);
    });
  }

  it('rejects a DELIVER given to the SUBMIT decoder and vice versa', () => {
    expect(() => decodeSmsSubmit(DELIVER)).toThrow(/not an SMS-SUBMIT/);
    expect(() => decodeSmsDeliver(SUBMIT)).toThrow(/not an SMS-DELIVER/);
  });

  it('tolerates lower-case hex and the CR LF an AT response line may carry', () => {
    expect(decodeSmsDeliver(DELIVER.toLowerCase() + '\r\n').text).toBe('hellohello');
  });

  it('rejects non-string input with a clear error', () => {
    expect(() => decodeSmsDeliver(undefined as unknown as string)).toThrow(/hex string/);
    expect(() => decodeSmsSubmit(null as unknown as string)).toThrow(/hex string/);
  });
});

describe('fuzz', () => {
  /** Calls fn; it must return normally or throw PduError — nothing else (no TypeError, no RangeError). */
  function survives(fn: () => unknown, input: string): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof PduError)) throw new Error(`unexpected ${String(e)} for input ${input}`);
      expect(e.message.length).toBeGreaterThan(0);
    }
  }

  it('random hex of random length never crashes the decoders', () => {
    const rand = rng(0xa1e47);
    let decoded = 0;
    for (let i = 0; i < 3000; i++) {
      const n = Math.floor(rand() * 200);
      let hex = '';
      for (let j = 0; j < n; j++) hex += Math.floor(rand() * 256).toString(16).padStart(2, '0');
      survives(() => decodeSmsDeliver(hex), hex);
      survives(() => decodeSmsSubmit(hex), hex);
      try {
        decodeSmsDeliver(hex);
        decoded++;
      } catch {
        /* expected for most garbage */
      }
    }
    expect(decoded).toBeLessThan(3000);
  });

  it('mutated valid PDUs (flipped, inserted, deleted octets) never crash the decoders', () => {
    const rand = rng(1234567);
    const seeds = [
      DELIVER,
      SUBMIT,
      encodeSmsDeliver({ sender: 'Alertline', text: 'Ack? {ok} €', timestamp: new Date('2024-01-01T00:00:00Z'), concat: { ref: 3, total: 2, seq: 1 } }),
      encodeSmsDeliver({ sender: '+4412345', text: 'Да 😀', timestamp: new Date('2024-01-01T00:00:00Z'), concat: { ref: 3, total: 2, seq: 2 } }),
      ...encodeSmsSubmit({ to: '+15550109999', text: 'Ж'.repeat(100), reference: 1, maxParts: 3 }).parts.map((p) => p.hex),
      ...encodeSmsSubmit({ to: '0612345678', text: '[x]'.repeat(80), reference: 2, maxParts: 3 }).parts.map((p) => p.hex),
    ];
    for (let i = 0; i < 4000; i++) {
      const bytes = Array.from(Buffer.from(seeds[i % seeds.length]!, 'hex'));
      const edits = 1 + Math.floor(rand() * 3);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * (bytes.length + 1));
        const op = rand();
        if (op < 0.5 && at < bytes.length) bytes[at] = Math.floor(rand() * 256);
        else if (op < 0.75) bytes.splice(at, 0, Math.floor(rand() * 256));
        else bytes.splice(at, 1);
      }
      const hex = Buffer.from(bytes).toString('hex');
      survives(() => decodeSmsDeliver(hex), hex);
      survives(() => decodeSmsSubmit(hex), hex);
    }
  });

  it('random Unicode text always encodes to hex-only PDUs that decode to the text actually sent', () => {
    const rand = rng(42);
    const pool = ['a', 'Z', ' ', '\n', '\r', '\r\n', '\u001a', '\u001b', '\u0000', ';', '"', '€', '{', '\\', '~', 'Ж', '日', '😀', '\ud800', '\udfff', '\u0085', 'é', 'ç'];
    for (let i = 0; i < 400; i++) {
      const n = Math.floor(rand() * 400);
      let text = '';
      for (let j = 0; j < n; j++) text += pool[Math.floor(rand() * pool.length)]!;
      const maxParts = 1 + Math.floor(rand() * 4);
      const sms = encodeSmsSubmit({ to: '+15550109999', text, reference: i & 0xff, maxParts, validityMinutes: 60 });
      expect(sms.parts.length).toBeLessThanOrEqual(maxParts);
      const joined = sms.parts
        .map((p) => {
          expect(p.hex).toMatch(/^[0-9A-F]+$/);
          return decodeSmsSubmit(p.hex).text;
        })
        .join('');
      expect(joined).toBe(sms.text);
      if (!sms.truncated) expect(sms.text).toBe(sanitizeSmsText(text));
      // Nothing a modem would act on survives in the text: no Ctrl-Z, ESC or NUL.
      expect(sms.text).not.toMatch(/[\u0000\u001a\u001b]/);
    }
  });
});
