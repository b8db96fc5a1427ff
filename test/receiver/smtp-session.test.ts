/** Real SMTP sessions over TCP against the receiver: raw sockets and nodemailer. */
import { afterEach, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { RawSmtp, sendRaw, dotStuff } from '../helpers/smtp-client.js';
import { fixture, fixtureNames, startDaemon, tempDir } from '../helpers/env.js';
import { FakeChannel, untilAborted } from '../helpers/fake-channel.js';

type D = Awaited<ReturnType<typeof startDaemon>>;
let d: D | null = null;
afterEach(async () => {
  await d?.stop();
  d = null;
});

const rcptOf: Record<string, string> = {
  'alertmanager-firing.eml': 'noc@alerts.example',
  'nagios-problem.eml': 'oncall@alerts.example',
  'zabbix-problem-utf8.eml': 'guardia@alerts.example',
  'zabbix-problem.eml': 'oncall@alerts.example',
  'zabbix-resolved.eml': 'oncall@alerts.example',
};

function alertCount(): number {
  return (d!.daemon.stores.db.prepare('SELECT count(*) n FROM alerts').get() as { n: number }).n;
}

describe('SMTP receiver', () => {
  it('accepts every fixture over a raw session and stores it parsed, with its deliveries', async () => {
    d = await startDaemon();
    for (const name of fixtureNames()) {
      // The real-monitor captures (real-*.eml) went to oncall@.
      const r = await sendRaw(d.port, { to: [rcptOf[name] ?? 'oncall@alerts.example'], data: fixture(name) });
      expect(r.final?.code, name).toBe(250);
      const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);
      const a = (await d.daemon.stores.alerts.get(id))!;
      expect(a.subject.length).toBeGreaterThan(5);
      expect((await d.daemon.stores.alerts.raw(id))!.equals(fixture(name).toString('latin1').endsWith('\r\n') ? fixture(name) : Buffer.concat([fixture(name), Buffer.from('\r\n')]))).toBe(true);
    }
    const rows = (await d.daemon.stores.alerts.list(fixtureNames().length));
    expect(rows.map((r) => r.subject)).toContain('Problema: Servidor de base de datos no responde: conexión rechazada en el puerto 5432');
    // The group address noc@ reached both members of group noc.
    const am = rows.find((r) => r.subject.startsWith('[FIRING:1] HighLatency'))!; // alertmanager-firing.eml
    expect((await d.daemon.stores.alerts.deliveries(am.id)).map((x) => x.user_email).sort()).toEqual(['guardia@alerts.example', 'second@alerts.example']);
  });

  it('accepts mail from nodemailer (what most scripts use) with HELO-only clients too', async () => {
    d = await startDaemon();
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: d.port, secure: false, ignoreTLS: true });
    const info = await t.sendMail({ from: 'grafana@monitor.example', to: 'oncall@alerts.example', subject: '[FIRING:1] CPU high', text: 'cpu 99%' });
    expect(info.response).toMatch(/^250 .*Queued as alert \d+/);
    t.close();
    // Zabbix speaks HELO, not EHLO.
    const c = await RawSmtp.connect(d.port);
    expect((await c.read())!.code).toBe(220);
    expect((await c.cmd('HELO zabbix'))!.code).toBe(250);
    expect((await c.cmd('MAIL FROM:<zabbix@smtp.appliance>'))!.code).toBe(250);
    expect((await c.cmd('RCPT TO:<oncall@alerts.example>'))!.code).toBe(250);
    expect((await c.cmd('DATA'))!.code).toBe(354);
    c.write(Buffer.concat([dotStuff(fixture('zabbix-problem.eml')), Buffer.from('.\r\n')]));
    expect((await c.read())!.code).toBe(250);
    c.close();
  });

  it('advertises SIZE, 8BITMIME and PIPELINING', async () => {
    d = await startDaemon({ smtp: { maxMessageSize: '64KB' } });
    const c = await RawSmtp.connect(d.port);
    await c.read();
    const ehlo = (await c.cmd('EHLO me'))!;
    expect(ehlo.text).toContain('SIZE 65536');
    expect(ehlo.text).toContain('8BITMIME');
    expect(ehlo.text).toContain('PIPELINING');
    c.close();
  });

  it('refuses unknown recipients with 550 at RCPT and accepts no message without a valid one', async () => {
    d = await startDaemon();
    const r = await sendRaw(d.port, { to: ['nobody@alerts.example'], data: fixture('zabbix-problem.eml') });
    expect(r.rcpt[0]!.code).toBe(550);
    expect(r.final!.code).toBeGreaterThanOrEqual(500);
    expect(alertCount()).toBe(0);
    // A mix: the known recipient gets it, the unknown one is refused.
    const mixed = await sendRaw(d.port, { to: ['nobody@alerts.example', 'oncall@alerts.example'], data: fixture('zabbix-problem.eml') });
    expect(mixed.rcpt.map((x) => x.code)).toEqual([550, 250]);
    expect(mixed.final!.code).toBe(250);
    expect(alertCount()).toBe(1);
  });

  it('refuses an oversize message with 552 and stores nothing', async () => {
    d = await startDaemon({ smtp: { maxMessageSize: '8KB' } });
    const big = 'Subject: big\r\n\r\n' + 'x'.repeat(76) .concat('\r\n').repeat(200);
    const r = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: big });
    expect(r.final!.code).toBe(552);
    expect(alertCount()).toBe(0);
    // Declared too big in MAIL FROM SIZE= is refused up front.
    const c = await RawSmtp.connect(d.port);
    await c.read();
    await c.cmd('EHLO me');
    expect((await c.cmd('MAIL FROM:<a@b.c> SIZE=900000'))!.code).toBe(552);
    c.close();
  });

  it('refuses clients outside smtp.allowFrom at connect with 554', async () => {
    d = await startDaemon({ smtp: { allowFrom: ['10.0.0.0/8', '2001:db8::/32'] } });
    const c = await RawSmtp.connect(d.port);
    const greet = await c.read();
    expect(greet!.code).toBe(554);
    c.close();
  });

  it('accepts IPv6 loopback when ::1/128 is allowed and refuses it otherwise', async () => {
    d = await startDaemon({ smtp: { host: '::1', allowFrom: ['::1/128'] } });
    const c = await RawSmtp.connect(d.port, '::1');
    expect((await c.read())!.code).toBe(220);
    c.close();
    await d.stop();
    d = await startDaemon({ smtp: { host: '::1', allowFrom: ['127.0.0.0/8'] } });
    const c2 = await RawSmtp.connect(d.port, '::1');
    expect((await c2.read())!.code).toBe(554);
    c2.close();
  });

  it('AUTH required: refuses MAIL without auth, refuses bad credentials, accepts good ones', async () => {
    d = await startDaemon({ smtp: { auth: { required: true, users: { zabbix: 's3cret' } } } });
    const c = await RawSmtp.connect(d.port);
    await c.read();
    await c.cmd('EHLO me');
    expect((await c.cmd('MAIL FROM:<a@b.c>'))!.code).toBe(530);
    const bad = Buffer.from('\0zabbix\0wrong').toString('base64');
    expect((await c.cmd(`AUTH PLAIN ${bad}`))!.code).toBe(535);
    const good = Buffer.from('\0zabbix\0s3cret').toString('base64');
    expect((await c.cmd(`AUTH PLAIN ${good}`))!.code).toBe(235);
    expect((await c.cmd('MAIL FROM:<a@b.c>'))!.code).toBe(250);
    c.close();
    // AUTH LOGIN through nodemailer.
    const t = nodemailer.createTransport({ host: '127.0.0.1', port: d.port, ignoreTLS: true, auth: { user: 'zabbix', pass: 's3cret' }, authMethod: 'LOGIN' });
    await expect(t.sendMail({ from: 'z@x.y', to: 'oncall@alerts.example', subject: 'Problem: x', text: 'y' })).resolves.toBeTruthy();
    const t2 = nodemailer.createTransport({ host: '127.0.0.1', port: d.port, ignoreTLS: true, auth: { user: 'zabbix', pass: 'nope' } });
    await expect(t2.sendMail({ from: 'z@x.y', to: 'oncall@alerts.example', subject: 'Problem: x', text: 'y' })).rejects.toMatchObject({ responseCode: 535 });
  });

  it('STARTTLS with a generated certificate, then AUTH over TLS', async () => {
    const tmp = tempDir();
    const key = join(tmp.dir, 'key.pem');
    const cert = join(tmp.dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=alertline.test'], { stdio: 'ignore' });
    try {
      d = await startDaemon({ smtp: { tls: { key, cert }, auth: { required: true, users: { zabbix: 'pw' } } } });
      const c = await RawSmtp.connect(d.port);
      await c.read();
      const ehlo = (await c.cmd('EHLO me'))!;
      expect(ehlo.text).toContain('STARTTLS');
      expect((await c.cmd('STARTTLS'))!.code).toBe(220);
      await c.starttls();
      const ehlo2 = (await c.cmd('EHLO me'))!;
      expect(ehlo2.text).toMatch(/AUTH .*PLAIN/);
      expect((await c.cmd(`AUTH PLAIN ${Buffer.from('\0zabbix\0pw').toString('base64')}`))!.code).toBe(235);
      c.close();
      const t = nodemailer.createTransport({ host: '127.0.0.1', port: d.port, requireTLS: true, tls: { rejectUnauthorized: false }, auth: { user: 'zabbix', pass: 'pw' } });
      const info = await t.sendMail({ from: 'z@x.y', to: 'oncall@alerts.example', subject: 'Problem: over TLS', text: 'ok' });
      expect(info.response).toMatch(/^250/);
    } finally {
      tmp.cleanup();
    }
  });

  it('handles a pipelined session: all commands in one write, replies in order', async () => {
    d = await startDaemon();
    const c = await RawSmtp.connect(d.port);
    await c.read();
    await c.cmd('EHLO pipeliner');
    c.write('MAIL FROM:<zabbix@smtp.appliance>\r\nRCPT TO:<oncall@alerts.example>\r\nRCPT TO:<nobody@alerts.example>\r\nRCPT TO:<guardia@alerts.example>\r\nDATA\r\n');
    const codes = [];
    for (let i = 0; i < 5; i++) codes.push((await c.read())!.code);
    expect(codes).toEqual([250, 250, 550, 250, 354]);
    c.write(Buffer.concat([dotStuff(fixture('zabbix-problem.eml')), Buffer.from('.\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<oncall@alerts.example>\r\nDATA\r\n')]));
    expect((await c.read())!.code).toBe(250);
    expect((await c.read())!.code).toBe(250);
    expect((await c.read())!.code).toBe(250);
    expect((await c.read())!.code).toBe(354);
    c.write('Subject: Problem: second\r\n\r\nbody\r\n.\r\nQUIT\r\n');
    expect((await c.read())!.code).toBe(250);
    expect((await c.read())!.code).toBe(221);
    expect(alertCount()).toBe(2);
    const first = (await d.daemon.stores.alerts.list(5)).find((a) => a.subject.startsWith('Problem: Zabbix'))!;
    expect((await d.daemon.stores.alerts.deliveries(first.id)).map((x) => x.user_email).sort()).toEqual(['guardia@alerts.example', 'oncall@alerts.example']);
  });

  it('a disconnect mid-DATA leaves nothing stored and the server healthy', async () => {
    d = await startDaemon();
    const c = await RawSmtp.connect(d.port);
    await c.read();
    await c.cmd('EHLO me');
    await c.cmd('MAIL FROM:<a@b.c>');
    await c.cmd('RCPT TO:<oncall@alerts.example>');
    await c.cmd('DATA');
    c.write('Subject: Problem: half\r\n\r\nthis message never ends');
    await new Promise((r) => setTimeout(r, 100));
    c.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(alertCount()).toBe(0);
    const r = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: fixture('zabbix-problem.eml') });
    expect(r.final!.code).toBe(250);
    expect(alertCount()).toBe(1);
  });

  it('refuses SMTP smuggling (bare LF dot line), NUL bytes and overlong header lines; the session stays usable', async () => {
    d = await startDaemon();
    const c = await RawSmtp.connect(d.port);
    await c.read();
    await c.cmd('EHLO me');
    const attempt = async (body: string) => {
      expect((await c.cmd('MAIL FROM:<a@b.c>'))!.code).toBe(250);
      expect((await c.cmd('RCPT TO:<oncall@alerts.example>'))!.code).toBe(250);
      expect((await c.cmd('DATA'))!.code).toBe(354);
      c.write(body + '\r\n.\r\n');
      return (await c.read())!;
    };
    const smuggle = await attempt('Subject: Problem: x\r\n\r\nhello\n.\nMAIL FROM:<evil@x>\nRCPT TO:<oncall@alerts.example>\nDATA\nSubject: forged');
    expect(smuggle.code).toBe(554);
    expect(smuggle.text).toMatch(/smuggling/i);
    const nul = await attempt('Subject: Problem: x\r\n\r\nhello\0world');
    expect(nul.code).toBe(554);
    const longHeader = await attempt(`Subject: Problem: ${'y'.repeat(1200)}\r\n\r\nbody`);
    expect(longHeader.code).toBe(554);
    const fine = await attempt('Subject: Problem: fine\r\n\r\nbody');
    expect(fine.code).toBe(250);
    c.close();
    expect(alertCount()).toBe(1);
  });

  it('refuses mail that this appliance relayed itself (loop)', async () => {
    d = await startDaemon();
    const r = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: `X-Alertline-Relayed: ${d.config.smtp.hostname}; alert=3\r\nSubject: Problem: loop\r\n\r\nx` });
    expect(r.final!.code).toBe(554);
  });

  it('sends 250 only after the alert is committed: another connection to the database sees it at once', async () => {
    d = await startDaemon();
    const other = new Database(join(d.config.dataDir, 'alertline.db'), { readonly: true });
    try {
      for (let i = 0; i < 5; i++) {
        const r = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: `Subject: Problem: commit ${i}\r\n\r\nbody ${i}` });
        expect(r.final!.code).toBe(250);
        const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);
        const row = other.prepare('SELECT subject, state FROM alerts WHERE id = ?').get(id) as { subject: string } | undefined;
        expect(row?.subject).toBe(`Problem: commit ${i}`);
        expect((other.prepare('SELECT count(*) n FROM deliveries WHERE alert_id = ?').get(id) as { n: number }).n).toBe(1);
      }
    } finally {
      other.close();
    }
  });

  it('answers 451 when the commit fails, and stores nothing half-done', async () => {
    d = await startDaemon();
    // Make every insert fail: a trigger that aborts alert inserts.
    d.daemon.stores.db.exec(`CREATE TRIGGER fail_insert BEFORE INSERT ON deliveries BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END;`);
    const r = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: fixture('zabbix-problem.eml') });
    expect(r.final!.code).toBe(451);
    expect(alertCount()).toBe(0);
    d.daemon.stores.db.exec('DROP TRIGGER fail_insert');
    expect((await sendRaw(d.port, { to: ['oncall@alerts.example'], data: fixture('zabbix-problem.eml') })).final!.code).toBe(250);
  });

  it('answers 452 at MAIL FROM when filter.maxPending deliveries are open, and accepts again once they drain', async () => {
    // A relay that never finishes keeps deliveries open.
    const stuck = new FakeChannel('mail', (_j, signal) => untilAborted(signal));
    d = await startDaemon({ filter: { maxPending: 2, dedupeWindow: '0s' }, channels: { order: ['mail'], mail: { enabled: true } } }, { factories: { mail: async () => stuck } });
    for (let i = 0; i < 2; i++) {
      expect((await sendRaw(d.port, { to: ['oncall@alerts.example'], data: `Subject: Problem: p${i}\r\n\r\nx` })).final!.code).toBe(250);
    }
    await new Promise((r) => setTimeout(r, 250)); // the receiver's count of open deliveries is at most 200 ms old
    const r = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: 'Subject: Problem: p3\r\n\r\nx' });
    expect(r.final!.code).toBe(452);
    expect(alertCount()).toBe(2);
    d.daemon.stores.db.prepare(`UPDATE deliveries SET state = 'done'`).run();
    await new Promise((r) => setTimeout(r, 250)); // the receiver re-counts open deliveries every 200 ms
    expect((await sendRaw(d.port, { to: ['oncall@alerts.example'], data: 'Subject: Problem: p3\r\n\r\nx' })).final!.code).toBe(250);
  });

  it('answers 421 once shutting down', async () => {
    d = await startDaemon();
    const c = await RawSmtp.connect(d.port);
    await c.read();
    await c.cmd('EHLO me');
    const stopping = d.daemon.stop(0);
    const r = await c.cmd('MAIL FROM:<a@b.c>');
    expect([421, null]).toContain(r?.code ?? null);
    c.close();
    await stopping;
    d = null;
  });
});

describe('heartbeats by mail', () => {
  it('a mail to heartbeat+<name>@ is a ping: 250, last seen set, no alert stored; an unknown heartbeat is 550', async () => {
    d = await startDaemon();
    await d.daemon.stores.heartbeats.add('zabbix', { everyMs: 300_000, graceMs: 120_000 });
    const before = alertCount();
    const r = await sendRaw(d.port, { to: ['heartbeat+zabbix@alerts.example'], data: 'Subject: Watchdog\r\n\r\nalive\r\n' });
    expect(r.final!.code).toBe(250);
    expect(r.final!.text).toMatch(/Heartbeat zabbix received/);
    expect((await d.daemon.stores.heartbeats.get('zabbix'))!.lastSeenAt).not.toBeNull();
    expect(alertCount()).toBe(before);
    const bad = await sendRaw(d.port, { to: ['heartbeat+nope@alerts.example'], data: 'Subject: x\r\n\r\ny\r\n' });
    expect(bad.rcpt[0]!.code).toBe(550);
  });
});
