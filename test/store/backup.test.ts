/**
 * alertline backup / restore as a user runs them (CLI subprocesses against a daemon subprocess),
 * including kill -9 of either side in the middle of a backup.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, openSync, closeSync, writeSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BIN, cli, freePort, spawnDaemon, waitForPort } from '../helpers/cli.js';
import { tempDir, waitFor } from '../helpers/env.js';
import { sendRaw, RawSmtp, dotStuff } from '../helpers/smtp-client.js';
import { seedHistory } from '../helpers/seed-history.js';
import { MIGRATIONS } from '../../src/store/migrations.js';

const mail = (subject: string) => `From: zabbix@monitor.example\r\nSubject: ${subject}\r\n\r\nHost: db1\r\nSeverity: High\r\n`;

interface Setup { dir: string; conf: string; db: string; port: number; run: (...a: string[]) => ReturnType<typeof cli> }
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function setup(): Promise<Setup> {
  const tmp = tempDir('alertline-backup-');
  cleanups.push(tmp.cleanup);
  const port = await freePort();
  const conf = join(tmp.dir, 'alertline.yaml');
  // No channel enabled: alerts end failed at once, which is fine here; what matters is what is stored.
  writeFileSync(conf, `dataDir: ${join(tmp.dir, 'data')}\naudioCacheDir: ${join(tmp.dir, 'audio')}\nlogLevel: warn\nsmtp: { port: ${port} }\nfilter: { dedupeWindow: 0s }\n`);
  const run = (...a: string[]) => cli(['--config', conf, ...a]);
  expect(run('users', 'add', 'oncall@alerts.example').code).toBe(0);
  return { dir: tmp.dir, conf, db: join(tmp.dir, 'data', 'alertline.db'), port, run };
}

async function daemon(s: Setup) {
  const d = spawnDaemon(s.conf);
  let exited = false;
  d.once('exit', () => { exited = true; });
  cleanups.push(async () => {
    if (!exited) {
      d.kill('SIGKILL');
      await new Promise((r) => d.once('exit', r));
    }
  });
  await waitForPort(s.port);
  return Object.assign(d, { exitedYet: () => exited });
}

function facts(file: string) {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return {
      integrity: db.pragma('integrity_check', { simple: true }) as string,
      subjects: new Set((db.prepare('SELECT subject FROM alerts').all() as { subject: string }[]).map((r) => r.subject)),
      alerts: (db.prepare('SELECT count(*) n FROM alerts').get() as { n: number }).n,
      journal: db.pragma('journal_mode', { simple: true }) as string,
      status: (db.prepare('SELECT count(*) n FROM daemon_status').get() as { n: number }).n,
      version: db.pragma('user_version', { simple: true }) as number,
    };
  } finally {
    db.close();
  }
}

/** Mail sent back to back on one connection until stopped; subjects that got 250. */
function flood(port: number, tag: string) {
  const accepted: string[] = [];
  const state = { stop: false };
  const done = (async () => {
    const c = await RawSmtp.connect(port);
    try {
      await c.read();
      await c.cmd('EHLO flood');
      for (let i = 0; !state.stop; i++) {
        const subject = `Problem: ${tag} ${i}`;
        if ((await c.cmd('MAIL FROM:<zabbix@monitor.example>'))?.code !== 250) break;
        if ((await c.cmd('RCPT TO:<oncall@alerts.example>'))?.code !== 250) break;
        if ((await c.cmd('DATA'))?.code !== 354) break;
        c.write(Buffer.concat([dotStuff(Buffer.from(mail(subject))), Buffer.from('.\r\n')]));
        if ((await c.read(10_000))?.code === 250) accepted.push(subject);
        else break;
      }
    } catch { /* the daemon went away */ } finally {
      c.close();
    }
  })();
  return { accepted, stop: async () => { state.stop = true; await done; } };
}

describe('alertline backup', () => {
  it('copies the database while the daemon runs and mail keeps arriving; the copy is checked and self-contained', async () => {
    const s = await setup();
    const d = await daemon(s);
    for (let i = 0; i < 5; i++) expect((await sendRaw(s.port, { to: ['oncall@alerts.example'], data: mail(`Problem: before ${i}`) })).final?.code).toBe(250);
    const f = flood(s.port, 'during');
    await waitFor(() => f.accepted.length >= 20, 20_000);
    const before = [...f.accepted];
    const out = join(s.dir, 'nightly.db');
    const r = s.run('backup', out, '--json');
    const after = f.accepted.length;
    await f.stop();
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ file: out, integrity: 'ok', schemaVersion: MIGRATIONS.length });
    const copy = facts(out);
    expect(copy.integrity).toBe('ok');
    expect(copy.journal).toBe('delete'); // one file, no -wal needed
    expect(existsSync(`${out}-wal`)).toBe(false);
    expect(existsSync(`${out}.partial`)).toBe(false);
    expect(copy.status).toBe(0); // a snapshot, not a running daemon
    for (let i = 0; i < 5; i++) expect(copy.subjects.has(`Problem: before ${i}`)).toBe(true);
    expect(before.filter((x) => !copy.subjects.has(x))).toEqual([]);
    // The daemon kept accepting during the backup.
    expect(f.accepted.length).toBeGreaterThan(before.length);
    expect(after).toBeGreaterThanOrEqual(before.length);
    expect(d.exitedYet()).toBe(false);
    // Human output, and overwriting an older backup is fine.
    expect(s.run('backup', out).stdout).toMatch(/backup written to .*nightly\.db: .* alerts, 1 users, schema \d+, integrity ok/);
  }, 60_000);

  it('usage and failures: the live file itself → 2, a missing directory → 1, no database yet → 1', async () => {
    const s = await setup();
    const self = s.run('backup', s.db);
    expect(self.code).toBe(2);
    expect(self.stderr).toMatch(/is the live database itself/);
    const nodir = s.run('backup', join(s.dir, 'no', 'such', 'dir', 'x.db'));
    expect(nodir.code).toBe(1);
    expect(nodir.stderr).toMatch(/no such directory/);
    expect(s.run('backup').code).toBe(2);
    const empty = join(s.dir, 'empty.yaml');
    writeFileSync(empty, `dataDir: ${join(s.dir, 'nothing-here')}\n`);
    const none = cli(['--config', empty, 'backup', join(s.dir, 'x.db')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no database at/);
  });

  it('kill -9 of the backup half-way: no half file under the name asked for, the previous backup and the live database intact', async () => {
    const s = await setup();
    // A database big enough that the copy takes a while.
    const seed = new Database(s.db);
    seedHistory(seed, { count: 15_000, receivedAt: Date.now() - 86_400_000, rawBytes: 3000 });
    seed.close();
    const d = await daemon(s);
    const out = join(s.dir, 'backup.db');
    expect(s.run('backup', out).code).toBe(0);
    const previous = facts(out);
    expect((await sendRaw(s.port, { to: ['oncall@alerts.example'], data: mail('Problem: after the first backup') })).final?.code).toBe(250);

    const f = flood(s.port, 'kill-backup');
    let killedMidway = false;
    for (let attempt = 0; attempt < 5 && !killedMidway; attempt++) {
      const child = spawn(process.execPath, [BIN, '--config', s.conf, 'backup', out], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      await waitFor(() => existsSync(`${out}.partial`) || child.exitCode !== null, 20_000, 1).catch(() => null);
      if (existsSync(`${out}.partial`) && child.exitCode === null) {
        child.kill('SIGKILL');
        killedMidway = true;
      }
      await exited;
    }
    await f.stop();
    expect(killedMidway).toBe(true);
    // What is under the name is the previous, complete backup.
    const now = facts(out);
    expect(now.integrity).toBe('ok');
    expect(now.alerts).toBe(previous.alerts);
    // The daemon never noticed: still up, live database sound, everything it accepted is there.
    expect(d.exitedYet()).toBe(false);
    expect((await sendRaw(s.port, { to: ['oncall@alerts.example'], data: mail('Problem: after the killed backup') })).final?.code).toBe(250);
    const live = facts(s.db);
    expect(live.integrity).toBe('ok');
    expect([...f.accepted, 'Problem: after the first backup', 'Problem: after the killed backup'].filter((x) => !live.subjects.has(x))).toEqual([]);
    // The next backup cleans up the leftover partial file and succeeds.
    expect(s.run('backup', out).code).toBe(0);
    expect(existsSync(`${out}.partial`)).toBe(false);
    expect(facts(out).subjects.has('Problem: after the killed backup')).toBe(true);
  }, 120_000);

  it('kill -9 of the daemon during a backup: the backup completes and is sound, nothing accepted is lost', async () => {
    const s = await setup();
    const seed = new Database(s.db);
    seedHistory(seed, { count: 15_000, receivedAt: Date.now() - 86_400_000, rawBytes: 3000 });
    seed.close();
    const d = await daemon(s);
    const f = flood(s.port, 'kill-daemon');
    await waitFor(() => f.accepted.length >= 10, 20_000);
    const out = join(s.dir, 'backup.db');
    const child = spawn(process.execPath, [BIN, '--config', s.conf, 'backup', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (x) => (output += x));
    child.stderr!.on('data', (x) => (output += x));
    const code = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    await waitFor(() => existsSync(`${out}.partial`) || child.exitCode !== null, 20_000, 1);
    const midway = existsSync(`${out}.partial`) && child.exitCode === null;
    d.kill('SIGKILL');
    await new Promise((r) => d.once('exit', r));
    await f.stop();
    expect(await code, output).toBe(0);
    expect(midway).toBe(true);
    const copy = facts(out);
    expect(copy.integrity).toBe('ok');
    expect(copy.alerts).toBeGreaterThanOrEqual(15_000);
    const live = facts(s.db);
    expect(live.integrity).toBe('ok');
    expect(f.accepted.filter((x) => !live.subjects.has(x))).toEqual([]);
  }, 120_000);
});

describe('alertline restore', () => {
  it('refuses while the daemon runs on the data dir; restores once it is stopped, keeping the old database as .bak', async () => {
    const s = await setup();
    let d = await daemon(s);
    for (let i = 0; i < 3; i++) expect((await sendRaw(s.port, { to: ['oncall@alerts.example'], data: mail(`Problem: in backup ${i}`) })).final?.code).toBe(250);
    const out = join(s.dir, 'b.db');
    expect(s.run('backup', out).code).toBe(0);
    expect((await sendRaw(s.port, { to: ['oncall@alerts.example'], data: mail('Problem: after backup') })).final?.code).toBe(250);

    const busy = s.run('restore', out);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/a daemon is running on this database \(pid \d+\); stop it first/);
    expect(facts(s.db).subjects.has('Problem: after backup')).toBe(true);

    d.kill('SIGTERM');
    await new Promise((r) => d.once('exit', r));
    const r = s.run('restore', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/restored .*b\.db: 3 alerts, 1 users/);
    expect(r.stdout).toMatch(/previous database is kept as .*alertline\.db\.bak/);
    const now = facts(s.db);
    expect(now.integrity).toBe('ok');
    expect([...now.subjects].sort()).toEqual(['Problem: in backup 0', 'Problem: in backup 1', 'Problem: in backup 2']);
    expect(facts(`${s.db}.bak`).subjects.has('Problem: after backup')).toBe(true);
    // The daemon runs on the restored database.
    d = await daemon(s);
    expect((await sendRaw(s.port, { to: ['oncall@alerts.example'], data: mail('Problem: after restore') })).final?.code).toBe(250);
    expect(JSON.parse(s.run('users', 'list', '--json').stdout)).toEqual([expect.objectContaining({ email: 'oncall@alerts.example' })]);
  }, 60_000);

  it('a daemon killed -9 leaves its status row behind: restore is not fooled once that pid is gone', async () => {
    const s = await setup();
    const d = await daemon(s);
    const out = join(s.dir, 'b.db');
    expect(s.run('backup', out).code).toBe(0);
    d.kill('SIGKILL');
    await new Promise((r) => d.once('exit', r));
    const r = s.run('restore', out);
    expect(r.code, r.stderr).toBe(0);
  }, 60_000);

  it('checks the file first: not SQLite, not Alertline, damaged, or from a newer schema → exit 1 and the database unchanged', async () => {
    const s = await setup();
    expect(s.run('send-test', 'oncall@alerts.example').code).toBe(0);
    const original = facts(s.db);

    const text = join(s.dir, 'notes.txt');
    writeFileSync(text, 'hello\n');
    const other = join(s.dir, 'other.db');
    const o = new Database(other);
    o.exec('CREATE TABLE t (x)');
    o.close();
    const newer = join(s.dir, 'newer.db');
    expect(s.run('backup', newer).code).toBe(0);
    const n = new Database(newer);
    n.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    n.close();
    const damaged = join(s.dir, 'damaged.db');
    const big = join(s.dir, 'big.db');
    {
      const b = new Database(big);
      b.pragma('journal_mode = DELETE');
      for (const m of MIGRATIONS) b.exec(m);
      b.pragma(`user_version = ${MIGRATIONS.length}`);
      seedHistory(b, { count: 2000, receivedAt: 0 });
      b.close();
      copyFileSync(big, damaged);
      // Garbage over pages in the middle of the file (b-tree pages of the alerts table).
      const fd = openSync(damaged, 'r+');
      writeSync(fd, Buffer.alloc(4096 * 20, 0xa5), 0, 4096 * 20, 4096 * 30);
      closeSync(fd);
    }
    const cases: [string, RegExp][] = [
      [join(s.dir, 'missing.db'), /no such file/],
      [text, /not an SQLite database/],
      [other, /not an Alertline database/],
      [newer, /made by a newer Alertline \(schema version \d+/],
      [damaged, /integrity check failed|malformed|cannot open/],
    ];
    for (const [file, why] of cases) {
      const r = s.run('restore', file);
      expect(r.code, file).toBe(1);
      expect(r.stderr).toMatch(why);
    }
    expect(existsSync(`${s.db}.bak`)).toBe(false);
    expect(facts(s.db)).toEqual(original);
    // And the undamaged original of that file restores fine.
    expect(s.run('restore', big).code).toBe(0);
    expect(facts(s.db).alerts).toBe(2000);
  }, 60_000);

  it('an older schema is migrated forward on restore', async () => {
    const s = await setup();
    const old = join(s.dir, 'v4.db');
    const db = new Database(old);
    for (let v = 0; v < 4; v++) db.exec(MIGRATIONS[v]!);
    db.pragma('user_version = 4');
    db.prepare(`INSERT INTO users (email, created_at) VALUES ('old@alerts.example', 0)`).run();
    db.close();
    const r = s.run('restore', old, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ restored: { schemaVersion: 4 }, schemaVersion: MIGRATIONS.length });
    expect(facts(s.db).version).toBe(MIGRATIONS.length);
    expect(JSON.parse(s.run('users', 'list', '--json').stdout)).toEqual([expect.objectContaining({ email: 'old@alerts.example' })]);
    // Onto a fresh install (no data dir yet): nothing to keep as .bak.
    const fresh = join(s.dir, 'fresh.yaml');
    writeFileSync(fresh, `dataDir: ${join(s.dir, 'new', 'data')}\n`);
    const r2 = cli(['--config', fresh, 'restore', old]);
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stdout).not.toMatch(/previous database/);
    expect(facts(join(s.dir, 'new', 'data', 'alertline.db')).integrity).toBe('ok');
  });
});
