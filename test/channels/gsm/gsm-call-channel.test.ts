import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GsmCallChannel } from '../../../src/channels/gsm/gsm-call-channel.js';
import { Sim900Modem } from '../../../src/channels/gsm/sim900-modem.js';
import { SmsChannel } from '../../../src/channels/gsm/sms-channel.js';
import { memoryLogger } from '../../../src/util/log.js';
import { voiceText } from '../../../src/compose/texts.js';
import { shortSms } from '../../../src/channels/gsm/sms-text.js';
import type { SharedModem } from '../../../src/channels/gsm/modem/shared-modem.js';
import { childProcesses, FakePromptAudio, gsmConfig, job, PLAY_SCRIPT, playLog, processExists, shared, smsConfig, voiceConfig } from './helpers.js';
import { Sim900Simulator, type CallScript } from './sim900-simulator.js';

const CALLS: Record<string, CallScript> = {
  '+15550000001': { result: 'answer', afterMs: 300, keys: [{ afterMs: 1200, key: '1' }] },
  '+15550000002': { result: 'answer', afterMs: 300 },
  '+15550000003': { result: 'busy', afterMs: 300 },
  '+15550000004': { result: 'no-answer' },
  '+15550000005': { result: 'answer', afterMs: 300, hangupAfterMs: 1200 },
  '+15550000006': { result: 'no-dialtone' },
  '+15550000007': { result: 'reject', afterMs: 300 },
  '+15550000008': { result: 'answer', afterMs: 300, keys: [{ afterMs: 1000, key: '2' }, { afterMs: 2200, key: '1' }] },
  '+15550000009': { result: 'answer', afterMs: 200 },
};

let sim: Sim900Simulator;
let modem: Sim900Modem;
let owner: SharedModem;
let audio: FakePromptAudio;
let logFile: string;

beforeAll(async () => {
  sim = await Sim900Simulator.create({ calls: CALLS });
  modem = new Sim900Modem({
    config: gsmConfig(sim.driverPath),
    logger: memoryLogger(),
    registrationPoll: 100,
    probeTimeout: 300,
    settleTime: 50,
  });
  await modem.start();
  await modem.idle();
  owner = shared(modem);
  audio = new FakePromptAudio();
  logFile = join(audio.dir, 'plays.log');
});

afterAll(async () => {
  await modem.stop();
  await sim.close();
  audio.cleanup();
});

afterEach(() => {
  // no audio player may outlive a call
  expect(childProcesses()).toEqual([]);
});

function channel(over: { play?: number; gsm?: Record<string, unknown>; repeat?: number; audioCommand?: string[] } = {}) {
  const log = memoryLogger();
  const gsm = gsmConfig(sim.driverPath, {
    audioCommand: over.audioCommand ?? [process.execPath, PLAY_SCRIPT, '{file}', logFile, String(over.play ?? 250)],
    ringTimeout: '2s',
    maxCallDuration: '20s',
    ...over.gsm,
  });
  const ch = new GsmCallChannel({
    modem: owner,
    audio,
    voice: voiceConfig({ repeat: over.repeat ?? 2 }),
    gsm,
    logger: log,
    pollInterval: 100,
    timings: { keyWaitMs: 400, gapMs: 100 },
  });
  return { ch, log };
}

/** Runs one call and returns its outcome with the AT commands it caused. */
async function call(number: string, opts: Parameters<typeof channel>[0] = {}, signal = new AbortController().signal) {
  const { ch } = channel(opts);
  const from = sim.commands.length;
  const playsFrom = playLog(logFile).length;
  const result = await ch.deliver(job({ phone: number }), signal);
  const commands = sim.commandsSince(from);
  const plays = playLog(logFile).slice(playsFrom);
  for (const p of plays) expect(processExists(p.pid)).toBe(false);
  expect(sim.callActive).toBe(false);
  return { result, commands, plays };
}

/** ATD first, only AT+CLCC polls in between, ATH last: nothing else is sent during a call. */
function expectCallCommands(commands: string[], number: string) {
  expect(commands[0]).toBe(`ATD${number};`);
  expect(commands[commands.length - 1]).toBe('ATH');
  expect(new Set(commands.slice(1, -1))).toEqual(new Set(commands.length > 2 ? ['AT+CLCC'] : []));
}

describe('gsm channel call outcomes', () => {
  it('answer + key 1 → acknowledged, confirmation played, hung up', async () => {
    const { result, commands, plays } = await call('+15550000001', { play: 2000 });
    expect(result).toMatchObject({ kind: 'acknowledged', reason: 'key 1 pressed', retryable: false, detail: { answered: true, keys: '1', action: 'acknowledge' } });
    expectCallCommands(commands, '+15550000001');
    expect(plays.map((p) => p.file.split('/').pop())).toEqual([expect.stringMatching(/^call-\d+\.wav$/), 'phrase-acknowledged.wav']);
    // The channel composes what it says from the alert.
    expect(audio.requests).toContain(`call:en:${voiceText(job().alert, 'en', 0)}`);
    expect(voiceText(job().alert, 'en', 0)).toMatch(/disk full on db1/);
  });

  it('answer without a key → the message is played voice.repeat times, then answered', async () => {
    const { result, commands, plays } = await call('+15550000002', { repeat: 3 });
    expect(result).toMatchObject({ kind: 'answered', retryable: false, detail: { plays: 3, answered: true } });
    expect(result.reason).toBe('message played, no key pressed');
    expect(plays).toHaveLength(3);
    expectCallCommands(commands, '+15550000002');
  });

  it('BUSY → busy, retryable', async () => {
    const { result, commands, plays } = await call('+15550000003');
    expect(result).toMatchObject({ kind: 'busy', reason: 'BUSY', retryable: true, detail: { answered: false } });
    expect(plays).toEqual([]);
    expectCallCommands(commands, '+15550000003');
  });

  it('no answer → ATH after the ring timeout → no-answer', async () => {
    const started = Date.now();
    const { result, commands } = await call('+15550000004');
    expect(result).toMatchObject({ kind: 'no-answer', reason: 'no answer within 2 s', retryable: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expectCallCommands(commands, '+15550000004');
    expect(commands.filter((c) => c === 'ATH')).toHaveLength(1);
  });

  it('remote hang-up mid-message → playback stopped, answered', async () => {
    const { result, commands, plays } = await call('+15550000005', { play: 5000 });
    expect(result).toMatchObject({ kind: 'answered', reason: 'far end hung up', retryable: false, detail: { plays: 0 } });
    expect(plays).toHaveLength(1);
    expectCallCommands(commands, '+15550000005');
  });

  it('NO DIALTONE → failed, retryable, still hung up', async () => {
    const { result, commands } = await call('+15550000006');
    expect(result).toMatchObject({ kind: 'failed', reason: 'NO DIALTONE (no network)', retryable: true });
    expect(commands).toEqual(['ATD+15550000006;', 'ATH']);
  });

  it('NO CARRIER before answer → no-answer', async () => {
    const { result } = await call('+15550000007');
    expect(result).toMatchObject({ kind: 'no-answer', reason: 'NO CARRIER (call ended before answer)' });
  });

  it('key 2 restarts the message, key 1 then acknowledges', async () => {
    const { result, plays } = await call('+15550000008', { play: 5000 });
    expect(result).toMatchObject({ kind: 'acknowledged', detail: { keys: '21' } });
    const names = plays.map((p) => p.file.split('/').pop());
    expect(names).toHaveLength(3);
    expect(names[0]).toBe(names[1]);
    expect(names[2]).toBe('phrase-acknowledged.wav');
  });

  it('abort mid-call → playback stopped, ATH, resolved promptly; answered "aborted during the call", retryable', async () => {
    const ac = new AbortController();
    const pending = call('+15550000009', { play: 10_000 }, ac.signal);
    await sim.waitFor(() => playLog(logFile).some((p) => processExists(p.pid)), 10_000, 'playback');
    ac.abort();
    const { result, commands } = await pending;
    expect(result).toMatchObject({ kind: 'answered', reason: 'aborted during the call', retryable: true, detail: { answered: true } });
    expectCallCommands(commands, '+15550000009');
  });

  it('never outlives gsm.maxCallDuration', async () => {
    const { result, commands } = await call('+15550000009', { play: 10_000, gsm: { maxCallDuration: '1500ms' } });
    expect(result).toMatchObject({ kind: 'answered', reason: 'maximum call duration reached', retryable: false });
    expectCallCommands(commands, '+15550000009');
  });

  it('an audio command that cannot start fails the call and hangs up', async () => {
    const { result, commands } = await call('+15550000002', { audioCommand: ['/nonexistent/player', '{file}'] });
    expect(result).toMatchObject({ kind: 'failed', retryable: true });
    expect(result.reason).toMatch(/^audio command failed: .*ENOENT/);
    expectCallCommands(commands, '+15550000002');
  });

  it('a hostile phone number never reaches the modem', async () => {
    for (const phone of ['+1555;ATH', '+1555\r\nATD999;', '12\x1a34', '"+15550000001"', '+155+50000001']) {
      const { result, commands } = await call(phone);
      expect(result.kind).toBe('rejected');
      expect(result.reason).toMatch(/invalid phone number/);
      expect(commands).toEqual([]);
    }
  });

  it('serializes calls: a second call waits for the first', async () => {
    const { ch } = channel();
    const from = sim.commands.length;
    const [a, b] = await Promise.all([
      ch.deliver(job({ phone: '+15550000003' }), new AbortController().signal),
      ch.deliver(job({ phone: '+15550000007' }), new AbortController().signal),
    ]);
    expect([a.kind, b.kind]).toEqual(['busy', 'no-answer']);
    const dialsAndHangups = sim.commandsSince(from).filter((c) => c !== 'AT+CLCC');
    expect(dialsAndHangups).toEqual(['ATD+15550000003;', 'ATH', 'ATD+15550000007;', 'ATH']);
  });

  it('an SMS goes between the polls of a ringing call', async () => {
    const { ch } = channel();
    const sms = new SmsChannel({ modem: owner, sms: smsConfig(), logger: memoryLogger() });
    const sentBefore = sim.sent.length;
    const calling = ch.deliver(job({ phone: '+15550000004' }), new AbortController().signal);
    await sim.waitFor(() => sim.callActive, 10_000, 'ringing');
    const during = job({ subject: 'during a call' });
    const texted = await sms.deliver(during, new AbortController().signal);
    expect(texted.kind).toBe('delivered');
    expect(sim.sent.slice(sentBefore).map((s) => s.text)).toEqual([`${shortSms(during.alert)} Reply 1 to ack`]);
    expect(sim.callActive).toBe(true);
    expect((await calling).kind).toBe('no-answer');
  });

  it('address() is the phone number; none without one', () => {
    const { ch } = channel();
    expect(ch.address({ email: 'a@b', lang: 'en', phone: '+15551230001' })).toBe('+15551230001');
    expect(ch.address({ email: 'a@b', lang: 'en' })).toBeNull();
    expect(ch.address({ email: 'a@b', lang: 'en', phone: ' ' })).toBeNull();
  });

  it('a voice channel of capacity 1 that reports the modem status itself', () => {
    const { ch } = channel();
    expect([ch.kind, ch.capacity]).toEqual(['voice', 1]);
    expect(ch.status()).toEqual(modem.status());
    expect(ch.status()).toMatchObject({ state: 'ready', healthy: true });
  });

  it('an aborted delivery dials nothing (failed, retryable: the dispatcher knows why it aborted)', async () => {
    const ac = new AbortController();
    ac.abort();
    const { result, commands } = await call('+15550000002', {}, ac.signal);
    expect(result).toMatchObject({ kind: 'failed', reason: 'aborted before dialing', retryable: true });
    expect(commands).toEqual([]);
  });

  it('abort while ringing → ATH, failed "aborted while ringing", retryable', async () => {
    const ac = new AbortController();
    const pending = call('+15550000004', {}, ac.signal);
    await sim.waitFor(() => sim.callActive, 10_000, 'ringing');
    ac.abort();
    const { result, commands } = await pending;
    expect(result).toMatchObject({ kind: 'failed', reason: 'aborted while ringing', retryable: true, detail: { answered: false } });
    expectCallCommands(commands, '+15550000004');
  });
});
