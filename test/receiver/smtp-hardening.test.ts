/** Hostile SMTP sessions over real sockets (issue 19 items 4, 8, 9; issue 11 item 7). */
import { afterEach, describe, expect, it } from 'vitest';
import { RawSmtp } from '../helpers/smtp-client.js';
import { startDaemon } from '../helpers/env.js';

type D = Awaited<ReturnType<typeof startDaemon>>;
let d: D | null = null;
const open: RawSmtp[] = [];
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

function deliveredTo(id: number): string[] {
  return d!.daemon.stores.alerts.deliveries(id).map((x) => x.user_email).sort();
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
    expect(deliveredTo(alertId(r.text))).toEqual(['oncall@alerts.example']);
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
      expect(deliveredTo(alertId(r.text))).toEqual(['oncall@alerts.example']);
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
    expect(deliveredTo(alertId(r.text))).toEqual(['oncall@alerts.example']);
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
    expect(deliveredTo(alertId(r.text))).toEqual(['oncall@alerts.example']);
  });
});
