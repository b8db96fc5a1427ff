/**
 * `alertline doctor` on who can be reached: the shipped example config (only the console channel)
 * fails with exit 1 while nobody has a console login; a user no enabled channel reaches and an empty admins group are warnings.
 * Real files, a real database, a real SMTP sink as the relay, the real CLI command.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { parse, stringify } from 'yaml';
import { registerDoctor } from '../../src/cli/doctor.js';
import { CliError } from '../../src/cli/context.js';
import { openStores } from '../../src/store/index.js';
import { startSink, tempDir } from '../helpers/env.js';

const EXAMPLE = join(import.meta.dirname, '../../config/alertline.example.yaml');

describe('alertline doctor: can anybody be reached', () => {
  let tmp: { dir: string; cleanup: () => void };
  const closers: (() => Promise<unknown>)[] = [];
  beforeEach(() => {
    tmp = tempDir('alertline-doctor-reach-');
  });
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => {});
    tmp.cleanup();
  });

  function writeConfig(doc: Record<string, unknown>): string {
    const file = join(tmp.dir, 'alertline.yaml');
    writeFileSync(file, stringify({ ...doc, dataDir: join(tmp.dir, 'data'), audioCacheDir: join(tmp.dir, 'audio-cache'), logLevel: 'error' }));
    chmodSync(file, 0o640);
    return file;
  }

  async function addUsers(users: [string, Record<string, unknown>][]): Promise<void> {
    const s = openStores(join(tmp.dir, 'data'));
    for (const [email, f] of users) await s.users.add(email, f);
    await s.close();
  }

  async function doctor(file: string): Promise<{ out: string; exit: number }> {
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
      await program.parseAsync(['node', 'alertline', '--config', file, 'doctor']);
      return { out, exit: 0 };
    } catch (e) {
      if (e instanceof CliError) return { out, exit: e.exitCode };
      throw e;
    } finally {
      spy.mockRestore();
      logSpy.mockRestore();
    }
  }

  const line = (out: string, status: string, name: string) => out.split('\n').find((l) => l.startsWith(`${status}  ${name} `)) ?? `(no ${status} ${name} line in:\n${out})`;

  it('the shipped example config (only the console channel) fails while nobody has a console login; passes once someone has', async () => {
    const example = parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, unknown>;
    const file = writeConfig({ ...example, smtp: { ...(example.smtp as object), port: 0 } });
    await addUsers([['ana@example.com', { phone: '+34600111222', group: 'admins' }]]);
    const { out, exit } = await doctor(file);
    expect(exit, out).toBe(1);
    // The example enables only the console channel: it reaches people with a console login, and ana has none.
    expect(line(out, 'FAIL', 'reach')).toMatch(/no enabled channel \(console\) can reach any of the 1 user/);
    expect(out).toMatch(/hint: .*a web login with web-users add --user for console/);
    expect(out).not.toContain('all checks passed');
    const s = openStores(join(tmp.dir, 'data'));
    await s.webUsers.add('ana', 'admin', 'scrypt$32768$8$1$c2FsdA$a2V5', 'ana@example.com');
    await s.close();
    const after = await doctor(file);
    expect(line(after.out, 'PASS', 'reach')).toMatch(/1 of 1 user reachable \(channels console\)/);
  }, 60_000);

  it('a channel enabled in the database (alertline channels enable) counts, like the daemon sees it', async () => {
    const sink = await startSink();
    closers.push(() => sink.close());
    const file = writeConfig({ smtp: { port: 0 }, channels: { mail: { host: '127.0.0.1', port: sink.port, requireTLS: false, timeout: '5s' } } });
    await addUsers([['ana@example.com', { group: 'admins' }]]);
    expect((await doctor(file)).exit).toBe(1);
    const s = openStores(join(tmp.dir, 'data'));
    await s.settings.set('channels.mail.enabled', 'true');
    await s.close();
    const { out, exit } = await doctor(file);
    expect(exit, out).toBe(0);
    expect(line(out, 'PASS', 'reach')).toMatch(/1 of 1 user reachable \(channels mail\)/);
    expect(line(out, 'PASS', 'admins')).toMatch(/1 in group admins: ana@example.com/);
  }, 60_000);

  it('warns about a user no enabled channel reaches, and about an empty admins group (exit 0)', async () => {
    const sink = await startSink();
    closers.push(() => sink.close());
    const file = writeConfig({ smtp: { port: 0 }, channels: { order: ['sms', 'mail'], mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false, timeout: '5s' } } });
    await addUsers([['ana@example.com', {}], ['ben@example.com', { phone: '+34600333444', channelOrder: 'sms' }]]);
    const { out, exit } = await doctor(file);
    expect(exit, out).toBe(0);
    expect(line(out, 'PASS', 'reach')).toMatch(/1 of 2 users reachable/);
    expect(line(out, 'WARN', 'reach-users')).toMatch(/reachable by no enabled channel: ben@example.com$/);
    expect(line(out, 'WARN', 'admins')).toMatch(/nobody is in group admins \(admins.group\)/);
  }, 60_000);

  it('fails when channels are enabled but none has an address for any user', async () => {
    const sink = await startSink();
    closers.push(() => sink.close());
    const file = writeConfig({ smtp: { port: 0 }, channels: { order: ['mail'], mail: { enabled: true, host: '127.0.0.1', port: sink.port, requireTLS: false, timeout: '5s' } } });
    await addUsers([['ben@example.com', { phone: '+34600333444', channelOrder: 'sms', group: 'admins' }]]);
    const { out, exit } = await doctor(file);
    expect(exit, out).toBe(1);
    expect(line(out, 'FAIL', 'reach')).toMatch(/no enabled channel \(mail\) can reach any of the 1 user/);
    expect(line(out, 'WARN', 'admins')).toMatch(/nobody in group admins is reachable/);
  }, 60_000);
});
