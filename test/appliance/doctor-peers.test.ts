/**
 * doctor's modem and SIP lines against real peers: the SIM900 simulator behind a pseudo-terminal
 * (test/channels/gsm) and sipp as the registrar (test/channels/voip). Pass when the peer is there, and fail with
 * the right line when it is not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runDoctor, type CheckResult, type DoctorReport } from '../../src/appliance/doctor-checks.js';
import { modemChecks, modemProbe, sipProbe } from '../../src/appliance/doctor-channel-probes.js';
import { Sim900Simulator } from '../channels/gsm/sim900-simulator.js';
import { freePort, startSipp, type SippRun } from '../channels/voip/sipp/helpers.js';
import { tempDir } from '../helpers/env.js';

const noTts = async () => [{ name: 'tts', status: 'skip' as const, detail: 'not under test here' }];
const lines = (r: DoctorReport, ...names: string[]) => names.map((n) => r.checks.find((c) => c.name === n) ?? ({ name: n, status: 'missing' } as unknown as CheckResult));

let sim: Sim900Simulator | undefined;
let sipp: SippRun | undefined;
let tmp: { dir: string; cleanup: () => void } | undefined;
afterEach(async () => {
  await sim?.close();
  await sipp?.kill();
  tmp?.cleanup();
  sim = undefined;
  sipp = undefined;
  tmp = undefined;
});

function config(doc: Record<string, unknown>): string {
  tmp = tempDir('alertline-doctor-peers-');
  const file = join(tmp.dir, 'alertline.yaml');
  writeFileSync(file, stringify({ dataDir: join(tmp.dir, 'data'), audioCacheDir: join(tmp.dir, 'audio'), smtp: { host: '127.0.0.1', port: 0 }, ...doc }), { mode: 0o640 });
  return file;
}

const fastModem = modemProbe({ registrationPoll: 100, probeTimeout: 300, probeAttempts: 3 });

describe('doctor: GSM modem (SIM900 simulator on a pty)', () => {
  it('passes: answers AT, SIM ready, registered, signal', async () => {
    sim = await Sim900Simulator.create();
    const file = config({ channels: { gsm: { enabled: true, port: sim.driverPath } } });
    const r = await runDoctor({ configPath: file, env: {}, probes: { tts: noTts, modem: fastModem } });
    expect(lines(r, 'modem', 'sim', 'gsm-network', 'signal')).toEqual([
      { name: 'modem', status: 'pass', detail: `answers AT on ${sim.driverPath}` },
      { name: 'sim', status: 'pass', detail: 'ready' },
      { name: 'gsm-network', status: 'pass', detail: expect.stringMatching(/^registered \(.*\) on SimNet$/) },
      { name: 'signal', status: 'pass', detail: 'rssi 17 (-79 dBm)' },
    ]);
    expect(r.ok).toBe(true);
    // It only looked: no call, no SMS.
    expect(sim.commands.filter((c) => /^ATD|^AT\+CMGS/.test(c))).toEqual([]);
  }, 60_000);

  it('fails the sim line when the SIM wants a PIN and gsm.pin is empty', async () => {
    sim = await Sim900Simulator.create({ pin: '1234' });
    const file = config({ channels: { gsm: { enabled: true, port: sim.driverPath } } });
    const r = await runDoctor({ configPath: file, env: {}, probes: { tts: noTts, modem: fastModem } });
    const [modem, simLine, net] = lines(r, 'modem', 'sim', 'gsm-network');
    expect(modem!.status).toBe('pass');
    expect(simLine).toMatchObject({ status: 'fail', detail: 'the SIM wants a PIN and gsm.pin is empty' });
    expect(net).toMatchObject({ status: 'skip' });
    expect(sim.pinAttempts).toBe(0);
    expect(r.ok).toBe(false);
  }, 60_000);

  it('fails the modem line when the port is not there (unplugged)', async () => {
    const file = config({ channels: { sms: { enabled: true }, gsm: { enabled: false, port: '/nonexistent/alertline-modem' } } });
    const r = await runDoctor({ configPath: file, env: {}, probes: { tts: noTts, modem: fastModem } });
    const [modem, simLine] = lines(r, 'modem', 'sim');
    expect(modem).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^cannot open \/nonexistent\/alertline-modem/) });
    expect(modem!.hint).toMatch(/dialout/);
    expect(simLine).toMatchObject({ status: 'skip', detail: 'skipped (modem not answering)' });
  }, 60_000);

  it('maps weak signal to a warning and no signal to a failure', () => {
    const base = { state: 'ready' as const, port: '/dev/x', healthy: true, registered: true, registration: { stat: 1, text: 'home' }, failures: 0, reconnects: 0, inCall: false };
    expect(modemChecks({ ...base, signal: { rssi: 3, dbm: -107, ber: 0 } }, 9600).at(-1)).toMatchObject({ name: 'signal', status: 'warn' });
    expect(modemChecks({ ...base, signal: { rssi: 99, dbm: null, ber: 99 } }, 9600).at(-1)).toMatchObject({ name: 'signal', status: 'fail' });
    expect(modemChecks({ ...base, state: 'pin-rejected', lastError: '+CME ERROR: incorrect password' }, 9600)[1]).toMatchObject({ name: 'sim', status: 'fail', hint: expect.stringContaining('PUK') });
    expect(modemChecks({ ...base, state: 'no-response' }, 115200)[0]).toMatchObject({ name: 'modem', status: 'fail', detail: '/dev/x opened but the modem does not answer AT at 115200 baud' });
  });
});

describe('doctor: SIP registration (sipp registrar)', () => {
  const voip = (port: number, password: string) => ({
    enabled: true, server: `127.0.0.1:${port}`, domain: 'alertline.test', username: '200', password, localAddress: '127.0.0.1', localPort: 0,
  });

  it('passes when the registrar accepts our digest, and unregisters afterwards', async () => {
    sipp = await startSipp('../../../appliance/fixtures/registrar.xml');
    const file = config({ channels: { voip: voip(sipp.port, 's3cret') } });
    const r = await runDoctor({ configPath: file, env: {}, probes: { tts: noTts, sip: sipProbe() } });
    const [sip] = lines(r, 'sip');
    expect(sip).toEqual({ name: 'sip', status: 'pass', detail: `registered 200@alertline.test at 127.0.0.1:${sipp.port} for 60 s` });
    const done = await sipp.done;
    expect(done.code, done.output).toBe(0);
    expect(JSON.stringify(r)).not.toContain('s3cret');
  }, 60_000);

  it('fails with the registrar\'s answer when it refuses the password', async () => {
    sipp = await startSipp('../../../appliance/fixtures/registrar.xml');
    const file = config({ channels: { voip: voip(sipp.port, 'wrong') } });
    const r = await runDoctor({ configPath: file, env: {}, probes: { tts: noTts, sip: sipProbe() } });
    const [sip] = lines(r, 'sip');
    expect(sip!.status).toBe('fail');
    expect(sip!.detail).toMatch(new RegExp(`^registration at 127\\.0\\.0\\.1:${sipp.port} failed: .*403`));
    expect(sip!.hint).toMatch(/password/);
  }, 60_000);

  it('fails when no registrar answers', async () => {
    const port = await freePort();
    const file = config({ channels: { voip: voip(port, 's3cret') } });
    const r = await runDoctor({ configPath: file, env: {}, probes: { tts: noTts, sip: sipProbe({ timers: { T1: 50, T2: 400, T4: 500 } }) } });
    const [sip] = lines(r, 'sip');
    expect(sip).toMatchObject({ status: 'fail', detail: `registration at 127.0.0.1:${port} failed: no answer from registrar (timeout)` });
  }, 60_000);

  it('voip.servers: the first server silent → registered at the second, and a WARN names the one that is down', async () => {
    const dead = await freePort();
    sipp = await startSipp('../../../appliance/fixtures/registrar.xml');
    const { server: _one, ...rest } = voip(sipp.port, 's3cret');
    const file = config({ channels: { voip: { ...rest, servers: [`127.0.0.1:${dead}`, `127.0.0.1:${sipp.port}`] } } });
    const r = await runDoctor({ configPath: file, env: {}, probes: { tts: noTts, sip: sipProbe({ timers: { T1: 50, T2: 400, T4: 500 } }) } });
    const [sip] = lines(r, 'sip');
    expect(sip).toMatchObject({
      status: 'warn',
      detail: `registered 200@alertline.test at 127.0.0.1:${sipp.port} for 60 s; down: 127.0.0.1:${dead} (no answer (transaction timeout))`,
      hint: expect.stringMatching(/fails back/),
    });
    const done = await sipp.done;
    expect(done.code, done.output).toBe(0);
  }, 60_000);
});
