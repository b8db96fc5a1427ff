/**
 * bin/alertline.js runs the one-file CLI bundle (dist/cli/alertline.cjs, built by `npm run build`)
 * through a V8 code cache beside it. What an operator would notice if that went wrong: a command
 * failing after an upgrade left a cache from another build, on a read-only install, or a stale
 * bundle running older code than dist/src. Each case runs the real bin in a copy of the layout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
let box: string;
let conf: string;

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [join(box, 'bin/alertline.js'), '--config', conf, ...args], {
    encoding: 'utf8', env: { ...process.env, ALERTLINE_CONFIG: '', ALERTLINE_NO_BUNDLE: '' }, timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const cache = () => join(box, 'dist/cli/alertline.cjs.cache');
const listed = () => readFileSync(join(box, 'dist/cli/alertline.cjs.cache-commands'), 'utf8').split('\n').filter(Boolean);

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli/alertline.cjs'))) throw new Error('dist/cli/alertline.cjs missing: run npm run build first');
  box = mkdtempSync(join(tmpdir(), 'alertline-bundle-'));
  mkdirSync(join(box, 'bin'));
  cpSync(join(ROOT, 'bin/alertline.js'), join(box, 'bin/alertline.js'));
  cpSync(join(ROOT, 'package.json'), join(box, 'package.json'));
  mkdirSync(join(box, 'dist/cli'), { recursive: true });
  for (const f of ['alertline.cjs']) cpSync(join(ROOT, 'dist/cli', f), join(box, 'dist/cli', f));
  symlinkSync(join(ROOT, 'node_modules'), join(box, 'node_modules'));
  conf = join(box, 'alertline.yaml');
  writeFileSync(conf, `dataDir: ${join(box, 'data')}\naudioCacheDir: ${join(box, 'audio')}\n`);
});

afterAll(() => {
  rmSync(box, { recursive: true, force: true });
});

describe('the CLI bundle', () => {
  it('runs commands from the bundle alone (no dist/src module is loaded), and caches each command once', () => {
    expect(existsSync(join(box, 'dist/src'))).toBe(false);
    expect(run('users', 'add', 'ana@example.com', '--name', 'Ana').code).toBe(0);
    const list = run('users', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('ana@example.com');
    expect(listed()).toEqual(['users']);
    const before = readFileSync(cache());
    expect(run('users', 'list').code).toBe(0);
    expect(readFileSync(cache()).equals(before)).toBe(true); // already cached: not rewritten
    expect(run('--version').stdout.trim()).toBe(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
    expect(listed()).toEqual(['users', '(none)']);
    expect(run('no-such-command').code).toBe(2);
    expect(listed()).toEqual(['users', '(none)']); // a usage error leaves the cache alone
  });

  it('a cache from another build is refused by V8 and replaced, and the command still works', () => {
    writeFileSync(cache(), Buffer.alloc(4096, 0x5a));
    const r = run('users', 'list');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ana@example.com');
    expect(readFileSync(cache()).subarray(0, 16).equals(Buffer.alloc(16, 0x5a))).toBe(false);
    expect(listed()).toEqual(['users']);
  });

  it('a cache that cannot be written (read-only install) costs only speed: the command works', () => {
    rmSync(cache());
    mkdirSync(cache()); // neither readable as a file nor replaceable by a rename, even for root
    try {
      const r = run('users', 'list');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('ana@example.com');
      expect(r.stderr).toBe('');
    } finally {
      rmSync(cache(), { recursive: true });
    }
  });

  it('a bundle older than dist/src (tsc run alone) is not used: dist/src runs', () => {
    mkdirSync(join(box, 'dist/src/cli'), { recursive: true });
    writeFileSync(join(box, 'dist/src/cli/main.js'), "process.stdout.write('from dist/src\\n');\n");
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(box, 'dist/cli/alertline.cjs'), old, old);
    expect(run('--help').stdout).toBe('from dist/src\n');
    rmSync(join(box, 'dist/src'), { recursive: true });
  });
});
