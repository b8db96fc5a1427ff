import { afterEach, describe, expect, it } from 'vitest';
import type { InboundSink, Sender } from '../../../src/channels/channel.js';
import { GsmCallChannel } from '../../../src/channels/gsm/gsm-call-channel.js';
import { SharedModem } from '../../../src/channels/gsm/modem/shared-modem.js';
import { Sim900Modem, type Sim900ModemOptions } from '../../../src/channels/gsm/sim900-modem.js';
import { SmsChannel } from '../../../src/channels/gsm/sms-channel.js';
import { memoryLogger } from '../../../src/util/log.js';
import { FakePromptAudio, gsmConfig, smsConfig, voiceConfig } from './helpers.js';
import { Sim900Simulator, type SimOptions } from './sim900-simulator.js';

let sim: Sim900Simulator | undefined;
let modem: Sim900Modem | undefined;

/** Records what the modem hands over; answers like core would (the modem itself decides nothing). */
class RecordingSink implements InboundSink {
  readonly messages: Array<[Sender, string, string]> = [];
  readonly callBacks: Array<[Sender, string]> = [];
  /** Throw this many times before taking messages (the store was busy). */
  failures = 0;
  constructor(
    private readonly answer: (text: string) => string | null = () => null,
    private readonly callBackAnswer: string | null = 'Alert 7 acknowledged.',
  ) {}
  async message(from: Sender, text: string, via: string): Promise<string | null> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('database is locked');
    }
    this.messages.push([from, text, via]);
    return this.answer(text);
  }
  async callBack(from: Sender, via: string): Promise<string | null> {
    this.callBacks.push([from, via]);
    return this.callBackAnswer;
  }
}

async function setup(
  simOpts: SimOptions = {},
  cfg: Record<string, unknown> = {},
  modemOpts: Partial<Sim900ModemOptions> = {},
  start = true,
  sink: RecordingSink | null = new RecordingSink(),
) {
  sim = await Sim900Simulator.create({ cmgsDelayMs: 50, ...simOpts });
  const log = memoryLogger();
  modem = new Sim900Modem({
    config: gsmConfig(sim.driverPath, cfg),
    logger: log,
    ...(sink ? { inbound: sink } : {}),
    registrationTimeout: 3000,
    registrationPoll: 100,
    probeTimeout: 300,
    reconnectMin: 100,
    reconnectMax: 400,
    settleTime: 50,
    ...modemOpts,
  });
  if (start) await modem.start();
  return { sim, modem, log, sink: sink! };
}

afterEach(async () => {
  await modem?.stop();
  await sim?.close();
  modem = undefined;
  sim = undefined;
});

const BRING_UP = ['AT', 'ATE0', 'AT+CMEE=2', 'AT+CPIN?', 'AT+CREG?', 'AT+CREG?', 'AT+CSQ', 'AT+COPS?', 'AT+CMGF=0', 'AT+CNMI=2,1,0,0,0', 'AT+DDET=1', 'AT+CLIP=1', 'AT+CMGL=4'];

describe('Sim900Modem bring-up', () => {
  it('brings the module up with the exact command sequence and reports status', async () => {
    const { sim, modem } = await setup();
    await modem.idle();
    expect(sim.commands).toEqual(BRING_UP);
    expect(modem.status()).toMatchObject({
      state: 'ready',
      healthy: true,
      registered: true,
      registration: { stat: 1, text: 'registered (home)' },
      signal: { rssi: 17, dbm: -79 },
      operator: 'SimNet',
    });
    expect(modem.health()).toEqual({ healthy: true, detail: 'registered (home), signal 17 (-79 dBm), SimNet' });
  });

  it('enters the configured PIN once and carries on', async () => {
    const { sim, modem, log } = await setup({ pin: '2468' }, { pin: '2468' });
    expect(modem.status().state).toBe('ready');
    expect(sim.pinAttempts).toBe(1);
    expect(sim.commands.filter((c) => c.startsWith('AT+CPIN='))).toEqual(['AT+CPIN="2468"']);
    expect(log.lines.join('\n')).not.toContain('2468');
  });

  it('reports a wrong PIN once and never sends it again, even after bring-up re-runs and a reconnect', async () => {
    const { sim, modem, log } = await setup({ pin: '2468' }, { pin: '1111' });
    expect(modem.status().state).toBe('pin-rejected');
    expect(modem.health().healthy).toBe(false);
    expect(modem.health().detail).toMatch(/PIN rejected.*not retried/);
    expect(sim.pinAttempts).toBe(1);

    await modem.bringUp();
    expect(modem.status().state).toBe('pin-rejected');
    await sim.vanish();
    await sim.reappear();
    await sim.waitFor(() => sim.commands.filter((c) => c === 'AT+CPIN?').length >= 3, 10_000, 'bring-up after reconnect');
    await sim.waitFor(() => modem.status().state === 'pin-rejected', 10_000, 'state');
    expect(sim.pinAttempts).toBe(1);
    expect(sim.commands.filter((c) => c.startsWith('AT+CPIN='))).toHaveLength(1);
    expect(log.lines.filter((l) => l.includes('gsm.pin_rejected'))).toHaveLength(1);
    expect(log.lines.join('\n')).not.toContain('1111');
  });

  it('says so when the SIM wants a PIN and none is configured', async () => {
    const { sim, modem } = await setup({ pin: '2468' });
    expect(modem.status()).toMatchObject({ state: 'sim-pin-required', healthy: false });
    expect(sim.pinAttempts).toBe(0);
  });

  it('gets through power-up noise and unanswered first AT probes', async () => {
    const { sim, modem } = await setup({ garbageAtStart: true, ignoreFirstAts: 2 });
    expect(modem.status().state).toBe('ready');
    expect(sim.commands.slice(0, 4)).toEqual(['AT', 'AT', 'AT', 'ATE0']);
  });

  it('reports no-response when the module never answers AT', async () => {
    const { sim, modem } = await setup({}, {}, { probeAttempts: 3 }, false);
    sim.neverAnswer.add('AT');
    await modem.start();
    expect(modem.status()).toMatchObject({ state: 'no-response', healthy: false });
    expect(modem.health().detail).toMatch(/does not answer AT/);
    expect(sim.commands).toEqual(['AT', 'AT', 'AT']);
  });

  it('carries on without DTMF detection when the firmware refuses AT+DDET=1', async () => {
    const { sim, modem } = await setup({}, {}, {}, false);
    sim.refuse.add('AT+DDET=1');
    await modem.start();
    expect(modem.status()).toMatchObject({ state: 'ready', healthy: true, lastError: 'AT+DDET=1: ERROR' });
    expect(sim.commands).toContain('AT+CLIP=1');
  });

  it('does not go ready when PDU mode is refused (text mode would misread AT+CMGS)', async () => {
    const { sim, modem } = await setup({}, {}, {}, false);
    sim.refuse.add('AT+CMGF=0');
    await modem.start();
    expect(modem.status()).toMatchObject({ state: 'init-failed', healthy: false });
    expect(modem.status().lastError).toBe('bring-up failed: AT+CMGF=0: ERROR');
    expect(sim.commands).not.toContain('AT+CNMI=2,1,0,0,0');
  });

  it('is up but unhealthy when registration does not come within the bound', async () => {
    const { modem } = await setup({ searchingPolls: 1_000_000 }, {}, { registrationTimeout: 500 });
    expect(modem.status()).toMatchObject({ state: 'ready', registered: false, healthy: false });
    expect(modem.health().detail).toMatch(/^searching/);
    expect(modem.status().lastError).toMatch(/not registered to the network \(searching\)/);
  });
});

describe('Sim900Modem health and reconnection', () => {
  it('polls registration and signal, and turns unhealthy after repeated failures', async () => {
    const { sim, modem } = await setup({}, { healthInterval: '150ms', commandTimeout: '300ms' }, { failureThreshold: 2 });
    await sim.waitFor(() => sim.commands.filter((c) => c === 'AT+CSQ').length >= 2, 10_000, 'health poll');
    expect(modem.health().healthy).toBe(true);
    sim.neverAnswer.add('AT+CREG?');
    await sim.waitFor(() => !modem.health().healthy, 10_000, 'unhealthy');
    expect(modem.status().failures).toBeGreaterThanOrEqual(2);
    expect(modem.health().detail).toMatch(/failed health polls/);
    sim.neverAnswer.delete('AT+CREG?');
    await sim.waitFor(() => modem.health().healthy, 10_000, 'healthy again');
  });

  it('reopens the vanished port with backoff, reports it meanwhile, and re-runs bring-up', async () => {
    const { sim, modem, log } = await setup();
    await modem.idle();
    await sim.vanish();
    await sim.waitFor(() => modem.status().state === 'disconnected', 5000, 'disconnected');
    expect(modem.health()).toMatchObject({ healthy: false });
    expect(modem.health().detail).toMatch(/^modem disconnected: (serial port closed|cannot open)/);
    await new Promise((r) => setTimeout(r, 500)); // a few failed reopen attempts
    const before = sim.commands.length;
    await sim.reappear();
    await sim.waitFor(() => modem.status().state === 'ready', 10_000, 'ready again');
    await modem.idle();
    expect(sim.commands.slice(before)).toEqual(BRING_UP);
    expect(modem.status().reconnects).toBeGreaterThanOrEqual(2);
    expect(log.lines.some((l) => l.includes('gsm.reconnect_scheduled'))).toBe(true);
  });

  it('notices a power-down URC and brings the module up again at the next health poll', async () => {
    const { sim, modem } = await setup({}, { healthInterval: '200ms' });
    await modem.idle();
    const before = sim.commands.length;
    sim.urc('UNDER-VOLTAGE POWER DOWN');
    await sim.waitFor(() => modem.status().state === 'powered-down', 5000, 'powered-down');
    expect(modem.health()).toEqual({ healthy: false, detail: 'modem powered-down: modem says UNDER-VOLTAGE POWER DOWN' });
    await sim.waitFor(() => modem.status().state === 'ready', 10_000, 'ready again');
    expect(sim.commands.slice(before)).toContain('ATE0');
  });

  it('re-runs bring-up when the module restarts by itself (RDY)', async () => {
    const { sim, modem } = await setup();
    await modem.idle();
    const before = sim.commands.length;
    sim.urc('RDY');
    await sim.waitFor(() => sim.commands.slice(before).includes('AT+CLIP=1'), 10_000, 'bring-up');
    expect(sim.commands.slice(before, before + 3)).toEqual(['AT', 'ATE0', 'AT+CMEE=2']);
  });
});

describe('SMS inbox → InboundSink', () => {
  it('hands a message to the sink as {phone}, text, "sms", and deletes it once taken', async () => {
    const { sim, modem, sink } = await setup();
    await modem.idle();
    const i = sim.receiveSms('+15551230001', 'ACK  42 ');
    await sim.waitFor(() => sink.messages.length === 1 && !sim.storage.has(i), 10_000, 'taken');
    expect(sink.messages).toEqual([[{ phone: '+15551230001' }, 'ACK  42 ', 'sms']]);
    expect(sim.commands.slice(-2)).toEqual([`AT+CMGR=${i}`, `AT+CMGD=${i}`]);
    expect(sim.sent).toEqual([]); // the sink answered nothing: nothing is sent
  });

  it('the modem does not read replies: "1", a stranger and any text all go to the sink; its answers go back by SMS', async () => {
    const answers: Record<string, string> = { 'who is this?': 'Reply 1 to acknowledge your latest alert.' };
    const { sim, modem, sink } = await setup({}, {}, {}, true, new RecordingSink((t) => answers[t] ?? null));
    await modem.idle();
    sim.receiveSms('+15559999999', '1');
    sim.receiveSms('+15551230001', 'who is this?');
    sim.receiveSms('+15551230001', '1');
    await sim.waitFor(() => sink.messages.length === 3 && sim.storage.size === 0 && sim.sent.length === 1, 10_000, 'all handled');
    expect(sink.messages).toEqual([
      [{ phone: '+15559999999' }, '1', 'sms'],
      [{ phone: '+15551230001' }, 'who is this?', 'sms'],
      [{ phone: '+15551230001' }, '1', 'sms'],
    ]);
    expect(sim.sent).toMatchObject([{ to: '+15551230001', text: 'Reply 1 to acknowledge your latest alert.' }]);
    expect(modem.status().state).toBe('ready');
  });

  it('reassembles a concatenated reply whose parts arrive out of order (pdu/reassemble.ts), then deletes both parts', async () => {
    const { sim, modem, sink } = await setup();
    await modem.idle();
    sim.receiveSms('+15551230001', ' 77', { ref: 9, total: 2, seq: 2 });
    await sim.waitFor(() => sim.commands.includes('AT+CMGR=1'), 10_000, 'first part read');
    expect(sink.messages).toEqual([]);
    expect(sim.storage.size).toBe(1); // a part waits, still stored
    sim.receiveSms('+15551230001', 'ack', { ref: 9, total: 2, seq: 1 });
    await sim.waitFor(() => sink.messages.length === 1 && sim.storage.size === 0, 10_000, 'whole message');
    expect(sink.messages).toEqual([[{ phone: '+15551230001' }, 'ack 77', 'sms']]);
  });

  it('reads messages stored while it was away at start', async () => {
    sim = await Sim900Simulator.create();
    sim.storeSms('+15551230001', 'ack 5');
    sim.storeSms('+15558888888', 'spam');
    const sink = new RecordingSink();
    modem = new Sim900Modem({ config: gsmConfig(sim.driverPath), logger: memoryLogger(), inbound: sink, registrationPoll: 100, probeTimeout: 300 });
    await modem.start();
    await modem.idle();
    expect(sink.messages).toEqual([
      [{ phone: '+15551230001' }, 'ack 5', 'sms'],
      [{ phone: '+15558888888' }, 'spam', 'sms'],
    ]);
    expect(sim.storage.size).toBe(0);
    expect(sim.commands.filter((c) => c.startsWith('AT+CMGD='))).toEqual(['AT+CMGD=1', 'AT+CMGD=2']);
  });

  it('keeps a message stored when the sink fails, and takes it at the next bring-up', async () => {
    const { sim, modem, sink, log } = await setup();
    await modem.idle();
    sink.failures = 1;
    const i = sim.receiveSms('+15551230001', 'ack');
    await sim.waitFor(() => log.lines.some((l) => l.includes('gsm.sms_sink_failed')), 10_000, 'sink failure');
    await modem.idle();
    expect(sim.storage.has(i)).toBe(true);
    expect(sim.commands).not.toContain(`AT+CMGD=${i}`);
    sim.urc('RDY'); // the module restarts: bring-up reads the SIM again
    await sim.waitFor(() => sink.messages.length === 1 && !sim.storage.has(i), 10_000, 'taken after bring-up');
    expect(sink.messages).toEqual([[{ phone: '+15551230001' }, 'ack', 'sms']]);
  });

  it('an alphanumeric sender (operator notice) is not a person: deleted, never given to the sink', async () => {
    const { sim, modem, sink, log } = await setup();
    await modem.idle();
    sim.receiveSms('Operator', 'Your bundle expires soon');
    await sim.waitFor(() => sim.storage.size === 0, 10_000, 'deleted');
    expect(sink.messages).toEqual([]);
    expect(log.lines.some((l) => l.includes('gsm.sms_from_non_number'))).toBe(true);
  });

  it('deletes an undecodable message instead of choking on it', async () => {
    const { sim, modem, sink, log } = await setup();
    await modem.idle();
    sim.storage.set(1, { stat: 0, pdu: '0004FF' });
    sim.urc('+CMTI: "SM",1');
    await sim.waitFor(() => sim.storage.size === 0, 10_000, 'deleted');
    expect(sink.messages).toEqual([]);
    expect(log.lines.some((l) => l.includes('gsm.sms_undecodable'))).toBe(true);
    expect(modem.status().state).toBe('ready');
  });

  it('answers one number at most repliesPerHour times (no SMS ping-pong with an auto-responder)', async () => {
    const { sim, modem, sink, log } = await setup({}, {}, { repliesPerHour: 2 }, true, new RecordingSink(() => 'Unknown reply. Codes: 1 = ack.'));
    await modem.idle();
    for (const t of ['a', 'b', 'c']) sim.receiveSms('+15557770000', t);
    await sim.waitFor(() => sink.messages.length === 3 && sim.storage.size === 0, 10_000, 'all taken');
    await modem.idle();
    expect(sim.sent.map((m) => m.to)).toEqual(['+15557770000', '+15557770000']);
    expect(log.lines.some((l) => l.includes('gsm.reply_limited'))).toBe(true);
  });

  it('without a sink the SIM is left alone: nothing read, nothing deleted (doctor)', async () => {
    const { sim, modem } = await setup({}, {}, {}, false, null);
    sim.storeSms('+15551230001', 'ack');
    await modem.start();
    sim.receiveSms('+15551230001', '1');
    await new Promise((r) => setTimeout(r, 300));
    expect(sim.commands.filter((c) => /^AT\+CMG[LRD]/.test(c))).toEqual([]);
    expect(sim.storage.size).toBe(2);
  });
});

describe('call-back: RING with +CLIP', () => {
  it('rejects the call unanswered (ATH), tells the sink once, and confirms by SMS', async () => {
    const { sim, modem, sink } = await setup();
    await modem.idle();
    sim.incomingCall('+15551230001', { rings: 5, intervalMs: 200 });
    await sim.waitFor(() => sim.rejectedCalls.length === 1 && sim.sent.length === 1, 10_000, 'rejected and confirmed');
    await new Promise((r) => setTimeout(r, 400)); // no second call-back from a later RING
    await modem.idle();
    expect(sim.ringing).toBe(false);
    expect(sim.rejectedCalls).toEqual(['+15551230001']);
    expect(sink.callBacks).toEqual([[{ phone: '+15551230001' }, 'call-back']]);
    expect(sim.sent).toMatchObject([{ to: '+15551230001', text: 'Alert 7 acknowledged.' }]);
    expect(sim.commands.filter((c) => c === 'ATH')).toHaveLength(1);
  });

  it('rejects a withheld caller without telling the sink', async () => {
    const { sim, modem, sink } = await setup();
    await modem.idle();
    sim.incomingCall('', { rings: 3, intervalMs: 200 });
    await sim.waitFor(() => sim.rejectedCalls.length === 1, 10_000, 'rejected');
    await modem.idle();
    expect(sink.callBacks).toEqual([]);
    expect(sim.sent).toEqual([]);
  });

  it('without a sink an incoming call is left to ring out', async () => {
    const { sim, modem } = await setup({}, {}, {}, true, null);
    sim.incomingCall('+15551230001', { rings: 2, intervalMs: 200 });
    await sim.waitFor(() => !sim.ringing, 10_000, 'caller gave up');
    expect(sim.rejectedCalls).toEqual([]);
    expect(modem.status().state).toBe('ready');
  });
});

describe('SharedModem: one owner for the gsm and sms channels', () => {
  it('the first channel to start opens the modem, the last to stop closes it; both report its status', async () => {
    const { sim, modem } = await setup({}, {}, {}, false);
    const owner = new SharedModem(modem);
    const audio = new FakePromptAudio();
    try {
      const gsm = new GsmCallChannel({ modem: owner, audio, voice: voiceConfig(), gsm: gsmConfig(sim.driverPath), logger: memoryLogger() });
      const sms = new SmsChannel({ modem: owner, sms: smsConfig(), logger: memoryLogger() });
      expect(gsm.status().state).toBe('stopped');
      await Promise.all([gsm.start(), sms.start()]);
      expect(sim.commands.filter((c) => c === 'ATE0')).toHaveLength(1); // brought up once
      expect(gsm.status()).toMatchObject({ state: 'ready', healthy: true });
      expect(sms.status()).toEqual(gsm.status());
      expect(gsm.health()).toEqual(modem.health());
      await gsm.stop();
      expect(owner.holders).toBe(1);
      expect(sms.status().state).toBe('ready'); // sms still uses it
      await sms.stop();
      expect(owner.holders).toBe(0);
      expect(sms.status()).toMatchObject({ state: 'stopped', healthy: false });
      await sms.stop(); // stopping twice releases nothing more
      expect(owner.holders).toBe(0);
      await sms.start(); // enabled again: opened again
      expect(sms.status().state).toBe('ready');
      expect(sim.commands.filter((c) => c === 'ATE0')).toHaveLength(2);
    } finally {
      audio.cleanup();
    }
  });
});
