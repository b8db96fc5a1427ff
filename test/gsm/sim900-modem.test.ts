import { afterEach, describe, expect, it } from 'vitest';
import type { AckSink } from '../../src/channels/channel.js';
import { Sim900Modem, type Sim900ModemOptions } from '../../src/channels/gsm/sim900-modem.js';
import { memoryLogger } from '../../src/util/log.js';
import { gsmConfig } from './helpers.js';
import { Sim900Simulator, type SimOptions } from './sim900-simulator.js';

let sim: Sim900Simulator | undefined;
let modem: Sim900Modem | undefined;

class RecordingAckSink implements AckSink {
  readonly calls: Array<[string, number | undefined, string]> = [];
  constructor(private readonly known = new Set(['+15551230001'])) {}
  async acknowledgeByPhone(phone: string, alertId: number | undefined, via: string): Promise<number | null> {
    this.calls.push([phone, alertId, via]);
    return this.known.has(phone) ? (alertId ?? 1) : null;
  }
}

async function setup(
  simOpts: SimOptions = {},
  cfg: Record<string, unknown> = {},
  modemOpts: Partial<Sim900ModemOptions> = {},
  start = true,
) {
  sim = await Sim900Simulator.create(simOpts);
  const log = memoryLogger();
  const ackSink = new RecordingAckSink();
  modem = new Sim900Modem({
    config: gsmConfig(sim.driverPath, cfg),
    logger: log,
    ackSink,
    registrationTimeout: 3000,
    registrationPoll: 100,
    probeTimeout: 300,
    reconnectMin: 100,
    reconnectMax: 400,
    settleTime: 50,
    ...modemOpts,
  });
  if (start) await modem.start();
  return { sim, modem, log, ackSink };
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

describe('incoming SMS acknowledgement', () => {
  it('acknowledges "ack 42" from a user and deletes the message', async () => {
    const { sim, modem, ackSink } = await setup();
    await modem.idle();
    const i = sim.receiveSms('+15551230001', 'ACK  42 ');
    await sim.waitFor(() => ackSink.calls.length === 1 && !sim.storage.has(i), 10_000, 'ack');
    expect(ackSink.calls).toEqual([['+15551230001', 42, 'sms-reply']]);
    expect(sim.commands.slice(-2)).toEqual([`AT+CMGR=${i}`, `AT+CMGD=${i}`]);
  });

  it('"1" acknowledges the latest alert; unknown senders and other texts are logged and deleted', async () => {
    const { sim, modem, ackSink, log } = await setup();
    await modem.idle();
    sim.receiveSms('+15559999999', '1');
    sim.receiveSms('+15551230001', 'who is this?');
    sim.receiveSms('+15551230001', '1');
    await sim.waitFor(() => ackSink.calls.length === 2 && sim.storage.size === 0, 10_000, 'all handled');
    expect(ackSink.calls).toEqual([
      ['+15559999999', undefined, 'sms-reply'],
      ['+15551230001', undefined, 'sms-reply'],
    ]);
    expect(log.lines.some((l) => l.includes('gsm.sms_ack_unmatched') && l.includes('+15559999999'))).toBe(true);
    expect(log.lines.some((l) => l.includes('gsm.sms_ignored') && l.includes('who is this?'))).toBe(true);
  });

  it('reassembles a concatenated reply whose parts arrive out of order', async () => {
    const { sim, modem, ackSink } = await setup();
    await modem.idle();
    sim.receiveSms('+15551230001', ' 77', { ref: 9, total: 2, seq: 2 });
    await sim.waitFor(() => sim.commands.includes('AT+CMGR=1'), 10_000, 'first part read');
    sim.receiveSms('+15551230001', 'ack', { ref: 9, total: 2, seq: 1 });
    await sim.waitFor(() => ackSink.calls.length === 1 && sim.storage.size === 0, 10_000, 'ack');
    expect(ackSink.calls).toEqual([['+15551230001', 77, 'sms-reply']]);
  });

  it('reads messages stored while it was away at start', async () => {
    sim = await Sim900Simulator.create();
    sim.storeSms('+15551230001', 'ack 5');
    sim.storeSms('+15558888888', 'spam');
    const ackSink = new RecordingAckSink();
    modem = new Sim900Modem({
      config: gsmConfig(sim.driverPath),
      logger: memoryLogger(),
      ackSink,
      registrationPoll: 100,
      probeTimeout: 300,
    });
    await modem.start();
    await modem.idle();
    expect(ackSink.calls).toEqual([['+15551230001', 5, 'sms-reply']]);
    expect(sim.storage.size).toBe(0);
    expect(sim.commands.filter((c) => c.startsWith('AT+CMGD='))).toEqual(['AT+CMGD=1', 'AT+CMGD=2']);
  });

  it('deletes an undecodable message instead of choking on it', async () => {
    const { sim, modem, ackSink, log } = await setup();
    await modem.idle();
    sim.storage.set(1, { stat: 0, pdu: '0004FF' });
    sim.urc('+CMTI: "SM",1');
    await sim.waitFor(() => sim.storage.size === 0, 10_000, 'deleted');
    expect(ackSink.calls).toEqual([]);
    expect(log.lines.some((l) => l.includes('gsm.sms_undecodable'))).toBe(true);
    expect(modem.status().state).toBe('ready');
  });
});
