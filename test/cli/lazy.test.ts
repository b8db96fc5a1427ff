/**
 * Command modules load lazily: `alertline --help` imports commander and the command table only;
 * `users list` imports the store but none of the mail, speech, modem or SMTP stacks. Checked by
 * recording every module the real CLI resolves (a subprocess with a resolve hook), and the
 * lazy help is checked against the help of the fully loaded program, command by command.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Help } from 'commander';
import { BIN, cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/env.js';
import { buildProgram, commandNamed, COMMANDS } from '../../src/cli/program.js';

const tmp = tempDir('alertline-lazy-');
afterAll(() => tmp.cleanup());
const conf = join(tmp.dir, 'alertline.yaml');
writeFileSync(conf, `dataDir: ${join(tmp.dir, 'data')}\naudioCacheDir: ${join(tmp.dir, 'audio')}\n`);

const TRACE = join(import.meta.dirname, 'fixtures/trace-imports.mjs');
const HEAVY = ['better-sqlite3', 'mailparser', 'espeak-ng', 'serialport', 'smtp-server', 'nodemailer', 'html-to-text', 'luxon'];

/**
 * Runs the CLI and returns what it printed and every module it resolved (package names and our own
 * files). By default the dist/src tree runs (ALERTLINE_NO_BUNDLE), where each of our modules is a
 * file the trace sees; `bundle` runs dist/cli/alertline.cjs as bin does, where only the packages
 * left outside the bundle show.
 */
function traced(args: string[], opts: { bundle?: boolean } = {}): { code: number | null; stdout: string; packages: Set<string>; own: Set<string> } {
  const out = join(tmp.dir, `trace-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(out, '');
  const r = spawnSync(process.execPath, ['--import', TRACE, BIN, ...args], {
    encoding: 'utf8', env: { ...process.env, ALERTLINE_CONFIG: '', ALERTLINE_TRACE_IMPORTS: out, ALERTLINE_NO_BUNDLE: opts.bundle ? '' : '1' }, timeout: 60_000,
  });
  const packages = new Set<string>();
  const own = new Set<string>();
  for (const l of readFileSync(out, 'utf8').split('\n')) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(l)?.[1] ?? /^require ((?:@[^/]+\/)?[^./][^/]*)/.exec(l)?.[1];
    if (pkg && !pkg.startsWith('node:')) packages.add(pkg);
    const mine = /\/dist\/(src\/.+\.js)$/.exec(l)?.[1];
    if (mine) own.add(mine);
  }
  return { code: r.status, stdout: r.stdout, packages, own };
}

describe('lazy command modules', () => {
  it('--help loads commander and the command table, none of the heavy modules and no command module', () => {
    const r = traced(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: alertline');
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c.name}`);
    expect(r.packages.has('commander')).toBe(true);
    for (const h of [...HEAVY, 'yaml', 'zod']) expect(r.packages, h).not.toContain(h);
    expect([...r.own].sort()).toEqual(['src/cli/errors.js', 'src/cli/main.js', 'src/cli/program.js', 'src/util/terminal.js']);
  });

  it('users list loads the config and the store only: no mail, speech, modem or SMTP stack', () => {
    expect(cli(['--config', conf, 'users', 'add', 'lazy@example.com']).code).toBe(0);
    const r = traced(['--config', conf, 'users', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('lazy@example.com');
    for (const p of ['better-sqlite3', 'yaml', 'zod']) expect(r.packages, p).toContain(p);
    for (const h of HEAVY.filter((x) => x !== 'better-sqlite3')) expect(r.packages, h).not.toContain(h);
    expect([...r.own].some((f) => f.startsWith('src/receiver/smtp') || f.startsWith('src/channels/') && !f.endsWith('channel.js') || f === 'src/daemon.js')).toBe(false);
  });

  it.each(['run', 'doctor', 'say', 'alerts'])('`%s --help` shows the real help without loading the daemon, mail, speech or modem stacks', (name) => {
    const r = traced([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: alertline ${name}`);
    for (const h of HEAVY.filter((x) => x !== 'better-sqlite3')) expect(r.packages, h).not.toContain(h);
    expect(r.own).not.toContain('src/daemon.js');
  });

  it('the bundle keeps it so: --help requires no package, users list only better-sqlite3 of the heavy ones', () => {
    const help = traced(['--help'], { bundle: true });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: alertline');
    for (const h of HEAVY) expect(help.packages, h).not.toContain(h);
    expect(help.own.size).toBe(0); // our code came from the bundle, not dist/src
    const list = traced(['--config', conf, 'users', 'list'], { bundle: true });
    expect(list.stdout).toContain('lazy@example.com');
    expect(list.packages).toContain('better-sqlite3');
    for (const h of HEAVY.filter((x) => x !== 'better-sqlite3')) expect(list.packages, h).not.toContain(h);
  });

  it('a command that runs loads only its own module (users.js for users, not alerts.js or run.js)', () => {
    const r = traced(['--config', conf, 'users', 'list', '--json']);
    expect(r.own).toContain('src/cli/users.js');
    for (const other of ['src/cli/alerts.js', 'src/cli/run.js', 'src/cli/doctor.js', 'src/cli/extra.js', 'src/cli/status.js']) expect(r.own).not.toContain(other);
  });
});

describe('the command table agrees with the modules it stands for', () => {
  it('top-level help of the lazy program equals that of the fully loaded one', async () => {
    const lazy = await buildProgram(['node', 'alertline', '--help']);
    const full = await buildProgram(['node', 'alertline'], { all: true });
    expect(lazy.helpInformation()).toBe(full.helpInformation());
    const help = new Help();
    for (const c of COMMANDS) {
      const real = full.commands.find((x) => x.name() === c.name);
      expect(real, c.name).toBeDefined();
      expect(help.subcommandTerm(real!), c.name).toBe(c.term);
      expect(real!.description(), c.name).toBe(c.description);
    }
    expect(full.commands.map((x) => x.name())).toEqual(COMMANDS.map((c) => c.name));
  });

  it.each(COMMANDS.map((c) => c.name))('`alertline %s --help` is the real command\'s help', async (name) => {
    const lazy = await buildProgram(['node', 'alertline', name, '--help']);
    const full = await buildProgram(['node', 'alertline'], { all: true });
    const pick = (p: typeof lazy) => p.commands.find((x) => x.name() === name)!;
    expect(pick(lazy).helpInformation()).toBe(pick(full).helpInformation());
    expect(pick(lazy).commands.map((x) => x.name())).toEqual(pick(full).commands.map((x) => x.name()));
  });

  const named: [string[], string | undefined][] = [
    [[], undefined],
    [['--help'], undefined],
    [['-V'], undefined],
    [['users', 'list'], 'users'],
    [['--config', 'x.yaml', 'alerts', 'show', '1'], 'alerts'],
    [['--config=x.yaml', 'status'], 'status'],
    [['help', 'doctor'], 'doctor'],
    [['help'], undefined],
    [['--config', 'users', 'list'], 'list'],
    [['--', 'ack'], 'ack'],
  ];
  it.each(named)('commandNamed(%j) → %s', (argv, want) => {
    expect(commandNamed(argv)).toBe(want);
  });
});

describe('help, version and usage errors keep their exit status', () => {
  it.each([
    [['--help'], 0, /Usage: alertline \[options\] \[command\]/],
    [['help', 'users'], 0, /Usage: alertline users/],
    [['users', '--help'], 0, /add \[options\] <email>/],
    [['config', 'check', '--help'], 0, /--json/],
    [['--version'], 0, /^\d+\.\d+\.\d+/],
  ] as const)('%j → exit %i', (args, code, out) => {
    const r = cli([...args]);
    expect(r.code).toBe(code);
    expect(r.stdout).toMatch(out);
  });

  it('an unknown command or flag is a usage error (2) with a hint', () => {
    const r = cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
    const u = cli(['user', 'list']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/Did you mean users\?/);
    expect(cli(['--config', conf, 'users', 'list', '--bogus']).code).toBe(2);
  });
});
