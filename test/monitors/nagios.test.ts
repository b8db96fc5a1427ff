/**
 * Nagios Core 4.4 (Debian nagios4) in the foreground with its own nagios.cfg in a temp dir: one
 * host and one service whose check command reads a state file, the package's stock
 * notify-host-by-email / notify-service-by-email commands (printf | /usr/bin/mail, here
 * delivering through msmtp to a real SMTP sink on loopback), state driven through the external
 * command file. A second contact uses the same template plus the $NOTIFICATIONAUTHOR$ /
 * $NOTIFICATIONCOMMENT$ macros, so the acknowledging person can be read when a template has them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAlertMail } from '../../src/receiver/parse-alert.js';
import type { ParsedAlert } from '../../src/core/model.js';
import { Proc, saveFixture, startSink, until, type SinkMessage } from './harness.js';
import { DETAIL, STOCK, startNagios, type Nagios } from './nagios-harness.js';

type Sink = Awaited<ReturnType<typeof startSink>>;

let nag: Nagios;
let sink: Sink;
let nagios: Proc;
const seen = new Map<string, number>(); // recipient → mails consumed


function mailsTo(to: string): SinkMessage[] {
  return sink.messages.filter((m) => m.to.includes(to));
}

/** The next mail to `to` not yet looked at, parsed (saved as a fixture under `name` if asked). */
async function next(to: string, name?: string): Promise<ParsedAlert & { raw: Buffer }> {
  const i = seen.get(to) ?? 0;
  const m = await until(`Nagios mail #${i + 1} to ${to}`, () => mailsTo(to)[i], 20_000, () => `${nagios.output}\n${readLog()}`);
  seen.set(to, i + 1);
  if (name) saveFixture(name, m.raw);
  return { ...(await parseAlertMail(m.raw)), raw: m.raw };
}

const readLog = () => nag.readLog();
const service = (code: number, out: string) => nag.service(code, out);
const command = (c: string) => nag.command(c);
const host = (code: number, out: string) => nag.host(code, out);

/** A stock and a detail mail for the same notification. */
async function both(stockName?: string, detailName?: string) {
  return { stock: await next(STOCK, stockName), detail: await next(DETAIL, detailName) };
}

beforeAll(async () => {
  sink = await startSink();
  nag = await startNagios(sink.port);
  nagios = nag.proc;
}, 30_000);

afterAll(async () => {
  await nag?.stop();
  await sink?.close();
});

const CRIT = 'CRITICAL - Socket timeout after 10 seconds';
const OK = 'HTTP OK: HTTP/1.1 200 OK - 512 bytes in 0.002 second response time';
const WARN = 'HTTP WARNING: HTTP/1.1 200 OK - 1048576 bytes in 3.412 second response time';

describe('Nagios 4.4 e-mail, live', () => {
  it('CRITICAL → OK → CRITICAL → OK: problems and recoveries share one identity', async () => {
    service(2, CRIT);
    const { stock: p1, detail: p1d } = await both('real-nagios44-service-problem.eml');
    expect(p1.subject).toBe('** PROBLEM Service Alert: web01/HTTP is CRITICAL **');
    expect(p1).toMatchObject({ kind: 'problem', monitor: 'nagios', host: 'web01', severity: 'CRITICAL', level: 'critical', problemKey: 'nagios:web01/http' });
    expect(p1.sentence).toBe(`web01/HTTP is CRITICAL: ${CRIT}`);
    expect(p1d.problemKey).toBe(p1.problemKey);

    service(0, OK);
    const { stock: r1 } = await both('real-nagios44-service-recovery.eml');
    expect(r1).toMatchObject({ kind: 'resolved', host: 'web01', severity: 'OK', level: 'info', problemKey: p1.problemKey });
    expect(r1.sentence).toBe(`web01/HTTP is OK: ${OK}`);

    service(2, CRIT);
    const { stock: p2 } = await both('real-nagios44-service-problem-again.eml');
    expect(p2).toMatchObject({ kind: 'problem', level: 'critical', problemKey: p1.problemKey });

    service(0, OK);
    const { stock: r2 } = await both();
    expect(r2).toMatchObject({ kind: 'resolved', problemKey: p1.problemKey });
  }, 60_000);

  it('WARNING → CRITICAL: two problems of rising level; an acknowledgement names its author when the template has it', async () => {
    service(1, WARN);
    const { stock: w } = await both('real-nagios44-service-warning.eml');
    expect(w).toMatchObject({ kind: 'problem', severity: 'WARNING', level: 'warning', problemKey: 'nagios:web01/http' });
    expect(w.sentence).toBe(`web01/HTTP is WARNING: ${WARN}`);

    service(2, CRIT);
    const { stock: c } = await both('real-nagios44-service-critical-after-warning.eml');
    expect(c).toMatchObject({ kind: 'problem', severity: 'CRITICAL', level: 'critical', problemKey: w.problemKey });

    command('ACKNOWLEDGE_SVC_PROBLEM;web01;HTTP;1;1;0;jdoe;Looking into it');
    const { stock: a, detail: ad } = await both('real-nagios44-service-ack.eml', 'real-nagios44-service-ack-author.eml');
    expect(a.subject).toBe('** ACKNOWLEDGEMENT Service Alert: web01/HTTP is CRITICAL **');
    expect(a).toMatchObject({ kind: 'ack', host: 'web01', level: 'critical', problemKey: w.problemKey });
    expect(a.ackBy).toBeUndefined(); // the stock template does not carry $NOTIFICATIONAUTHOR$
    expect(ad).toMatchObject({ kind: 'ack', ackBy: 'jdoe', problemKey: w.problemKey });
    expect(ad.sentence).toBe('web01/HTTP is CRITICAL, acknowledged by jdoe: Looking into it');

    service(0, OK);
    const { stock: r } = await both();
    expect(r).toMatchObject({ kind: 'resolved', problemKey: w.problemKey });
  }, 60_000);

  it('flapping start and stop, scheduled downtime start and end', async () => {
    // Flap detection is off for the other tests (their state changes would count); on now, and
    // alternate until Nagios declares the service flapping (percent state change > 20%).
    command('ENABLE_SVC_FLAP_DETECTION;web01;HTTP');
    const flapStart = async () => mailsTo(STOCK).slice(seen.get(STOCK) ?? 0).find((m) => m.raw.includes('FLAPPINGSTART'));
    for (let i = 0; i < 16 && !(await flapStart()); i++) {
      service(i % 2 === 0 ? 2 : 0, i % 2 === 0 ? CRIT : OK);
      await new Promise((r) => setTimeout(r, 250));
    }
    const fs = await until('FLAPPINGSTART mail', () => mailsTo(STOCK).find((m) => m.raw.includes('Notification Type: FLAPPINGSTART')), 10_000, readLog);
    saveFixture('real-nagios44-service-flapping-start.eml', fs.raw);
    const f1 = await parseAlertMail(fs.raw);
    expect(f1).toMatchObject({ kind: 'problem', problemKey: 'nagios:web01/http', host: 'web01', level: 'warning' });
    expect(f1.sentence).toMatch(/^web01\/HTTP is flapping/);

    // Steady OK until the state change falls under 5%.
    for (let i = 0; i < 30 && !mailsTo(STOCK).some((m) => m.raw.includes('Notification Type: FLAPPINGSTOP')); i++) {
      service(0, OK);
      await new Promise((r) => setTimeout(r, 150));
    }
    const fe = await until('FLAPPINGSTOP mail', () => mailsTo(STOCK).find((m) => m.raw.includes('Notification Type: FLAPPINGSTOP')), 10_000, readLog);
    saveFixture('real-nagios44-service-flapping-stop.eml', fe.raw);
    const f2 = await parseAlertMail(fe.raw);
    expect(f2).toMatchObject({ kind: 'update', problemKey: 'nagios:web01/http' });
    expect(f2.sentence).toMatch(/^web01\/HTTP stopped flapping/);

    const t = Math.floor(Date.now() / 1000);
    command(`SCHEDULE_SVC_DOWNTIME;web01;HTTP;${t};${t + 3};1;0;0;jdoe;Maintenance window`);
    const ds = await until('DOWNTIMESTART mail', () => mailsTo(STOCK).find((m) => m.raw.includes('Notification Type: DOWNTIMESTART')), 10_000, readLog);
    saveFixture('real-nagios44-service-downtime-start.eml', ds.raw);
    expect(await parseAlertMail(ds.raw)).toMatchObject({ kind: 'update', problemKey: 'nagios:web01/http', sentence: 'web01/HTTP entered scheduled downtime' });
    const de = await until('DOWNTIMEEND mail', () => mailsTo(STOCK).find((m) => m.raw.includes('Notification Type: DOWNTIMEEND')), 15_000, readLog);
    saveFixture('real-nagios44-service-downtime-end.eml', de.raw);
    expect(await parseAlertMail(de.raw)).toMatchObject({ kind: 'update', problemKey: 'nagios:web01/http', sentence: 'web01/HTTP left scheduled downtime' });
  }, 90_000);

  it('host DOWN → acknowledged → UP', async () => {
    const base = mailsTo(STOCK).length;
    const hostMail = (type: string) => mailsTo(STOCK).slice(base).find((m) => m.raw.includes(`Notification Type: ${type}`) && m.raw.includes('Host Alert'));
    host(1, 'CRITICAL - Host Unreachable (127.0.0.1)');
    const d = await parseAlertMail((await until('host PROBLEM', () => hostMail('PROBLEM'), 15_000, readLog)).raw);
    saveFixture('real-nagios44-host-down.eml', hostMail('PROBLEM')!.raw);
    expect(d.subject).toBe('** PROBLEM Host Alert: web01 is DOWN **');
    expect(d).toMatchObject({ kind: 'problem', host: 'web01', severity: 'DOWN', level: 'critical', problemKey: 'nagios:web01' });
    expect(d.sentence).toBe('web01 is DOWN: CRITICAL - Host Unreachable (127.0.0.1)');

    command('ACKNOWLEDGE_HOST_PROBLEM;web01;1;1;0;jdoe;Power supply replaced');
    const a = await parseAlertMail((await until('host ACKNOWLEDGEMENT', () => hostMail('ACKNOWLEDGEMENT'), 15_000, readLog)).raw);
    saveFixture('real-nagios44-host-ack.eml', hostMail('ACKNOWLEDGEMENT')!.raw);
    expect(a).toMatchObject({ kind: 'ack', problemKey: 'nagios:web01', level: 'critical' });

    host(0, 'PING OK - Packet loss = 0%, RTA = 0.05 ms');
    const u = await parseAlertMail((await until('host RECOVERY', () => hostMail('RECOVERY'), 15_000, readLog)).raw);
    saveFixture('real-nagios44-host-up.eml', hostMail('RECOVERY')!.raw);
    expect(u).toMatchObject({ kind: 'resolved', problemKey: 'nagios:web01', severity: 'UP', level: 'info' });
  }, 60_000);
});
