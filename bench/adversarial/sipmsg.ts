/**
 * bench/adversarial sipmsg: what the sipmsg channel reads from a MESSAGE anyone can send to the
 * UA (src/channels/sipmsg/message-text.ts): the Content-Type, the body, the From address; and the
 * text it builds from an alert whose subject came from an e-mail.
 */
import { messageBody, readBody, senderAddress } from '../../src/channels/sipmsg/message-text.js';
import type { AdversarialCase } from './types.js';

const alert = (subject: string) => ({ id: 1, kind: 'problem' as const, subject, text: '', receivedAt: 0, raw: Buffer.alloc(0) });

export const cases: AdversarialCase[] = [
  {
    name: 'Content-Type: text/plain with a run of ";"',
    n: 5000,
    make: (n) => `text/plain${';'.repeat(n)}charset=utf-8`,
    run: (s) => readBody(String(s), Buffer.from('1')),
  },
  {
    name: 'body of control characters at the size limit',
    n: 200,
    make: (n) => Buffer.alloc(n, 0x01),
    run: (b) => readBody('text/plain', Buffer.isBuffer(b) ? b : Buffer.from(b)),
  },
  {
    name: 'From with a long quoted display name',
    n: 5000,
    make: (n) => `"${'a '.repeat(n)}" <sip:bob@example.org>;tag=1`,
    run: (s) => senderAddress(String(s)),
  },
  {
    name: 'From with many parameters',
    n: 2000,
    make: (n) => `<sip:bob@example.org${';p'.repeat(n)}>${';t=1'.repeat(n)}`,
    run: (s) => senderAddress(String(s)),
  },
  {
    name: 'alert subject far over the MESSAGE size (multi-byte)',
    n: 5000,
    make: (n) => 'é'.repeat(n),
    run: (s) => messageBody(alert(String(s)) as never, 'en'),
  },
];
