import { describe, expect, it } from 'vitest';
import {
  AtLineSplitter,
  classifyLine,
  MAX_LINE_LENGTH,
  parseClcc,
  parseClip,
  parseCpin,
  parseCmgs,
  parseCmti,
  parseCops,
  parseCreg,
  parseCsq,
  parseDtmf,
  parseFinal,
  parseStoredPdus,
  parseUrc,
  redactCommand,
  validateCommand,
  validatePduHex,
} from '../../../src/channels/gsm/at-parser.js';

const lines = (toks: ReturnType<AtLineSplitter['push']>) => toks.map((t) => (t.type === 'line' ? t.text : '<PROMPT>'));

describe('AtLineSplitter', () => {
  it('frames verbose responses on CRLF and drops empty lines', () => {
    const s = new AtLineSplitter();
    expect(lines(s.push('\r\n+CSQ: 17,0\r\n\r\nOK\r\n'))).toEqual(['+CSQ: 17,0', 'OK']);
  });

  it('keeps a partial line across chunks, including a CR/LF split between chunks', () => {
    const s = new AtLineSplitter();
    expect(lines(s.push('\r\n+CRE'))).toEqual([]);
    expect(lines(s.push('G: 0,1\r'))).toEqual(['+CREG: 0,1']);
    expect(lines(s.push('\n\r\nO'))).toEqual([]);
    expect(lines(s.push('K\r\n'))).toEqual(['OK']);
  });

  it('accepts a lone CR or a lone LF as line end', () => {
    const s = new AtLineSplitter();
    expect(lines(s.push('RING\rOK\nBUSY\r'))).toEqual(['RING', 'OK', 'BUSY']);
  });

  it('drops NUL and 8-bit garbage from power-up noise', () => {
    const s = new AtLineSplitter();
    expect(lines(s.push(Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x52, 0x00, 0x44, 0x59, 0xff, 0x0d, 0x0a])))).toEqual(['RDY']);
  });

  it('reports the "> " prompt that has no line end, and text after it', () => {
    const s = new AtLineSplitter();
    expect(lines(s.push('\r\n>'))).toEqual([]);
    expect(lines(s.push(' '))).toEqual(['<PROMPT>']);
    expect(lines(s.push('\r\n+CMGS: 7\r\n\r\nOK\r\n'))).toEqual(['+CMGS: 7', 'OK']);
  });

  it('drops a runaway line whole (a cut line could be misread) and reports it; the next line is intact', () => {
    const s = new AtLineSplitter();
    const toks = s.push('A'.repeat(100_000) + '\r\nOK\r\n');
    expect(toks).toEqual([{ type: 'overflow', length: 100_000 }, { type: 'line', text: 'OK' }]);
    expect(MAX_LINE_LENGTH).toBe(4096);
  });

  it('keeps a line of exactly MAX_LINE_LENGTH, drops one byte more, also across chunks', () => {
    const s = new AtLineSplitter();
    expect(s.push('B'.repeat(4096) + '\r\n')).toEqual([{ type: 'line', text: 'B'.repeat(4096) }]);
    expect(s.push('C'.repeat(3000))).toEqual([]);
    expect(s.push('C'.repeat(1097))).toEqual([]);
    expect(s.push('\n+CSQ: 17,0\n')).toEqual([{ type: 'overflow', length: 4097 }, { type: 'line', text: '+CSQ: 17,0' }]);
  });
});

describe('final result codes', () => {
  it('recognises OK, ERROR and CME/CMS errors in numeric and text form', () => {
    expect(parseFinal('OK')).toMatchObject({ code: 'OK' });
    expect(parseFinal('ERROR')).toMatchObject({ code: 'ERROR' });
    expect(parseFinal('+CME ERROR: 16')).toMatchObject({ code: 'CME ERROR', errorCode: 16 });
    expect(parseFinal('+CME ERROR: incorrect password')).toMatchObject({ code: 'CME ERROR', errorText: 'incorrect password' });
    expect(parseFinal('+CMS ERROR: 38')).toMatchObject({ code: 'CMS ERROR', errorCode: 38 });
    expect(parseFinal('+CMS ERROR: network timeout')).toMatchObject({ code: 'CMS ERROR', errorText: 'network timeout' });
  });

  it('treats call progress codes as final only for dial commands', () => {
    for (const code of ['NO CARRIER', 'BUSY', 'NO ANSWER', 'NO DIALTONE']) {
      expect(parseFinal(code, 'ATD+15551234567;')).toMatchObject({ code });
      expect(parseFinal(code, 'AT+CLCC')).toBeNull();
    }
    expect(parseFinal('CONNECT 9600', 'ATD123')).toMatchObject({ code: 'CONNECT', errorText: '9600' });
    expect(parseFinal('+CSQ: 1,2')).toBeNull();
  });
});

describe('URCs', () => {
  it('classifies the SIM900 unsolicited codes', () => {
    expect(parseUrc('RING')).toMatchObject({ kind: 'ring' });
    expect(parseUrc('+CMTI: "SM",3')).toMatchObject({ kind: 'new-sms', value: '"SM",3' });
    expect(parseUrc('+DTMF: 1')).toMatchObject({ kind: 'dtmf', value: '1' });
    expect(parseUrc('+CLIP: "+1555",145,"",,"",0')).toMatchObject({ kind: 'caller-id' });
    expect(parseUrc('NO CARRIER')).toMatchObject({ kind: 'call-ended' });
    expect(parseUrc('Call Ready')).toMatchObject({ kind: 'call-ready' });
    expect(parseUrc('SMS Ready')).toMatchObject({ kind: 'sms-ready' });
    expect(parseUrc('+CPIN: NOT READY')).toMatchObject({ kind: 'pin-state' });
    expect(parseUrc('UNDER-VOLTAGE POWER DOWN')).toMatchObject({ kind: 'power-down' });
    expect(parseUrc('UNDER-VOLTAGE WARNNING')).toMatchObject({ kind: 'power-warning' });
    expect(parseUrc('NORMAL POWER DOWN')).toMatchObject({ kind: 'power-down' });
    expect(parseUrc('+CFUN: 1')).toMatchObject({ kind: 'functionality' });
    expect(parseUrc('RDY')).toMatchObject({ kind: 'ready' });
    expect(parseUrc('+CSQ: 17,0')).toBeNull();
  });

  it("does not take a command's own response for a URC", () => {
    expect(parseUrc('+CPIN: READY', 'AT+CPIN?')).toBeNull();
    expect(parseUrc('+CPIN: READY', 'AT+CSQ')).toMatchObject({ kind: 'pin-state' });
    expect(parseUrc('+CLCC: 1,0,3,0,0,"+1555",145', 'AT+CLCC')).toBeNull();
    expect(parseUrc('NO CARRIER', 'ATD+1555;')).toBeNull();
    expect(parseUrc('RING', 'AT+CLCC')).toMatchObject({ kind: 'ring' });
  });

  it('classifyLine separates echo, info, URC and final while a command is in flight', () => {
    expect(classifyLine('AT+CSQ', 'AT+CSQ')).toEqual({ type: 'echo' });
    expect(classifyLine('+CSQ: 17,0', 'AT+CSQ')).toEqual({ type: 'response', text: '+CSQ: 17,0' });
    expect(classifyLine('+CMTI: "SM",1', 'AT+CSQ')).toMatchObject({ type: 'urc', urc: { kind: 'new-sms' } });
    expect(classifyLine('OK', 'AT+CSQ')).toMatchObject({ type: 'final' });
    expect(classifyLine('NO CARRIER', 'AT+CLCC')).toMatchObject({ type: 'urc', urc: { kind: 'call-ended' } });
  });
});

describe('information responses', () => {
  it('parses +CLCC (27.007 §7.18)', () => {
    expect(parseClcc('+CLCC: 1,0,3,0,0,"+15551234567",145')).toEqual({
      index: 1, dir: 0, stat: 3, mode: 0, multiparty: false, number: '+15551234567', type: 145,
    });
    expect(parseClcc('+CLCC: 2,1,4,0,0')).toMatchObject({ index: 2, dir: 1, stat: 4 });
    expect(parseClcc('+CLCC: x')).toBeNull();
  });

  it('parses +CREG in query and URC form', () => {
    expect(parseCreg('+CREG: 0,1')).toMatchObject({ stat: 1, registered: true });
    expect(parseCreg('+CREG: 0,5')).toMatchObject({ stat: 5, registered: true, text: 'registered (roaming)' });
    expect(parseCreg('+CREG: 0,2')).toMatchObject({ stat: 2, registered: false, text: 'searching' });
    expect(parseCreg('+CREG: 3')).toMatchObject({ stat: 3, registered: false });
    expect(parseCreg('+CREG: 2,1,"1A2B","3C4D"')).toMatchObject({ stat: 1, registered: true });
  });

  it('converts +CSQ rssi to dBm (-113 + 2n), 99 unknown', () => {
    expect(parseCsq('+CSQ: 17,0')).toEqual({ rssi: 17, dbm: -79, ber: 0 });
    expect(parseCsq('+CSQ: 0,0')?.dbm).toBe(-113);
    expect(parseCsq('+CSQ: 31,0')?.dbm).toBe(-51);
    expect(parseCsq('+CSQ: 99,99')?.dbm).toBeNull();
  });

  it('parses +COPS, +CMTI, +DTMF, +CMGS', () => {
    expect(parseCops('+COPS: 0,0,"Vodafone UK"')).toBe('Vodafone UK');
    expect(parseCops('+COPS: 0')).toBeNull();
    expect(parseCmti('"SM",12')).toEqual({ storage: 'SM', index: 12 });
    expect(parseCmti('garbage')).toBeNull();
    expect(parseDtmf('1')).toBe('1');
    expect(parseDtmf('#')).toBe('#');
    expect(parseDtmf('12')).toBeNull();
    expect(parseCmgs('+CMGS: 201')).toBe(201);
  });

  it('pairs +CMGL / +CMGR headers with their PDU lines', () => {
    expect(
      parseStoredPdus(['+CMGL: 1,0,,24', '07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07', '+CMGL: 3,1,"",5', 'abcdef']),
    ).toEqual([
      { index: 1, stat: 0, length: 24, pdu: '07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07' },
      { index: 3, stat: 1, length: 5, pdu: 'ABCDEF' },
    ]);
    expect(parseStoredPdus(['+CMGR: 0,,5', '00112233'], 7)).toEqual([{ index: 7, stat: 0, length: 5, pdu: '00112233' }]);
    expect(parseStoredPdus(['+CMGL: 1,0,,24', 'not hex'])).toEqual([]);
  });
});

describe('+CLIP (caller id for call-back)', () => {
  it('reads the number from the first quoted field', () => {
    expect(parseClip('"+15551230001",145,"",0,"",0')).toEqual({ number: '+15551230001', type: 145 });
    expect(parseClip('"5551230",129')).toEqual({ number: '5551230', type: 129 });
    expect(parseClip('"",128,"",0,"",1')).toEqual({ number: '', type: 128 }); // withheld
    expect(parseClip('"+15551230001"')).toEqual({ number: '+15551230001' });
  });

  it('refuses anything that is not a plain number', () => {
    for (const bad of ['', '+15551230001,145', '"+1555;ATH",145', '"1+555",145', '"+15551230001', '"abc",129', `"${'1'.repeat(40)}",145`, '"+1"x']) {
      expect(parseClip(bad)).toBeNull();
    }
  });
});

describe('scanners instead of backtracking patterns', () => {
  it('CME/CMS errors and +CPIN read the same as before', () => {
    expect(parseFinal('+CME ERROR:   10  ')).toMatchObject({ code: 'CME ERROR', errorCode: 10 });
    expect(parseFinal('+CMS ERROR:')).toMatchObject({ code: 'CMS ERROR', errorText: '' });
    expect(parseFinal('+CME ERROR: 1234567890')).toMatchObject({ code: 'CME ERROR', errorText: '1234567890' });
    expect(parseCpin('+CPIN: SIM PIN ')).toBe('SIM PIN');
    expect(parseCpin('+CPIN:   ')).toBeNull();
    expect(parseCpin('+CPINX')).toBeNull();
  });

  it('numbers that become command arguments are bounded in digits', () => {
    expect(parseCmti('"SM",12345678901234567890')).toBeNull();
    expect(parseCmgs('+CMGS: 1234')).toBeNull();
    expect(parseStoredPdus(['+CMGL: 99999999999,0,,5', '0011223344'])).toEqual([]);
  });
});

describe('command safety', () => {
  it('refuses control characters that could end or start a command', () => {
    expect(validateCommand('AT+CSQ')).toBeNull();
    expect(validateCommand('ATD+15551234567;')).toBeNull();
    for (const bad of ['AT\r+CSQ', 'ATD123;\x1a', 'AT\x1b', 'AT\nATH', 'ATé']) expect(validateCommand(bad)).toMatch(/control|non-ASCII/);
    expect(validateCommand('ATH'.padEnd(600, 'X'))).toMatch(/too long/);
    expect(validateCommand('+CSQ')).toMatch(/start with AT/);
  });

  it('accepts only whole-octet hex as PDU', () => {
    expect(validatePduHex('0011000B')).toBeNull();
    expect(validatePduHex('001')).not.toBeNull();
    expect(validatePduHex('00\x1a1')).not.toBeNull();
    expect(validatePduHex('')).not.toBeNull();
  });

  it('masks the PIN when logging', () => {
    expect(redactCommand('AT+CPIN="1234"')).toBe('AT+CPIN=***');
    expect(redactCommand('AT+CPIN?')).toBe('AT+CPIN?');
  });
});

describe('hostile modem output', () => {
  it('random bytes never throw and only yield bounded printable lines', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    const s = new AtLineSplitter();
    let count = 0;
    for (let chunk = 0; chunk < 200; chunk++) {
      const bytes = Buffer.alloc(512);
      for (let i = 0; i < bytes.length; i++) bytes[i] = rnd();
      for (const t of s.push(bytes)) {
        if (t.type !== 'line') continue;
        count++;
        expect(t.text).toMatch(/^[\x20-\x7e]{1,4096}$/);
        expect(() => classifyLine(t.text, 'AT+CSQ')).not.toThrow();
        expect(() => parseStoredPdus([t.text, t.text])).not.toThrow();
      }
    }
    expect(count).toBeGreaterThan(100);
  });
});
