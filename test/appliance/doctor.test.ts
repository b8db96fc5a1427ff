/**
 * `alertline doctor` against real peers on loopback: an SMTP sink standing in for the relay, a
 * running Alertline daemon or another SMTP server on the port, real TTS, real files.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { runDoctor, formatDoctorReport, type CheckResult, type DoctorReport } from '../../src/appliance/doctor-checks.js';
import { registerDoctor } from '../../src/cli/doctor.js';
import { modemProbe } from '../../src/appliance/doctor-channel-probes.js';
import { CliError } from '../../src/cli/context.js';
import { startDaemon, startSink, tempDir } from '../helpers/env.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

const byName = (r: DoctorReport, name: string): CheckResult => {
  const c = r.checks.find((x) => x.name === name);
  if (!c) throw new Error(`no ${name} line in ${JSON.stringify(r.checks)}`);
  return c;
};

/** TTS is exercised for real in its own tests; elsewhere it stays out of the way. */
const noTts = { tts: async () => [{ name: 'tts', status: 'skip' as const, detail: 'not under test here' }] };

describe('alertline doctor', () => {
  let tmp: { dir: string; cleanup: () => void };
  const closers: (() => Promise<unknown>)[] = [];
  beforeEach(() => {
    tmp = tempDir('alertline-doctor-');
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => {});
    tmp.cleanup();
  });

  function writeConfig(doc: Record<string, unknown>, mode = 0o640): string {
    const file = join(tmp.dir, 'alertline.yaml');
    writeFileSync(file, stringify({ dataDir: join(tmp.dir, 'data'), audioCacheDir: join(tmp.dir, 'audio-cache'), logLevel: 'error', ...doc }));
    chmodSync(file, mode);
    return file;
  }

  async function runCli(args: string[]): Promise<{ out: string; exit: number }> {
    const program = new Command('alertline').option('--config <file>').exitOverride();
    registerDoctor(program, () => program.opts());
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += chunk.toString();
      return true;
    });
    const logSpy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      out += a.join(' ') + '\n';
    });
    try {
      await program.parseAsync(['node', 'alertline', ...args]);
      return { out, exit: 0 };
    } catch (e) {
      if (e instanceof CliError) return { out, exit: e.exitCode };
      throw e;
    } finally {
      spy.mockRestore();
      logSpy.mockRestore();
    }
  }

  it('passes with a reachable relay that accepts our login, a free SMTP port and working TTS (CLI, exit 0)', async () => {
    const sink = await startSink({ auth: { user: 'alertline', pass: 's3cret-relay' } });
    closers.push(() => sink.close());
    const port = await freePort();
    const file = writeConfig({
      smtp: { host: '127.0.0.1', port },
      channels: { mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false, user: 'alertline', password: 's3cret-relay', timeout: '10s' } },
    });
    const { out, exit } = await runCli(['--config', file, 'doctor']);
    expect(exit, out).toBe(0);
    const line = (status: string, name: string) => out.split('\n').find((l) => l.startsWith(`${status}  ${name} `)) ?? `(no ${status} ${name} line in:\n${out})`;
    expect(line('PASS', 'config')).toContain(file);
    expect(line('PASS', 'data-dir')).toMatch(/writable; database open, 0 users/);
    expect(line('PASS', 'smtp-port')).toContain(`127.0.0.1:${port} is free`);
    expect(line('PASS', 'tts')).toMatch(/espeak-wasm, lang en: \d+\.\d s of speech at 8000 Hz/);
    expect(line('PASS', 'relay')).toContain(`127.0.0.1:${sink.port} accepts connections and authentication as alertline`);
    expect(line('SKIP', 'modem')).toMatch(/ skipped \(disabled\)$/);
    expect(line('SKIP', 'sip')).toMatch(/ skipped \(disabled\)$/);
    expect(line('WARN', 'users')).toMatch(/no users yet/);
    expect(out).toContain('all checks passed');
    expect(out).not.toContain('s3cret-relay');
    // Nothing was sent through the relay.
    expect(sink.attempts).toBe(0);
  }, 120_000);

  it('fails the relay line when nothing listens there, with a hint (CLI --json, exit 1)', async () => {
    const sink = await startSink();
    const deadPort = sink.port;
    await sink.close();
    const file = writeConfig({
      smtp: { host: '127.0.0.1', port: 0 },
      channels: { mail: { enabled: true, host: '127.0.0.1', port: deadPort, requireTLS: false, timeout: '10s' } },
    });
    const program = await runCli(['--config', file, 'doctor', '--json']);
    expect(program.exit).toBe(1);
    const report = JSON.parse(program.out) as DoctorReport;
    expect(report.ok).toBe(false);
    const relay = byName(report, 'relay');
    expect(relay.status).toBe('fail');
    expect(relay.detail).toMatch(new RegExp(`127\\.0\\.0\\.1:${deadPort}: .*ECONNREFUSED`));
    expect(relay.hint).toMatch(/nothing answers SMTP at 127\.0\.0\.1:\d+/);
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.name)).toEqual(['relay']);
  }, 120_000);

  it('fails the relay line when the relay refuses our credentials', async () => {
    const sink = await startSink({ auth: { user: 'alertline', pass: 'right' } });
    closers.push(() => sink.close());
    const file = writeConfig({ channels: { mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false, user: 'alertline', password: 'wrong-pw', timeout: '10s' } } });
    const r = await runDoctor({ configPath: file, env: {}, probes: noTts });
    const relay = byName(r, 'relay');
    expect(relay.status).toBe('fail');
    expect(relay.detail).toMatch(/535/);
    expect(relay.hint).toMatch(/refused channels\.mail\.user \/ password/);
    expect(JSON.stringify(r)).not.toContain('wrong-pw');
  }, 60_000);

  it('an invalid config fails the config line, names the key, and skips the rest', async () => {
    const file = join(tmp.dir, 'bad.yaml');
    writeFileSync(file, 'smtp:\n  port: "twenty-five"\n');
    const r = await runDoctor({ configPath: file, env: {} });
    expect(r.ok).toBe(false);
    const cfg = byName(r, 'config');
    expect(cfg.status).toBe('fail');
    expect(cfg.detail).toContain(file);
    expect(cfg.detail).toContain('smtp.port');
    expect(byName(r, 'relay')).toMatchObject({ status: 'skip', detail: 'skipped (config invalid)' });
    expect(formatDoctorReport(r)).toMatch(/^FAIL {2}config .*smtp\.port[\s\S]*hint: fix the key/m);
  });

  it('a missing config file fails the config line', async () => {
    const r = await runDoctor({ configPath: join(tmp.dir, 'nope.yaml'), env: {} });
    expect(byName(r, 'config')).toMatchObject({ status: 'fail' });
    expect(byName(r, 'config').detail).toMatch(/cannot read config file .*nope\.yaml: ENOENT/);
  });

  it('a data dir that cannot be written fails the data-dir line (even for root)', async () => {
    const blocker = join(tmp.dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const file = writeConfig({ dataDir: join(blocker, 'data') });
    const r = await runDoctor({ configPath: file, env: {}, probes: noTts });
    const d = byName(r, 'data-dir');
    expect(d.status).toBe('fail');
    expect(d.detail).toMatch(/not-a-dir\/data is not writable: .*ENOTDIR/);
    expect(r.ok).toBe(false);
  });

  it('the SMTP port: OK when our own daemon answers there, FAIL when another server holds it', async () => {
    const d = await startDaemon();
    closers.push(() => d.stop());
    let file = writeConfig({ dataDir: d.config.dataDir, smtp: { host: '127.0.0.1', port: d.port } });
    let r = await runDoctor({ configPath: file, env: {}, probes: noTts });
    expect(byName(r, 'smtp-port')).toMatchObject({ status: 'pass', detail: `127.0.0.1:${d.port}: the Alertline daemon is listening (pid ${process.pid})` });

    const other = await startSink();
    closers.push(() => other.close());
    file = writeConfig({ smtp: { host: '127.0.0.1', port: other.port } });
    r = await runDoctor({ configPath: file, env: {}, probes: noTts });
    const line = byName(r, 'smtp-port');
    expect(line.status).toBe('fail');
    expect(line.detail).toMatch(/is taken by another program \(greets: "220 /);
    expect(line.hint).toMatch(/smtp\.port/);
  }, 60_000);

  it('warns about a world-readable config that holds secrets', async () => {
    const file = writeConfig({ smtp: { port: 0, auth: { users: { zabbix: 'pw' } } } }, 0o644);
    const r = await runDoctor({ configPath: file, env: {}, probes: noTts });
    const p = byName(r, 'config-permissions');
    expect(p.status).toBe('warn');
    expect(p.detail).toContain(file);
    expect(p.hint).toContain(`chmod 640 ${file}`);
    chmodSync(file, 0o640);
    const r2 = await runDoctor({ configPath: file, env: {}, probes: noTts });
    expect(byName(r2, 'config-permissions')).toMatchObject({ status: 'pass', detail: expect.stringContaining('mode 0640') });
  });

  it('a TTS engine that cannot run fails the tts line', async () => {
    const file = writeConfig({ smtp: { port: 0 }, voice: { engine: 'command', command: [join(tmp.dir, 'no-such-tts'), '{text}', '{file}'] } });
    const r = await runDoctor({ configPath: file, env: {} });
    const t = byName(r, 'tts');
    expect(t.status).toBe('fail');
    expect(t.detail).toMatch(/^command \(lang en\): /);
    expect(t.hint).toMatch(/voice\.command/);
  }, 60_000);

  it('an enabled channel without a probe is a failure, never a silent pass', async () => {
    const file = writeConfig({ smtp: { port: 0 }, channels: { voip: { enabled: true } } });
    const r = await runDoctor({ configPath: file, env: {}, probes: noTts });
    expect(byName(r, 'sip')).toMatchObject({ status: 'fail', detail: 'no SIP check available in this build' });
  });

  it('with a daemon running, the modem line reports what the daemon sees instead of opening the port again', async () => {
    const d = await startDaemon({ channels: { gsm: { enabled: true, port: '/nonexistent/modem-in-use' } } });
    closers.push(() => d.stop());
    const file = writeConfig({ dataDir: d.config.dataDir, smtp: { host: '127.0.0.1', port: d.port }, channels: { gsm: { enabled: true, port: '/nonexistent/modem-in-use' } } });
    const r = await runDoctor({ configPath: file, env: {}, probes: { ...noTts, modem: modemProbe() } });
    const m = byName(r, 'modem');
    expect(m.status).toBe('fail');
    expect(m.detail).toBe(`daemon pid ${process.pid} has not started the gsm channel: starting`);
    expect(m.hint).toMatch(/journalctl -u alertline/);
  }, 60_000);
});
