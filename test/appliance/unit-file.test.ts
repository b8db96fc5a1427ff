/**
 * systemd/alertline.service checked by systemd itself: `systemd-analyze verify` (no warnings about
 * our unit) and `systemd-analyze security --offline` (exposure at most 3.9, rated OK or better).
 * systemd-analyze must be installed (Debian package "systemd"); a missing one fails the test.
 * verify also checks that ExecStart's binary exists: ours is /usr/bin/env (node is found in PATH
 * at run time), so the unit is verified as shipped, from a copy in a temp dir.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/env.js';

const ROOT = join(import.meta.dirname, '../..');
const UNIT = join(ROOT, 'systemd/alertline.service');

function analyze(args: string[], unitText?: string): { code: number | null; out: string } {
  const tmp = tempDir('alertline-unit-');
  try {
    const copy = join(tmp.dir, 'alertline.service');
    if (unitText === undefined) copyFileSync(UNIT, copy);
    else writeFileSync(copy, unitText);
    const r = spawnSync('systemd-analyze', [...args, copy], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, SYSTEMD_COLORS: '0', SYSTEMD_PAGER: '' } });
    if (r.error) throw new Error(`systemd-analyze could not run (${(r.error as NodeJS.ErrnoException).code}): install the Debian package "systemd"`);
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  } finally {
    tmp.cleanup();
  }
}

function directives(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const k = line.slice(0, eq);
    m.set(k, [...(m.get(k) ?? []), line.slice(eq + 1)]);
  }
  return m;
}

describe('systemd/alertline.service', () => {
  it('passes systemd-analyze verify without a word about it', () => {
    const r = analyze(['verify', '--man=no']);
    expect(r.code, r.out).toBe(0);
    expect(r.out.split('\n').filter((l) => /alertline/.test(l)), r.out).toEqual([]);
  });

  it('verify would catch a broken unit (so the check above means something)', () => {
    const broken = readFileSync(UNIT, 'utf8').replace('UMask=0027', 'UMsk=0027').replace('ExecStart=/usr/bin/env', 'ExecStart=/usr/bin/no-such-env');
    const r = analyze(['verify', '--man=no'], broken);
    expect(r.out).toMatch(/Unknown key 'UMsk'/);
    expect(r.out).toMatch(/no-such-env/);
    expect(r.code).not.toBe(0);
  });

  it('is rated OK or better by systemd-analyze security (exposure ≤ 3.9)', () => {
    const r = analyze(['security', '--offline=true', '--no-pager']);
    expect(r.code, r.out).toBe(0);
    const m = /Overall exposure level for alertline\.service: (\d+\.\d+) (\w+)/.exec(r.out);
    expect(m, r.out).not.toBeNull();
    const score = Number(m![1]);
    expect(score).toBeLessThanOrEqual(3.9);
    expect(['SAFE', 'OK']).toContain(m![2]);
  });

  it('runs the installed CLI as the alertline user with the contract the daemon relies on', () => {
    const text = readFileSync(UNIT, 'utf8');
    const d = directives(text);
    const one = (k: string) => d.get(k)?.at(-1);
    expect(one('ExecStart')).toBe('/usr/bin/env node /opt/alertline/bin/alertline.js run');
    expect(one('User')).toBe('alertline');
    expect(one('SupplementaryGroups')).toBe('dialout audio');
    expect(one('Type')).toBe('notify');
    expect(one('NotifyAccess')).toBe('all'); // systemd-notify is a child process (src/appliance/notifier.ts)
    expect(one('WatchdogSec')).toBe('30s');
    expect(one('Restart')).toBe('on-failure');
    expect(one('TimeoutStopSec')).toBe('45s');
    expect(one('StateDirectory')).toBe('alertline');
    expect(one('ConfigurationDirectory')).toBe('alertline');
    expect(d.get('Environment')).toContain('ALERTLINE_CONFIG=/etc/alertline/alertline.yaml');
    expect(one('AmbientCapabilities')).toBe('CAP_NET_BIND_SERVICE');
    expect(one('CapabilityBoundingSet')).toBe('CAP_NET_BIND_SERVICE');
    expect(one('RestrictAddressFamilies')).toBe('AF_INET AF_INET6 AF_UNIX AF_NETLINK');
    expect(one('DevicePolicy')).toBe('closed');
    expect(d.get('DeviceAllow')).toEqual(['char-ttyUSB rw', 'char-ttyACM rw', '/dev/ttyAMA0 rw', '/dev/ttyS0 rw', '/dev/alertline-modem rw', 'char-alsa rw']);
    // V8's JIT needs writable+executable memory: this must stay off.
    expect(d.has('MemoryDenyWriteExecute')).toBe(false);
    // The install script writes the config the unit points at and installs the code where ExecStart looks.
    const install = readFileSync(join(ROOT, 'scripts/install.sh'), 'utf8');
    expect(install).toMatch(/PREFIX=.*\/opt\/alertline/);
    expect(install).toContain('/etc/alertline/alertline.yaml');
    expect(install).toContain('/var/lib/alertline');
  });
});
