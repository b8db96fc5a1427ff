/**
 * scripts/install.sh, without installing anything on this machine: it parses, it is
 * shellcheck-clean (CI installs the Debian package "shellcheck"), and the configuration it writes
 * once to /etc/alertline/alertline.yaml is valid and points at the directories the unit provides.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';

const ROOT = join(import.meta.dirname, '../..');
const SCRIPT = join(ROOT, 'scripts/install.sh');

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw new Error(`${cmd} could not run (${(r.error as NodeJS.ErrnoException).code})`);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('scripts/install.sh', () => {
  it('parses (bash -n) and is shellcheck-clean', () => {
    expect(run('bash', ['-n', SCRIPT])).toMatchObject({ code: 0, err: '' });
    const sc = run('shellcheck', ['--shell=bash', SCRIPT]);
    expect(sc.code, sc.out).toBe(0);
  });

  it('writes a valid config: data and prompt cache under /var/lib/alertline, SMTP on port 25, the rest as the example', () => {
    const r = run('bash', [SCRIPT, '--print-config']);
    expect(r.code, r.err).toBe(0);
    const cfg = parseConfig(r.out, 'install.sh --print-config');
    expect(cfg.dataDir).toBe('/var/lib/alertline');
    expect(cfg.audioCacheDir).toBe('/var/lib/alertline/audio-cache');
    expect(cfg.smtp.port).toBe(25);
    const example = parseConfig(readFileSync(join(ROOT, 'config/alertline.example.yaml'), 'utf8'), 'example');
    expect({ ...cfg, dataDir: example.dataDir, audioCacheDir: example.audioCacheDir, smtp: { ...cfg.smtp, port: example.smtp.port } }).toEqual(example);
    // Only those three lines differ: the documentation comments survive.
    const before = readFileSync(join(ROOT, 'config/alertline.example.yaml'), 'utf8').trimEnd().split('\n');
    const after = r.out.trimEnd().split('\n');
    expect(after).toHaveLength(before.length);
    expect(after.filter((l, i) => l !== before[i])).toHaveLength(3);
  });

  it('refuses unknown options with a usage error', () => {
    const r = run('bash', [SCRIPT, '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option --frobnicate/);
  });

  it('never overwrites an existing config and installs the unit and udev rule it ships', () => {
    const text = readFileSync(SCRIPT, 'utf8');
    // The only write to the config file is guarded by "does not exist yet".
    const writes = text.split('\n').filter((l) => /\$CONF_FILE"\s*$/.test(l) && /install /.test(l));
    expect(writes).toHaveLength(1);
    expect(text).toMatch(/if \[ -e "\$CONF_FILE" \]; then\n\s+note "\$CONF_FILE exists: left as it is"/);
    expect(text).toContain('"$SRC/systemd/alertline.service" "$UNIT_DEST"');
    expect(text).toContain('"$SRC/hardware/99-alertline-modem.rules" "$UDEV_DEST"');
    expect(text).toMatch(/npm ci[\s\S]*npm run build[\s\S]*npm prune --omit=dev/);
  });
});
