/**
 * Issue 19 (items 10–12) and issue 12 (doctor reads the daemon's config), as an operator meets
 * them: the CLI as a subprocess, against temp data dirs and a real daemon on loopback.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, cli, freePort, waitForPort } from '../helpers/cli.js';
import { tempDir, waitFor } from '../helpers/env.js';
import { sendRaw } from '../helpers/smtp-client.js';

const tmp = tempDir('alertline-hardening-');
afterAll(() => tmp.cleanup());

let n = 0;
function config(body: string): string {
  const file = join(tmp.dir, `c${++n}.yaml`);
  writeFileSync(file, body, { mode: 0o640 });
  return file;
}
const dirs = (name: string) => `dataDir: ${join(tmp.dir, name, 'data')}\naudioCacheDir: ${join(tmp.dir, name, 'audio')}\n`;

/** Characters that must never reach a terminal raw: C0 (but newline), DEL, C1, bidi overrides. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('control characters never reach the terminal raw (issue 19.10)', () => {
  const c = config(dirs('esc'));
  const evil = 'Ana \x1b]0;owned\x07\x1b[2J\u009b31m\u202eevil\r\nFAKE LINE';

  it('users list escapes names; --json keeps them exact, as plain JSON escapes', () => {
    expect(cli(['--config', c, 'users', 'add', 'ana@example.com', '--name', evil, '--group', 'noc']).code).toBe(0);
    const text = cli(['--config', c, 'users', 'list']);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toMatch(RAW_CONTROL);
    expect(text.stdout).toContain('Ana \\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u202eevil\\r\\nFAKE LINE');
    expect(text.stdout.split('\n').filter((l) => l.includes('FAKE LINE'))).toHaveLength(1); // no forged line
    const json = cli(['--config', c, 'users', 'list', '--json']);
    expect(json.stdout).not.toMatch(RAW_CONTROL);
    expect(json.stdout).toContain('\\u001b]0;owned\\u0007');
    expect(json.stdout).toContain('\\u009b31m\\u202eevil\\r\\n');
    expect(JSON.parse(json.stdout)[0].name).toBe(evil);
  });

  it('groups list, settings get and the error path escape too', () => {
    expect(cli(['--config', c, 'groups', 'list']).stdout).not.toMatch(RAW_CONTROL);
    expect(cli(['--config', c, 'settings', 'set', 'filter.ignoreSubjects', '["x\\u009by"]']).code).toBe(0);
    const s = cli(['--config', c, 'settings', 'get', 'filter.ignoreSubjects']);
    expect(s.stdout).not.toMatch(RAW_CONTROL);
    expect(s.stdout.trim()).toBe('["x\\x9by"]'); // U+009B (C1 CSI): JSON.stringify leaves it raw, the printer escapes it
    expect(JSON.parse(cli(['--config', c, 'settings', 'get', 'filter.ignoreSubjects', '--json']).stdout).value).toEqual(['x\u009by']);
    const e = cli(['--config', c, 'users', 'remove', 'x\x1b[2J@example.com']);
    expect(e.code).toBe(1);
    expect(e.stderr).not.toMatch(RAW_CONTROL);
    expect(e.stderr).toContain('x\\x1b[2J@example.com');
  });
});

describe('output into a pipe that closes early', () => {
  it('`alertline users list | true` ends quietly with the command\'s own status, not an EPIPE crash', () => {
    const c = config(dirs('pipe'));
    for (let i = 0; i < 5; i++) expect(cli(['--config', c, 'users', 'add', `p${i}@example.com`, '--name', `P ${i}`]).code).toBe(0);
    for (const args of [['users', 'list'], ['users', 'list', '--json']]) {
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" --config "${c}" ${args.join(' ')} | true; echo "status=\${PIPESTATUS[0]}"`], { encoding: 'utf8', env: { ...process.env, ALERTLINE_CONFIG: '' } });
      expect(r.stdout.trim(), r.stderr).toBe('status=0');
      expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
    }
  });
});

describe('numbers and flags from the command line (issue 19.12): a message naming the input, exit 2', () => {
  const c = config(dirs('num'));
  it.each([
    [['alerts', 'list', '--limit', '99999999999999999999'], /invalid --limit "99999999999999999999": expected a whole number from 1 to 9007199254740991/],
    [['alerts', 'list', '--limit', '0'], /invalid --limit "0"/],
    [['alerts', 'list', '--limit', '-5'], /invalid --limit "-5"/],
    [['alerts', 'list', '--limit', '1e3'], /invalid --limit "1e3"/],
    [['alerts', 'show', '99999999999999999999'], /invalid id "99999999999999999999"/],
    [['alerts', 'show', '9007199254740992'], /invalid id "9007199254740992"/],
    [['ack', '99999999999999999999'], /invalid id "99999999999999999999"/],
    [['ack', '12abc'], /invalid id "12abc"/],
  ])('%j', (args, msg) => {
    const r = cli(['--config', c, ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(msg);
  });

  it('the largest safe id is accepted and reported as exactly that number', () => {
    const r = cli(['--config', c, 'alerts', 'show', '9007199254740991']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no alert 9007199254740991');
    expect(cli(['--config', c, 'alerts', 'list', '--limit', '9007199254740991']).code).toBe(0);
  });

  it.each([['users', 'list'], ['run'], ['doctor'], ['config', 'check']])('--config "" %j → exit 2, not built-in defaults', (...args) => {
    const r = cli(['--config', '', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--config needs a file name (got an empty string)');
  });
});

describe('configs that refuse every mail, and directories that cannot hold files, are refused at start (issue 19.11)', () => {
  it.each([
    ['smtp.maxMessageSize: 0', 'smtp: { port: 0, maxMessageSize: 0 }', /smtp\.maxMessageSize: 0 bytes would refuse every alert mail/],
    ['smtp.allowFrom: []', 'smtp: { port: 0, allowFrom: [] }', /smtp\.allowFrom: an empty list refuses every client/],
    ['dataDir under /proc', 'smtp: { port: 0 }\ndataDir: /proc/alertline/data', /dataDir: \/proc\/alertline\/data is on proc, a kernel pseudo file system/],
    ['audioCacheDir under /proc', 'smtp: { port: 0 }\naudioCacheDir: /proc/alertline/audio', /audioCacheDir: \/proc\/alertline\/audio is on proc/],
    ['dataDir that is a file', `smtp: { port: 0 }\ndataDir: ${BIN}`, /dataDir: .*alertline\.js is not a directory/],
  ])('run with %s exits 1 at once, naming the key', (_name, body, msg) => {
    const file = config(`${body.includes('dataDir') ? `audioCacheDir: ${join(tmp.dir, `s${n}`, 'audio')}` : body.includes('audioCacheDir') ? `dataDir: ${join(tmp.dir, `s${n}`, 'data')}` : dirs(`s${n}`).trim()}\n${body}\n`);
    const r = cli(['--config', file, 'run']);
    expect(r.code).toBe(1); // not killed by the timeout: no spinning mkdir
    expect(r.stderr).toMatch(msg);
    const check = cli(['--config', file, 'config', 'check', '--json']);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout)).toMatchObject({ ok: false, path: file, source: 'flag' });
  });

  it('every command refuses a dataDir under /proc quickly (it used to spin in mkdir)', () => {
    const file = config('dataDir: /proc/alertline/data\n');
    for (const args of [['users', 'list'], ['status'], ['alerts', 'list']]) {
      const r = cli(['--config', file, ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/dataDir: \/proc\/alertline\/data is on proc/);
    }
  });

  it('doctor reports such a dataDir as a failed data-dir check instead of spinning', () => {
    const file = config(`dataDir: /proc/alertline/data\naudioCacheDir: ${join(tmp.dir, 'dr', 'audio')}\nsmtp: { port: 0 }\nvoice: { engine: command, command: ["${join(tmp.dir, 'no-such-tts')}", "{text}", "{file}"] }\n`);
    const r = cli(['--config', file, 'doctor', '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as { checks: { name: string; status: string; detail: string }[] };
    expect(report.checks.find((x) => x.name === 'data-dir')).toMatchObject({ status: 'fail', detail: expect.stringMatching(/is on proc/) });
  });
});

describe('TLS key and certificate checked at load, naming the key and the file (issue 19.12)', () => {
  const key = join(tmp.dir, 'tls.key');
  const cert = join(tmp.dir, 'tls.crt');
  const otherKey = join(tmp.dir, 'other.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=alertline.test'], { stdio: 'ignore' });
  execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', otherKey], { stdio: 'ignore' });
  const junk = join(tmp.dir, 'junk.key');
  writeFileSync(junk, '-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n');

  it.each([
    ['a key that is not a key', junk, cert, /smtp\.tls\.key: .*junk\.key is not a usable private key/],
    ['the key of another certificate', otherKey, cert, /smtp\.tls\.key: .*other\.key does not belong to the certificate in smtp\.tls\.cert/],
    ['a missing certificate file', key, join(tmp.dir, 'nope.crt'), /smtp\.tls\.cert: cannot read .*nope\.crt: ENOENT/],
  ])('%s: run and config check exit 1 with the key and the file', (_name, k, c, msg) => {
    const file = config(`${dirs(`tls${n}`)}smtp: { port: 0, tls: { key: ${k}, cert: ${c} } }\n`);
    const run = cli(['--config', file, 'run']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(msg);
    expect(run.stderr).not.toMatch(/error:[0-9A-F]{8}|ERR_OSSL/);
    const check = cli(['--config', file, 'config', 'check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(msg);
  });

  it('a good pair passes config check (exit 0)', () => {
    const file = config(`${dirs('tlsok')}smtp: { port: 0, tls: { key: ${key}, cert: ${cert} } }\n`);
    const r = cli(['--config', file, 'config', 'check']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('config is valid');
  });
});

describe('doctor and config check read the config run uses (issue 12)', () => {
  it('config check: the file found the way run finds it, and built-in defaults when there is none', () => {
    const file = config(dirs('where'));
    const viaEnv = JSON.parse(cli(['config', 'check', '--json'], { env: { ALERTLINE_CONFIG: file } }).stdout);
    expect(viaEnv).toMatchObject({ ok: true, path: file, source: 'env' });
    const local = tempDir('alertline-local-');
    try {
      execFileSync('mkdir', ['-p', join(local.dir, 'config')]);
      writeFileSync(join(local.dir, 'config', 'alertline.yaml'), 'smtp: { allowFrom: [] }\n');
      const r = cli(['config', 'check', '--json'], { cwd: local.dir });
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, source: 'local', issues: [{ key: 'smtp.allowFrom' }] });
      const text = cli(['config', 'check'], { cwd: local.dir });
      expect(text.stdout).toMatch(/config: .*config\/alertline\.yaml \(found in the working directory\)/);
      expect(text.stderr).toMatch(/smtp\.allowFrom/);
      const none = cli(['config', 'check'], { cwd: tmp.dir });
      expect(none.code).toBe(0);
      expect(none.stdout).toMatch(/no config file .*built-in defaults/);
    } finally {
      local.cleanup();
    }
  });

  it('a daemon started from $ALERTLINE_CONFIG, escaped history, and doctor (same lookup, no flag) sees that daemon', async () => {
    const port = await freePort();
    const file = config(`${dirs('live')}smtp: { host: 127.0.0.1, port: ${port} }\nlogLevel: warn\n`);
    const env = { ...process.env, ALERTLINE_CONFIG: file };
    const c = (...args: string[]) => cli(args, { env: { ALERTLINE_CONFIG: file } });
    expect(c('users', 'add', 'oncall@alerts.example').code).toBe(0);
    const daemon = spawn(process.execPath, [BIN, 'run'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    daemon.stdout!.on('data', (d) => (out += d));
    daemon.stderr!.on('data', (d) => (out += d));
    try {
      await waitForPort(port);
      const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
      const subject = 'Problem: disk \x1b]0;owned\x07full\x1b[2J \u009b31m';
      const mail = [
        'From: zabbix@example.com', 'To: oncall@alerts.example', `Subject: =?UTF-8?B?${b64(subject)}?=`, 'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: base64', '',
        b64('Host: db1\x1b[31mRED\r\nSeverity: High\x1b[5m\r\nOriginal problem ID: 77\r\n'), '',
      ].join('\r\n');
      const sent = await sendRaw(port, { to: ['oncall@alerts.example'], data: mail });
      expect(sent.final!.code).toBe(250);
      const id = Number(/alert (\d+)/.exec(sent.final!.text)![1]);

      const show = c('alerts', 'show', String(id));
      expect(show.code).toBe(0);
      expect(show.stdout).not.toMatch(RAW_CONTROL);
      expect(show.stdout).toMatch(/Problem: disk/);
      const stored = JSON.parse(c('alerts', 'show', String(id), '--json').stdout) as { subject: string; host: string | null; severity: string | null };
      // Whatever ingest kept (stripping at ingest is the receiver's part), the text view shows escaped.
      const escaped = [stored.subject, stored.host, stored.severity].filter((v): v is string => Boolean(v && RAW_CONTROL.test(v)));
      for (const v of escaped) expect(show.stdout).toContain(v.replace(/\x1b/g, '\\x1b').replace(/\x07/g, '\\x07').replace(/\u009b/g, '\\x9b'));
      const list = c('alerts', 'list');
      expect(list.stdout).toContain(String(id));
      expect(list.stdout).not.toMatch(RAW_CONTROL);
      expect(c('alerts', 'list', '--json').stdout).not.toMatch(RAW_CONTROL);

      // A name given to ack lands in history and is shown escaped.
      expect(c('ack', String(id), '--by', 'night\x1b[2Jshift').code).toBe(0);
      const acked = c('alerts', 'show', String(id));
      expect(acked.stdout).toContain('acknowledged by night\\x1b[2Jshift via cli');
      expect(acked.stdout).not.toMatch(RAW_CONTROL);

      await waitFor(() => JSON.parse(c('status', '--json').stdout).daemon.running === true, 15_000, 200);
      const status = c('status');
      expect(status.code).toBe(0);
      expect(status.stdout).not.toMatch(RAW_CONTROL);

      // doctor without --config: the same lookup as the daemon's, so it checks that daemon's port.
      const doc = c('doctor', '--json');
      const report = JSON.parse(doc.stdout) as { configPath: string; checks: { name: string; status: string; detail: string }[] };
      expect(report.configPath).toBe(file);
      expect(report.checks.find((x) => x.name === 'config')!.detail).toBe(file);
      expect(report.checks.find((x) => x.name === 'smtp-port')).toMatchObject({ status: 'pass', detail: expect.stringContaining('the Alertline daemon is listening') });
    } finally {
      daemon.kill('SIGTERM');
      const code = await new Promise((res) => daemon.once('exit', (x) => res(x)));
      expect(code, out).toBe(0);
    }
  }, 120_000);
});
