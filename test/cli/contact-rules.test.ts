/**
 * Contact-rule flags of `users add|update` as a user runs them (the built CLI as a subprocess, a
 * temp data dir): they round trip through `users show --json` and `users list`, update changes
 * only what it names, "" clears, and bad input exits 2 naming it without changing anything.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { BIN } from '../helpers/cli.js';
import { tempDir } from '../helpers/env.js';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

const tmp = tempDir();
const conf = join(tmp.dir, 'alertline.yaml');
function run(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, '--config', conf, ...args], { env: { ...process.env, ALERTLINE_CONFIG: '', TZ: 'America/New_York' }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}
async function show(email: string) {
  const r = await run('users', 'show', email, '--json');
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(r.stdout);
}
const ana = 'ana@x.example';
const beto = 'beto@x.example';

beforeAll(() => {
  writeFileSync(conf, `dataDir: ${join(tmp.dir, 'data')}\naudioCacheDir: ${join(tmp.dir, 'audio')}\nsmtp: { port: 0 }\n`);
});
afterAll(() => tmp.cleanup());

describe('users add|update contact rules', () => {
  it('the flags round trip through users show --json, users show and users list', async () => {
    const add = await run('users', 'add', ana, '--phone', '+34600111222', '--tz', 'europe/madrid',
      '--quiet', 'mon-fri 22:00-07:00', '--quiet', 'Sat,Sun 00:00-24:00', '--quiet-calls-from', 'HIGH', '--quiet-below', 'hold',
      '--severity-channels', 'warning=sms,mail', '--severity-channels', 'high=voice');
    expect(add).toMatchObject({ code: 0, stderr: '' });
    const u = await show(ana);
    expect(u).toMatchObject({ email: ana, phone: '+34600111222' });
    expect(u.contact).toEqual({
      tz: 'Europe/Madrid', tzIsMachine: false, quiet: ['mon-fri 22:00-07:00', 'sat,sun 00:00-24:00'],
      quietCallsFrom: 'high', quietBelow: 'hold', severityChannels: { warning: 'sms,mail', high: 'voice' },
    });
    const text = await run('users', 'show', ana);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^tz\s+Europe\/Madrid$/m);
    expect(text.stdout).toMatch(/^quiet\s+mon-fri 22:00-07:00, sat,sun 00:00-24:00$/m);
    expect(text.stdout).toMatch(/^quiet-below\s+hold/m);
    expect(text.stdout).toMatch(/^severity-channels\s+warning=sms,mail high=voice$/m);
    const list = await run('users', 'list');
    expect(list.stdout).toMatch(/ana@x\.example\s+\+34600111222\s+Europe\/Madrid\s+quiet mon-fri 22:00-07:00, sat,sun 00:00-24:00 \(calls from high, else hold\); warning=sms,mail high=voice/);
    const json = JSON.parse((await run('users', 'list', '--json')).stdout);
    expect(json).toEqual([expect.objectContaining({ email: ana, contact: u.contact })]);
  });

  it('a user without flags has no rules and the machine\'s zone', async () => {
    expect((await run('users', 'add', beto)).code).toBe(0);
    expect((await show(beto)).contact).toEqual({ tz: 'America/New_York', tzIsMachine: true, quiet: [], quietCallsFrom: 'high', quietBelow: 'text', severityChannels: {} });
    expect((await run('users', 'show', beto)).stdout).toMatch(/^tz\s+America\/New_York \(the machine's\)$/m);
  });

  it('update changes what it names; a repeated flag replaces the list; "" clears', async () => {
    expect(await run('users', 'update', ana, '--quiet-below', 'text', '--name', 'Ana')).toMatchObject({ code: 0, stderr: '' });
    let c = (await show(ana)).contact;
    expect(c).toMatchObject({ tz: 'Europe/Madrid', quiet: ['mon-fri 22:00-07:00', 'sat,sun 00:00-24:00'], quietBelow: 'text', severityChannels: { warning: 'sms,mail', high: 'voice' } });
    expect((await run('users', 'update', ana, '--quiet', '23:00-06:30', '--severity-channels', 'info=text')).code).toBe(0);
    c = (await show(ana)).contact;
    expect(c).toMatchObject({ quiet: ['23:00-06:30'], severityChannels: { info: 'text' } });
    expect((await run('users', 'update', ana, '--quiet', '', '--severity-channels', '', '--tz', '', '--quiet-below', '')).code).toBe(0);
    const u = await show(ana);
    expect(u.contact).toEqual({ tz: 'America/New_York', tzIsMachine: true, quiet: [], quietCallsFrom: 'high', quietBelow: 'text', severityChannels: {} });
    expect(u.name).toBe('Ana');
  });

  it('bad input exits 2 naming it, and changes nothing', async () => {
    expect((await run('users', 'update', ana, '--tz', 'Europe/Madrid', '--quiet', '22:00-07:00')).code).toBe(0);
    const before = await show(ana);
    const bad: [string[], string][] = [
      [['--quiet', '25:00-07:00'], '"25:00"'],
      [['--quiet', 'funday 22:00-07:00'], '"funday"'],
      [['--quiet', '22:00'], '"22:00"'],
      [['--tz', 'Mars/Olympus'], 'unknown time zone "Mars/Olympus"'],
      [['--severity-channels', 'warning=sms,fax'], 'unknown channel "fax"'],
      [['--severity-channels', 'warning'], '"warning" is not level=channels'],
      [['--severity-channels', 'loud=sms'], 'unknown severity "loud"'],
      [['--severity-channels', 'warning=sms', '--severity-channels', 'warning=mail'], 'warning is given twice'],
      [['--quiet-calls-from', 'urgent'], 'unknown severity "urgent"'],
      [['--quiet-below', 'drop'], '"drop" is neither text nor hold'],
    ];
    for (const [flags, named] of bad) {
      const r = await run('users', 'update', ana, ...flags);
      expect({ flags, code: r.code }).toEqual({ flags, code: 2 });
      expect(r.stderr).toContain(named);
    }
    expect(await show(ana)).toEqual(before);
    const add = await run('users', 'add', 'carla@x.example', '--tz', 'Nowhere/Town');
    expect(add.code).toBe(2);
    expect(add.stderr).toContain('"Nowhere/Town"');
    expect((await run('users', 'show', 'carla@x.example')).code).toBe(1);
  });
});
