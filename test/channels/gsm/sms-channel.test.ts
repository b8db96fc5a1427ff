import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Sim900Modem } from '../../../src/channels/gsm/sim900-modem.js';
import { SmsChannel } from '../../../src/channels/gsm/sms-channel.js';
import { memoryLogger } from '../../../src/util/log.js';
import { fullSms, shortSms } from '../../../src/channels/gsm/sms-text.js';
import { sanitizeSmsText } from '../../../src/channels/gsm/pdu/index.js';
import { gsmConfig, job, shared, smsConfig } from './helpers.js';
import { Sim900Simulator } from './sim900-simulator.js';

let sim: Sim900Simulator;
let modem: Sim900Modem;

beforeAll(async () => {
  sim = await Sim900Simulator.create({ cmgsDelayMs: 100 });
  modem = new Sim900Modem({ config: gsmConfig(sim.driverPath), logger: memoryLogger(), registrationPoll: 100, probeTimeout: 300, settleTime: 50 });
  await modem.start();
  await modem.idle();
});

afterAll(async () => {
  await modem.stop();
  await sim.close();
});

beforeEach(() => {
  sim.sent.length = 0;
  sim.cmgsErrors.length = 0;
});

function channel(over: Record<string, unknown> = {}) {
  return new SmsChannel({ modem: shared(modem), sms: smsConfig(over), logger: memoryLogger(), retryDelay: 100 });
}

const signal = () => new AbortController().signal;

/** The text a phone would show: parts ordered by their concatenation header and joined. */
function received(): string {
  const parts = [...sim.sent].sort((a, b) => (a.concat?.seq ?? 0) - (b.concat?.seq ?? 0));
  return parts.map((p) => p.text).join('');
}

describe('sms channel', () => {
  it('sends one SMS with the acknowledgement hint and records its reference', async () => {
    const from = sim.commands.length;
    const j = job({ subject: 'Problem: disk full on db1' });
    const r = await channel().deliver(j, signal());
    expect(r).toMatchObject({ kind: 'delivered', detail: { to: '+15551230001', parts: 1, encoding: 'gsm7', truncated: false } });
    expect(sim.sent).toHaveLength(1);
    // The channel composes the text itself: the short form of the alert, then the hint.
    expect(sim.sent[0]).toMatchObject({ to: '+15551230001', text: `${shortSms(j.alert)} Reply 1 to ack` });
    expect(sim.sent[0]!.text).toMatch(/^PROBLEM #42 .*disk full on db1.* Reply 1 to ack$/);
    expect(r.detail?.references).toEqual([sim.sent[0]!.mr]);
    expect(sim.commandsSince(from)).toEqual([`AT+CMGS=${sim.pduBodies.at(-1)!.length / 2 - 1}`]);
  });

  it('sends the full text as a concatenated SMS of up to sms.maxParts parts', async () => {
    const full = 'Replication lag on db1. ' + 'Details follow. '.repeat(22);
    const j = job({ text: full });
    const expected = `${fullSms(j.alert).trim()} Reply 1 to ack`;
    expect(expected.length).toBeGreaterThan(2 * 153);
    expect(expected.length).toBeLessThanOrEqual(3 * 153);
    const r = await channel({ fullText: true, maxParts: 4 }).deliver(j, signal());
    expect(r.kind).toBe('delivered');
    expect(sim.sent).toHaveLength(3);
    const refs = new Set(sim.sent.map((s) => s.concat?.ref));
    expect(refs.size).toBe(1);
    expect(sim.sent.map((s) => s.concat?.total)).toEqual([3, 3, 3]);
    expect(received()).toBe(expected);
    expect(received()).toContain(full.trim());
    expect(r.detail?.references).toEqual(sim.sent.map((s) => s.mr));
  });

  it('truncates to maxParts, keeping the hint', async () => {
    const r = await channel({ fullText: true, maxParts: 2 }).deliver(job({ text: 'z'.repeat(1000) }), signal());
    expect(r).toMatchObject({ kind: 'delivered', detail: { parts: 2, truncated: true } });
    expect(received()).toMatch(/^PROBLEM #42 [^\n]*\nz+\.\.\. Reply 1 to ack$/);
    expect(received()).toHaveLength(2 * 153);
  });

  it('sends Unicode as UCS-2', async () => {
    const j = job({ subject: 'Сбой: диск заполнен 🔥' });
    const r = await channel().deliver(j, signal());
    expect(r).toMatchObject({ kind: 'delivered', detail: { encoding: 'ucs2' } });
    expect(received()).toBe(`${shortSms(j.alert)} Reply 1 to ack`);
    expect(received()).toContain('Сбой: диск заполнен 🔥');
  });

  it('retries a transient +CMS ERROR and succeeds', async () => {
    sim.cmgsErrors.push('+CMS ERROR: 42', '+CMS ERROR: network timeout');
    const from = sim.commands.length;
    const j = job({ subject: 'retry me' });
    const r = await channel().deliver(j, signal());
    expect(r.kind).toBe('delivered');
    expect(sim.commandsSince(from).filter((c) => c.startsWith('AT+CMGS='))).toHaveLength(3);
    expect(sim.sent.map((s) => s.text)).toEqual([`${shortSms(j.alert)} Reply 1 to ack`]);
  });

  it('gives up after bounded retries, retryable', async () => {
    sim.cmgsErrors.push('+CMS ERROR: 332', '+CMS ERROR: 332', '+CMS ERROR: 332');
    const r = await channel().deliver(job({ subject: 'never' }), signal());
    expect(r).toMatchObject({ kind: 'failed', retryable: true });
    expect(r.reason).toBe('part 1/1 failed 3 times: +CMS ERROR: 332 (network timeout)');
    expect(sim.sent).toHaveLength(0);
  });

  it('does not retry a permanent error', async () => {
    sim.cmgsErrors.push('+CMS ERROR: 1');
    const from = sim.commands.length;
    const r = await channel().deliver(job({ subject: 'nobody' }), signal());
    expect(r).toMatchObject({ kind: 'rejected', retryable: false, reason: 'part 1/1: +CMS ERROR: 1 (unassigned (unallocated) number)' });
    expect(sim.commandsSince(from).filter((c) => c.startsWith('AT+CMGS='))).toHaveLength(1);
  });

  it('an aborted delivery sends nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await channel().deliver(job(), ac.signal);
    expect(r).toMatchObject({ kind: 'failed', reason: 'aborted' });
    expect(sim.sent).toHaveLength(0);
  });

  it('rejects an invalid phone number without touching the modem', async () => {
    const from = sim.commands.length;
    const r = await channel().deliver(job({ phone: '+1555";ATH' }), signal());
    expect(r).toMatchObject({ kind: 'rejected', retryable: false });
    expect(sim.commandsSince(from)).toEqual([]);
  });

  it('injection: control characters, ;ATH and quotes in the subject make exactly one well-formed SMS', async () => {
    const subject = 'Problem: db1\x1aATD+19005551234;\x1b\rAT+CMGD=1,4;ATH "quoted"';
    const from = sim.commands.length;
    const rawFrom = sim.rawIn.length;
    const j = job({ subject });
    const r = await channel().deliver(j, signal());
    expect(r.kind).toBe('delivered');
    const commands = sim.commandsSince(from);
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatch(/^AT\+CMGS=\d+$/);
    expect(sim.sent).toHaveLength(1);
    expect(sim.sent[0]!.to).toBe('+15551230001');
    // What was sent is the composed text, sanitized: no Ctrl-Z or ESC survives, the rest is plain text in the PDU.
    expect(sim.sent[0]!.text).toBe(`${sanitizeSmsText(shortSms(j.alert)).trim()} Reply 1 to ack`);
    expect(sim.sent[0]!.text).toMatch(/^PROBLEM #42 db1 ATD\+19005551234; +AT\+CMGD=1,4;ATH "quoted" \| \d\d:\d\d Reply 1 to ack$/);
    expect(sim.sent[0]!.text).not.toMatch(/[\x1a\x1b]/);
    // On the wire: the command, the PDU as hex digits, one Ctrl-Z; no CR/ESC/Ctrl-Z from the text.
    const wire = Buffer.concat(sim.rawIn.slice(rawFrom)).toString('latin1');
    expect(wire).toMatch(/^AT\+CMGS=\d+\r[0-9A-F]+\x1a$/);
    expect(sim.storage.size).toBe(0);
    expect(modem.status().state).toBe('ready');
  });

  it('is a text channel of capacity 1 that reaches a phone number, with the sms retry rule', () => {
    const ch = channel({ retries: 5, retryBackoff: '20s' });
    expect([ch.kind, ch.capacity, ch.retry]).toEqual(['text', 1, { retries: 5, backoffMs: 20_000 }]);
    expect(ch.address({ email: 'a@b', lang: 'en', phone: '+15551230001' })).toBe('+15551230001');
    expect(ch.address({ email: 'a@b', lang: 'en' })).toBeNull();
    expect(ch.status()).toEqual(modem.status());
  });

  it('fails fast, retryable, when the modem is not ready', async () => {
    const down = new Sim900Modem({ config: gsmConfig('/nonexistent/ttyUSB9'), logger: memoryLogger(), reconnectMin: 60_000 });
    await down.start();
    const r = await new SmsChannel({ modem: shared(down), sms: smsConfig(), logger: memoryLogger() }).deliver(job(), signal());
    await down.stop();
    expect(r).toMatchObject({ kind: 'failed', retryable: true });
    expect(r.reason).toMatch(/^modem not ready: modem disconnected: cannot open \/nonexistent\/ttyUSB9/);
  });
});
