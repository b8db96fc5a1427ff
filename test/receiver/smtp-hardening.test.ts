/** Hostile SMTP sessions over real sockets (issue 19 items 4, 8, 9; issue 11 item 7). */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { RawSmtp } from '../helpers/smtp-client.js';
import { startDaemon, tempDir, waitFor } from '../helpers/env.js';
import { memoryLogger } from '../../src/util/log.js';

type D = Awaited<ReturnType<typeof startDaemon>>;
let d: D | null = null;
const open: { close(): void }[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await d?.stop();
  d = null;
});

async function session(port: number): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  open.push(c);
  return c;
}

async function deliveredTo(id: number): Promise<string[]> {
  return (await d!.daemon.stores.alerts.deliveries(id)).map((x) => x.user_email).sort();
}

function alertId(text: string): number {
  return Number(/alert (\d+)/.exec(text)![1]);
}

describe('one transaction, its own recipients', () => {
  it('RSET drops the recipients of the abandoned transaction', async () => {
    d = await startDaemon();
    const c = await session(d.port);
    expect((await c.read())!.code).toBe(220);
    await c.cmd('EHLO probe');
    expect((await c.cmd('MAIL FROM:<a@b.c>'))!.code).toBe(250);
    expect((await c.cmd('RCPT TO:<guardia@alerts.example>'))!.code).toBe(250);
    expect((await c.cmd('RSET'))!.code).toBe(250);
    expect((await c.cmd('MAIL FROM:<a@b.c>'))!.code).toBe(250);
    expect((await c.cmd('RCPT TO:<oncall@alerts.example>'))!.code).toBe(250);
    expect((await c.cmd('DATA'))!.code).toBe(354);
    c.write('Subject: Problem: after RSET\r\n\r\nbody\r\n.\r\n');
    const r = (await c.read())!;
    expect(r.code).toBe(250);
    expect(await deliveredTo(alertId(r.text))).toEqual(['oncall@alerts.example']);
  });

  it('a second EHLO or HELO drops them too, and so does a refused DATA', async () => {
    d = await startDaemon();
    const c = await session(d.port);
    await c.read();
    await c.cmd('EHLO probe');
    const send = async (subject: string) => {
      expect((await c.cmd('DATA'))!.code).toBe(354);
      c.write(`Subject: Problem: ${subject}\r\n\r\nbody\r\n.\r\n`);
      return (await c.read())!;
    };
    for (const restart of ['EHLO again', 'HELO again']) {
      await c.cmd('MAIL FROM:<a@b.c>');
      expect((await c.cmd('RCPT TO:<guardia@alerts.example>'))!.code).toBe(250);
      expect((await c.cmd(restart))!.code).toBe(250);
      await c.cmd('MAIL FROM:<a@b.c>');
      expect((await c.cmd('RCPT TO:<oncall@alerts.example>'))!.code).toBe(250);
      const r = await send(`after ${restart}`);
      expect(r.code).toBe(250);
      expect(await deliveredTo(alertId(r.text))).toEqual(['oncall@alerts.example']);
    }
    // A refused message (NUL byte): its recipient must not leak into the next transaction.
    await c.cmd('MAIL FROM:<a@b.c>');
    await c.cmd('RCPT TO:<guardia@alerts.example>');
    await c.cmd('DATA');
    c.write('Subject: Problem: refused\r\n\r\nnul\0\r\n.\r\n');
    expect((await c.read())!.code).toBe(554);
    await c.cmd('MAIL FROM:<a@b.c>');
    await c.cmd('RCPT TO:<oncall@alerts.example>');
    const r = await send('after a refused one');
    expect(r.code).toBe(250);
    expect(await deliveredTo(alertId(r.text))).toEqual(['oncall@alerts.example']);
  });

  it('pipelined: MAIL, RCPT victim, RSET, MAIL, RCPT probe, DATA in one write', async () => {
    d = await startDaemon();
    const c = await session(d.port);
    await c.read();
    await c.cmd('EHLO pipeliner');
    c.write('MAIL FROM:<a@b.c>\r\nRCPT TO:<noc@alerts.example>\r\nRSET\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<oncall@alerts.example>\r\nDATA\r\n');
    const codes = [];
    for (let i = 0; i < 6; i++) codes.push((await c.read())!.code);
    expect(codes).toEqual([250, 250, 250, 250, 250, 354]);
    c.write('Subject: Problem: pipelined\r\n\r\nbody\r\n.\r\n');
    const r = (await c.read())!;
    expect(r.code).toBe(250);
    expect(await deliveredTo(alertId(r.text))).toEqual(['oncall@alerts.example']);
  });
});

/** A TCP connection that only listens: what a hostile neighbour parks on the SMTP port. */
class Parked {
  text = '';
  closed = false;
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (b: Buffer) => (this.text += b.toString('latin1')));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => {});
  }

  static open(port: number, localAddress = '127.0.0.1'): Promise<Parked> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1', localAddress }, () => {
        const p = new Parked(s);
        open.push(p);
        resolve(p);
      });
      s.once('error', reject);
    });
  }

  /** Reply codes received so far, in order. */
  codes(): number[] {
    return this.text.split('\r\n').filter((l) => /^\d{3} /.test(l)).map((l) => Number(l.slice(0, 3)));
  }

  async firstCode(): Promise<number> {
    await waitFor(() => this.codes().length > 0 || this.closed);
    return this.codes()[0] ?? 0;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A real client (nodemailer) sending one alert from a given loopback address. */
async function alertFrom(port: number, localAddress: string, subject: string, auth?: { user: string; pass: string }) {
  const t = nodemailer.createTransport({ host: '127.0.0.1', port, localAddress, ignoreTLS: !auth, secure: false, tls: { rejectUnauthorized: false }, ...(auth ? { auth } : {}), connectionTimeout: 5000, greetingTimeout: 5000 });
  try {
    return await t.sendMail({ from: 'zabbix@monitor.example', to: 'oncall@alerts.example', subject, text: 'Host: db01\nSeverity: High' });
  } finally {
    t.close();
  }
}

async function storedSubjects(): Promise<string[]> {
  return (await d!.daemon.stores.alerts.list(50)).map((a) => a.subject);
}

describe('idle connections cannot keep an alert out', () => {
  it('300 idle connections from one address: it gets its cap, some wait, the rest 421, and another allowed client is served', async () => {
    d = await startDaemon(); // defaults: maxClients 100, so 50 per address, and 100 may wait
    const parked = await Promise.all(Array.from({ length: 300 }, () => Parked.open(d!.port)));
    await waitFor(() => parked.filter((p) => p.codes().length > 0).length >= 200);
    const first = parked.map((p) => p.codes()[0]);
    expect(first.filter((c) => c === 220)).toHaveLength(50);
    expect(first.filter((c) => c === 421)).toHaveLength(150);
    const waiting = parked.filter((p) => p.codes().length === 0 && !p.closed);
    expect(waiting).toHaveLength(100);
    const info = await alertFrom(d.port, '127.0.0.2', 'Problem: real alert beside 300 idle connections');
    expect(info.response).toMatch(/^250 .*Queued as alert \d+/);
    expect((await storedSubjects())).toContain('Problem: real alert beside 300 idle connections');
    // A waiting connection gets its turn when one of its address's sessions ends.
    parked.find((p) => p.codes()[0] === 220)!.close();
    await waitFor(() => waiting.some((p) => p.codes()[0] === 220));
  });

  it('a burst from one monitor above the per-address cap is served in turn, not refused', async () => {
    d = await startDaemon({ smtp: { maxClientsPerAddress: 3 } });
    const infos = await Promise.all(Array.from({ length: 30 }, (_, i) => alertFrom(d!.port, '127.0.0.1', `Problem: storm ${i}`)));
    expect(infos.every((x) => /^250/.test(x.response))).toBe(true);
    expect(new Set((await storedSubjects()).filter((s) => s.startsWith('Problem: storm'))).size).toBe(30);
  });

  it('when every slot is taken by idle sessions, the longest idle one makes room for a sender', async () => {
    d = await startDaemon({ smtp: { maxClients: 6, maxClientsPerAddress: 2 } });
    const parked: Parked[] = [];
    for (const from of ['127.0.0.1', '127.0.0.3', '127.0.0.4']) {
      for (let i = 0; i < 2; i++) {
        const p = await Parked.open(d.port, from);
        expect(await p.firstCode()).toBe(220);
        parked.push(p);
      }
    }
    const info = await alertFrom(d.port, '127.0.0.2', 'Problem: room was made');
    expect(info.response).toMatch(/^250/);
    expect((await storedSubjects())).toContain('Problem: room was made');
    // The oldest idle session was told why it goes.
    await waitFor(() => parked[0]!.closed);
    expect(parked[0]!.codes()).toEqual([220, 421]);
    expect(parked[0]!.text).toMatch(/make room/);
    expect(parked.slice(1).every((p) => !p.closed)).toBe(true);
  });

  it('a session inside a transaction is not closed to make room; a newcomer waits for a free slot', async () => {
    d = await startDaemon({ smtp: { maxClients: 2, maxClientsPerAddress: 2 } });
    const busy: RawSmtp[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await session(d.port);
      expect((await c.read())!.code).toBe(220);
      await c.cmd('EHLO busy');
      expect((await c.cmd('MAIL FROM:<a@b.c>'))!.code).toBe(250);
      busy.push(c);
    }
    const late = await Parked.open(d.port, '127.0.0.2');
    // Both transactions complete; the newcomer has not been greeted while they ran.
    for (const [i, c] of busy.entries()) {
      expect((await c.cmd('RCPT TO:<oncall@alerts.example>'))!.code).toBe(250);
      expect((await c.cmd('DATA'))!.code).toBe(354);
      c.write(`Subject: Problem: busy ${i}\r\n\r\nbody\r\n.\r\n`);
      expect((await c.read())!.code).toBe(250);
    }
    expect(late.codes()).toEqual([]);
    expect((await busy[0]!.cmd('QUIT'))!.code).toBe(221);
    expect(await late.firstCode()).toBe(220);
  });

  it('a session that does not start a transaction within smtp.idleTimeout gets 421, NOOPs or not; one inside a transaction is left alone', async () => {
    d = await startDaemon({ smtp: { idleTimeout: '300ms' } });
    const silent = await Parked.open(d.port);
    const chatty = await session(d.port);
    expect((await chatty.read())!.code).toBe(220);
    await chatty.cmd('EHLO chatty');
    const working = await session(d.port);
    expect((await working.read())!.code).toBe(220);
    await working.cmd('EHLO worker');
    expect((await working.cmd('MAIL FROM:<a@b.c>'))!.code).toBe(250);

    let last: number | null = 250;
    for (let i = 0; i < 100 && last === 250; i++) {
      await new Promise((r) => setTimeout(r, 50));
      last = (await chatty.cmd('NOOP'))?.code ?? null;
    }
    expect([421, null]).toContain(last);
    await waitFor(() => silent.closed);
    expect(silent.codes()).toEqual([220, 421]);

    // The worker was inside a transaction all along: it can finish, and gets a fresh deadline after.
    expect((await working.cmd('RCPT TO:<oncall@alerts.example>'))!.code).toBe(250);
    expect((await working.cmd('DATA'))!.code).toBe(354);
    working.write('Subject: Problem: slow but working\r\n\r\nbody\r\n.\r\n');
    expect((await working.read())!.code).toBe(250);
    expect((await working.read())!.code).toBe(421);
    expect((await storedSubjects())).toContain('Problem: slow but working');
  });
});

describe('bounded input', () => {
  it('a command line longer than 4096 octets ends the session with 421; the server stays healthy', async () => {
    d = await startDaemon();
    const c = await session(d.port);
    await c.read();
    await c.cmd('EHLO me');
    const r = await c.cmd(`MAIL FROM:<${'a'.repeat(5000)}@b.c>`);
    expect([421, null]).toContain(r?.code ?? null);
    await waitFor(() => c.closed);
    const info = await alertFrom(d.port, '127.0.0.1', 'Problem: after a long line');
    expect(info.response).toMatch(/^250/);
  });
});

describe('AUTH failures', () => {
  it('are slowed down, logged per address without the password, and lock that address out; another address still logs in', async () => {
    const logger = memoryLogger();
    d = await startDaemon({ smtp: { auth: { users: { zabbix: 's3cret' }, failureDelay: '10ms', maxFailures: 5, lockout: '10m' } } }, { logger });
    const c = await session(d.port);
    await c.read();
    await c.cmd('EHLO guesser');
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await c.cmd(`AUTH PLAIN ${Buffer.from(`\0zabbix\0guess-${i}-Pw`).toString('base64')}`))!.code);
    expect(codes).toEqual([535, 535, 535, 535, 454]);
    // Locked: even the right password is refused now, on this connection and on a new one.
    const good = Buffer.from('\0zabbix\0s3cret').toString('base64');
    expect((await c.cmd(`AUTH PLAIN ${good}`))!.code).toBe(454);
    const c2 = await session(d.port);
    await c2.read();
    await c2.cmd('EHLO again');
    const locked = (await c2.cmd(`AUTH PLAIN ${good}`))!;
    expect(locked.code).toBe(454);
    expect(locked.text).toMatch(/try again in \d+ s/);
    // Another address is not affected.
    const info = await alertFrom(d.port, '127.0.0.2', 'Problem: authenticated from elsewhere', { user: 'zabbix', pass: 's3cret' });
    expect(info.response).toMatch(/^250/);

    const failed = logger.lines.filter((l) => l.includes('smtp.auth_failed'));
    expect(failed).toHaveLength(5);
    const delays = failed.map((l) => Number(/delayMs=(\d+)/.exec(l)![1]));
    expect(delays).toEqual([10, 20, 40, 80, 160]);
    expect(failed.map((l) => Number(/failures=(\d+)/.exec(l)![1]))).toEqual([1, 2, 3, 4, 5]);
    expect(logger.lines.filter((l) => l.includes('smtp.auth_locked'))).toHaveLength(1);
    expect(logger.lines.some((l) => l.includes('Pw') || l.includes('s3cret'))).toBe(false);
  });

  it('an unknown user name is not logged (it may be a password typed in the wrong field)', async () => {
    const logger = memoryLogger();
    d = await startDaemon({ smtp: { auth: { users: { zabbix: 's3cret' }, failureDelay: '1ms' } } }, { logger });
    const c = await session(d.port);
    await c.read();
    await c.cmd('EHLO me');
    expect((await c.cmd(`AUTH PLAIN ${Buffer.from('\0hunter2-secret\0x').toString('base64')}`))!.code).toBe(535);
    const line = logger.lines.find((l) => l.includes('smtp.auth_failed'))!;
    expect(line).toContain('user="(unknown)"');
    expect(logger.lines.some((l) => l.includes('hunter2'))).toBe(false);
  });
});

describe('with smtp.tls, AUTH only after STARTTLS', () => {
  const tmp = tempDir();
  const key = join(tmp.dir, 'key.pem');
  const cert = join(tmp.dir, 'cert.pem');
  beforeAll(() => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=alertline.test'], { stdio: 'ignore' });
  });
  afterAll(() => tmp.cleanup());

  it('EHLO before STARTTLS offers no AUTH and AUTH is refused; after STARTTLS it is offered and works', async () => {
    d = await startDaemon({ smtp: { tls: { key, cert }, auth: { users: { zabbix: 'pw' } } } });
    const c = await session(d.port);
    await c.read();
    const before = (await c.cmd('EHLO me'))!;
    expect(before.lines.some((l) => l.includes('STARTTLS'))).toBe(true);
    expect(before.lines.some((l) => /AUTH/i.test(l))).toBe(false);
    const early = (await c.cmd(`AUTH PLAIN ${Buffer.from('\0zabbix\0pw').toString('base64')}`))!;
    expect(early.code).toBeGreaterThanOrEqual(500);
    expect((await c.cmd('STARTTLS'))!.code).toBe(220);
    await c.starttls();
    const after = (await c.cmd('EHLO me'))!;
    expect(after.lines.some((l) => /AUTH PLAIN LOGIN/.test(l))).toBe(true);
    expect((await c.cmd(`AUTH PLAIN ${Buffer.from('\0zabbix\0pw').toString('base64')}`))!.code).toBe(235);
    expect((await c.cmd('MAIL FROM:<a@b.c>'))!.code).toBe(250);
  });

  it('auth required: MAIL in clear is told to STARTTLS; nodemailer (which trusts the advertisement) authenticates over TLS', async () => {
    d = await startDaemon({ smtp: { tls: { key, cert }, auth: { required: true, users: { zabbix: 'pw' } } } });
    const c = await session(d.port);
    await c.read();
    await c.cmd('EHLO me');
    const mail = (await c.cmd('MAIL FROM:<a@b.c>'))!;
    expect(mail.code).toBe(530);
    expect(mail.text).toMatch(/STARTTLS/);
    const info = await alertFrom(d.port, '127.0.0.1', 'Problem: over TLS only', { user: 'zabbix', pass: 'pw' });
    expect(info.response).toMatch(/^250/);
  });

  it('smtp.auth.allowInsecure: AUTH offered and accepted before STARTTLS', async () => {
    d = await startDaemon({ smtp: { tls: { key, cert }, auth: { users: { zabbix: 'pw' }, allowInsecure: true } } });
    const c = await session(d.port);
    await c.read();
    const ehlo = (await c.cmd('EHLO me'))!;
    expect(ehlo.lines.some((l) => /AUTH PLAIN LOGIN/.test(l))).toBe(true);
    expect((await c.cmd(`AUTH PLAIN ${Buffer.from('\0zabbix\0pw').toString('base64')}`))!.code).toBe(235);
  });
});
