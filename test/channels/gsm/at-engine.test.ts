import { afterEach, describe, expect, it } from 'vitest';
import { AtEngine, AtError, defaultOpenPort, type OpenPort } from '../../../src/channels/gsm/at-engine.js';
import type { Urc } from '../../../src/channels/gsm/at-parser.js';
import { encodeSmsSubmit } from '../../../src/channels/gsm/pdu/index.js';
import { memoryLogger, silentLogger } from '../../../src/util/log.js';
import { Sim900Simulator, type SimOptions } from './sim900-simulator.js';

let sim: Sim900Simulator | undefined;
let engine: AtEngine | undefined;

async function setup(opts: SimOptions = {}, logger = silentLogger) {
  sim = await Sim900Simulator.create(opts);
  engine = new AtEngine({ path: sim.driverPath, baudRate: 9600, logger, commandTimeout: 2000, settleTime: 100 });
  const urcs: Urc[] = [];
  engine.on('urc', (u) => urcs.push(u));
  await engine.open();
  return { sim, engine, urcs };
}

afterEach(async () => {
  await engine?.close();
  await sim?.close();
  engine = undefined;
  sim = undefined;
});

describe('AtEngine over a pseudo-terminal', () => {
  it('strips the echo while echo is on, and works the same after ATE0', async () => {
    const { engine, sim } = await setup();
    const r1 = await engine.command('AT+CSQ');
    expect(r1).toMatchObject({ ok: true, lines: ['+CSQ: 17,0'], final: { code: 'OK' } });
    await engine.ok('ATE0');
    const r2 = await engine.command('AT+CSQ');
    expect(r2.lines).toEqual(['+CSQ: 17,0']);
    expect(sim.commands).toEqual(['AT+CSQ', 'ATE0', 'AT+CSQ']);
  });

  it('survives power-up garbage before the first answer', async () => {
    const { engine, urcs } = await setup({ garbageAtStart: true });
    const r = await engine.command('AT');
    expect(r.ok).toBe(true);
    expect(r.lines).toEqual([]);
    expect(urcs.map((u) => u.kind)).toContain('ready');
  });

  it('separates URCs that arrive in the middle of a response', async () => {
    const { engine, sim, urcs } = await setup();
    sim.injectMidResponse.push('+CMTI: "SM",5', 'RING');
    const r = await engine.command('AT+CSQ');
    expect(r.lines).toEqual(['+CSQ: 17,0']);
    expect(urcs.map((u) => u.line)).toEqual(['+CMTI: "SM",5', 'RING']);
  });

  it('keeps the +CLCC answer whole when a URC arrives between the list and OK', async () => {
    const { engine, sim, urcs } = await setup();
    await engine.ok('ATD+15550000004;');
    sim.injectMidResponse.push('RING');
    const r = await engine.command('AT+CLCC');
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^\+CLCC: 1,0,[23],0,0,"\+15550000004",145$/);
    expect(urcs.map((u) => u.kind)).toEqual(['ring']);
    await engine.ok('ATH');
  });

  it('times out a command the modem never answers: ESC, clear reason, next command works', async () => {
    const { engine, sim } = await setup();
    sim.neverAnswer.add('AT+CSQ');
    const err = await engine.command('AT+CSQ', { timeout: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtError);
    expect((err as AtError).kind).toBe('timeout');
    expect((err as AtError).message).toBe('AT+CSQ: no final result code within 300 ms (cancelled with ESC)');
    await sim.waitFor(() => sim.escapes === 1, 5000, 'ESC');
    const r = await engine.command('AT+COPS?');
    expect(r.lines).toEqual(['+COPS: 0,0,"SimNet"']);
  });

  it('runs queued commands one at a time, in order', async () => {
    const { engine, sim } = await setup();
    const results = await Promise.all([engine.command('AT'), engine.command('AT+CSQ'), engine.command('AT+COPS?'), engine.command('AT+BOGUS')]);
    expect(results.map((r) => r.final.code)).toEqual(['OK', 'OK', 'OK', 'ERROR']);
    expect(results[2]!.lines).toEqual(['+COPS: 0,0,"SimNet"']);
    expect(sim.commands).toEqual(['AT', 'AT+CSQ', 'AT+COPS?', 'AT+BOGUS']);
  });

  it('writes the PDU only after the "> " prompt and returns +CMGS', async () => {
    const { engine, sim } = await setup();
    const sms = encodeSmsSubmit({ to: '+15551230001', text: 'hello', reference: 1, maxParts: 1 });
    const part = sms.parts[0]!;
    const r = await engine.command(`AT+CMGS=${part.tpduLength}`, { pdu: part.hex });
    expect(r.ok).toBe(true);
    expect(r.lines).toEqual(['+CMGS: 1']); // the echoed PDU is not a response line
    expect(sim.sent.map((s) => s.text)).toEqual(['hello']);
    expect(sim.pduBodies).toEqual([part.hex]);
  });

  it('refuses an unsafe command or PDU without writing anything', async () => {
    const { engine, sim } = await setup();
    await expect(engine.command('AT+CSQ\rATH')).rejects.toMatchObject({ kind: 'invalid' });
    await expect(engine.command('ATD123;\x1a')).rejects.toMatchObject({ kind: 'invalid' });
    await expect(engine.command('AT+CMGS=5', { pdu: '00\x1aATH' })).rejects.toMatchObject({ kind: 'invalid' });
    await engine.command('AT');
    expect(sim.commands).toEqual(['AT']);
  });

  it('fails pending commands and reports disconnect when the port vanishes', async () => {
    const { engine, sim } = await setup();
    sim.neverAnswer.add('AT+CSQ');
    const disconnected = new Promise<Error>((r) => engine.once('disconnect', r));
    const pending = engine.command('AT+CSQ', { timeout: 20_000 });
    const queued = engine.command('AT');
    // Handlers attached before the port goes, so the rejections are never unhandled.
    const pendingFails = expect(pending).rejects.toMatchObject({ kind: 'port-closed' });
    const queuedFails = expect(queued).rejects.toMatchObject({ kind: 'port-closed' });
    await sim.waitFor(() => sim.commands.includes('AT+CSQ'));
    await sim.vanish();
    await pendingFails;
    await queuedFails;
    expect((await disconnected).message).toMatch(/serial port closed/);
    expect(engine.isOpen).toBe(false);
    await expect(engine.command('AT')).rejects.toMatchObject({ kind: 'port-closed' });
  });

  it('notices a vanished port that reading does not report (a hang-up read as end of file): the device path is gone', async () => {
    sim = await Sim900Simulator.create();
    // The real port, except that its close events never reach the engine: as when the serial
    // library reads end-of-file from the hung-up tty again and again and says nothing.
    const deaf: OpenPort = (path, baudRate) => {
      const p = defaultOpenPort(path, baudRate);
      return new Proxy(p, { get: (t, k) => (k === 'on' ? (ev: string, fn: never) => (ev === 'close' ? t : t.on(ev as 'data', fn)) : Reflect.get(t, k, t)) });
    };
    engine = new AtEngine({ path: sim.driverPath, baudRate: 9600, logger: silentLogger, commandTimeout: 2000, settleTime: 100, openPort: deaf, presenceCheck: 200 });
    await engine.open();
    sim.neverAnswer.add('AT+CSQ');
    const disconnected = new Promise<Error>((r) => engine!.once('disconnect', r));
    const pending = engine.command('AT+CSQ', { timeout: 20_000 });
    const pendingFails = expect(pending).rejects.toMatchObject({ kind: 'port-closed', message: expect.stringMatching(/ENOENT: the device is gone/) });
    await sim.waitFor(() => sim!.commands.includes('AT+CSQ'));
    await sim.vanish();
    await pendingFails;
    expect((await disconnected).message).toMatch(/serial port closed: .*ttyDriver: ENOENT/);
    expect(engine.isOpen).toBe(false);
  });

  it('drops an overlong line from the modem with a log line; the command in flight still completes', async () => {
    const log = memoryLogger();
    const { engine, sim, urcs } = await setup({}, log);
    sim.injectMidResponse.push('X'.repeat(20_000), '+CMTI: "SM",3');
    const r = await engine.command('AT+CSQ');
    expect(r).toMatchObject({ ok: true, lines: ['+CSQ: 17,0'] });
    expect(urcs.map((u) => u.line)).toEqual(['+CMTI: "SM",3']);
    expect(log.lines.filter((l) => l.includes('gsm.line_dropped'))).toHaveLength(1);
    expect(log.lines.find((l) => l.includes('gsm.line_dropped'))).toMatch(/length=20000/);
  });

  it('a late answer from an earlier session does not answer the first command after reopening', async () => {
    const { engine, sim } = await setup();
    await engine.ok('ATE0');
    await engine.close();
    const reopened = engine.open();
    // What the module still sends for a command of the closed session.
    sim.urc('+CPIN: SIM PIN');
    sim.urc('ERROR');
    await reopened;
    const r = await engine.command('AT+CPIN?');
    expect(r).toMatchObject({ ok: true, lines: ['+CPIN: READY'] });
    expect((await engine.command('AT+CSQ')).lines).toEqual(['+CSQ: 17,0']);
  });

  it('never logs the PIN', async () => {
    const log = memoryLogger();
    const { engine } = await setup({ pin: '4321' }, log);
    await engine.command('AT+CPIN="4321"');
    expect(log.lines.join('\n')).not.toContain('4321');
    expect(log.lines.join('\n')).toContain('AT+CPIN=***');
  });
});
