/**
 * bench/adversarial gsm: the AT line framer and parsers, the SMS PDU codec, the inbox's
 * reassembly and the SMS text helpers on hostile modem output / SMS / alert text of size n.
 */
import type { AdversarialCase } from './types.js';
import {
  AtLineSplitter,
  classifyLine,
  parseClcc,
  parseClip,
  parseCpin,
  parseFinal,
  parseStoredPdus,
} from '../../src/channels/gsm/at-parser.js';
import { toModemEvent } from '../../src/channels/gsm/modem/events.js';
import { decodeSmsDeliver, encodeSmsDeliver, normalizePhone, reassembleAll, sanitizeSmsText, type DecodedDeliver } from '../../src/channels/gsm/pdu/index.js';
import { encodeAlertSms } from '../../src/channels/gsm/sms-channel.js';
import { parseSmsReply } from '../../src/channels/gsm/sms-reply.js';
import { fullSms, gsmFriendly, shortSms } from '../../src/channels/gsm/sms-text.js';
import type { AlertView } from '../../src/core/model.js';

const str = (x: string | Buffer) => (typeof x === 'string' ? x : x.toString('latin1'));

/** Lines as the framer delivers them (≤ 4 KiB each): a long input is many lines, each parsed. */
function eachLine(input: string | Buffer, f: (line: string) => unknown): void {
  for (const t of new AtLineSplitter().push(input)) if (t.type === 'line') f(t.text);
}

const alert = (subject: string, text = 'Host: db1'): AlertView => ({ id: 42, kind: 'problem', subject, text, receivedAt: 0, raw: Buffer.alloc(0) });

const PART = encodeSmsDeliver({ sender: '+15551230001', text: 'ack', timestamp: new Date(Date.UTC(2026, 0, 1)), concat: { ref: 1, total: 3, seq: 1 } });

export const cases: AdversarialCase[] = [
  {
    name: 'framer: runaway line without an end (dropped at 4 KiB)',
    n: 20_000,
    make: (n) => Buffer.alloc(n, 0x41),
    run: (b) => new AtLineSplitter().push(b),
  },
  {
    name: 'framer: noise bytes, NUL and 0xFF, CR storms',
    n: 20_000,
    make: (n) => Buffer.from(Array.from({ length: n }, (_, i) => [0x00, 0xff, 0x0d, 0x3e, 0x20, 0x0a][i % 6]!)),
    run: (b) => new AtLineSplitter().push(b),
  },
  {
    name: 'CME ERROR: blanks x LF y (old \\s*(.*)$: ratio 147)',
    n: 20_000,
    make: (n) => `+CME ERROR:${' '.repeat(n)}x\ny`,
    run: (s) => parseFinal(str(s)),
  },
  {
    name: '+CPIN: blanks LF (old \\s*(.+)$: ratio 83)',
    n: 20_000,
    make: (n) => `+CPIN:${' '.repeat(n)}\n`,
    run: (s) => parseCpin(str(s)),
  },
  {
    name: 'classify + URC + event: many 4 KiB "+CLCC: 1,1,..." lines',
    n: 100_000,
    make: (n) => `+CLCC: ${'1,'.repeat(2040)}\r\n`.repeat(Math.ceil(n / 4096)),
    run: (s) => eachLine(s, (l) => {
      const m = classifyLine(l, 'AT+CSQ');
      if (m.type === 'urc') toModemEvent(m.urc);
      parseClcc(l);
    }),
  },
  {
    name: '+CLIP with an unterminated quoted number',
    n: 20_000,
    make: (n) => `"${'1'.repeat(n)}`,
    run: (s) => parseClip(str(s)),
  },
  {
    name: '+CMGL listing: n header/PDU line pairs',
    n: 2000,
    make: (n) => Array.from({ length: n }, (_, i) => (i % 2 ? 'AB'.repeat(80) : `+CMGL: ${i},0,${','.repeat(20)}24`)).join('\n'),
    run: (s) => parseStoredPdus(str(s).split('\n')),
  },
  {
    name: 'SMS-DELIVER decode of hex junk (bounded at 176 octets)',
    n: 20_000,
    make: (n) => '0'.repeat(n),
    run: (s) => decodeSmsDeliver(str(s)),
  },
  {
    name: 'phone number of blanks and a letter (bounded at 64)',
    n: 20_000,
    make: (n) => ' '.repeat(n) + 'x',
    run: (s) => normalizePhone(str(s)),
  },
  {
    name: 'inbox reassembly: n parts of one message, one missing',
    n: 2000,
    make: (n) => String(n),
    run: (s) => {
      const n = Number(s);
      const base = decodeSmsDeliver(PART);
      const parts: DecodedDeliver[] = Array.from({ length: n }, (_, i) => ({ ...base, concat: { ref: i % 250, total: 3, seq: 1 + (i % 2) } }));
      return reassembleAll(parts);
    },
  },
  {
    name: 'SMS reply text: blanks between "ack" and digits',
    n: 20_000,
    make: (n) => `ack${' \t'.repeat(n)}4x`,
    run: (s) => parseSmsReply(str(s)),
  },
  {
    name: 'SMS text sanitizer: control characters and lone surrogates',
    n: 10_000,
    make: (n) => '\x1a\x1b\ud800\r\n'.repeat(Math.ceil(n / 5)),
    run: (s) => sanitizeSmsText(str(s)),
  },
  {
    name: 'gsmFriendly: accented text (callers bound it to 1500)',
    n: 2_000,
    make: (n) => 'óâ\u2019ç'.repeat(Math.ceil(n / 4)),
    run: (s) => gsmFriendly(str(s)),
  },
  {
    name: 'shortSms: subject of extension characters (^{}[~]|)',
    n: 20_000,
    make: (n) => '^{}[~]|€'.repeat(Math.ceil(n / 8)),
    run: (s) => shortSms(alert(str(s))),
  },
  {
    name: 'fullSms + encodeAlertSms: huge body, 4 parts',
    n: 20_000,
    make: (n) => 'Host: db1 '.repeat(Math.ceil(n / 10)),
    run: (s) => encodeAlertSms('+15551230001', fullSms(alert('Problem: x', str(s))), 4, 1),
  },
];
