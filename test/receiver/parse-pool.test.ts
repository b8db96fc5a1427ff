/**
 * The parse pool (src/receiver/parse-pool): real worker threads running the worker bundled from
 * its TypeScript source. Results must be exactly inline parsing's; a worker killed by hostile MIME
 * (here: out of its heap limit) costs only the mail it was parsing, which gets 451 over SMTP.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildSync } from 'esbuild';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inlineParse, ParsePool, ParseTempFail, parseWorkerCount } from '../../src/receiver/parse-pool/pool.js';
import { systemClock } from '../../src/util/clock.js';
import { fixture, fixtureNames, startDaemon } from '../helpers/env.js';
import { sendRaw } from '../helpers/smtp-client.js';
import type { Logger } from '../../src/util/log.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Inside the checkout so the bundle's imports of mailparser & co. resolve from node_modules.
const DIR = join(ROOT, 'node_modules/.cache', `alertline-parse-worker-${process.pid}`);
const SCRIPT = join(DIR, 'worker.mjs');
/** Tight enough that the hostile mail below exhausts it, loose enough for every real fixture. */
const LIMITS = { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 };

beforeAll(() => {
  mkdirSync(DIR, { recursive: true });
  buildSync({
    entryPoints: [join(ROOT, 'src/receiver/parse-pool/worker.ts')],
    bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node20', outfile: SCRIPT, logLevel: 'silent',
  });
});
afterAll(() => rmSync(DIR, { recursive: true, force: true }));

function recordingLogger(lines: { event: string; fields: Record<string, unknown> }[]): Logger {
  const log = (event: string, fields: Record<string, unknown> = {}) => void lines.push({ event, fields });
  const l: Logger = { debug: log, info: log, warn: log, error: log, child: () => l };
  return l;
}

/** A mail whose 30 MB base64 attachment does not fit the worker's heap: the worker dies mid-parse. */
function hostileMail(): Buffer {
  const line = 'QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n';
  return Buffer.from(
    'From: attacker@monitor.example\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n' +
    '--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
    line.repeat(400_000) + '--x--\r\n',
  );
}

let pool: ParsePool | null = null;
afterEach(async () => {
  await pool?.close();
  pool = null;
});

describe('parse pool', () => {
  it('gives exactly what inline parsing gives, and the same bytes back, for every fixture', async () => {
    pool = new ParsePool({ size: 2, script: SCRIPT, clock: systemClock, logger: recordingLogger([]), resourceLimits: LIMITS });
    const names = fixtureNames();
    expect(names.length).toBeGreaterThan(30);
    const pooled = await Promise.all(names.map((n) => pool!.parse(fixture(n))));
    for (const [i, n] of names.entries()) {
      const inline = await inlineParse(fixture(n));
      expect(pooled[i]!.parsed, n).toStrictEqual(inline.parsed);
      expect(pooled[i]!.raw.equals(fixture(n)), n).toBe(true);
    }
  });

  it('a mail that kills its worker fails alone (temporarily); the others parse, and a new worker takes over', async () => {
    const lines: { event: string; fields: Record<string, unknown> }[] = [];
    pool = new ParsePool({ size: 1, script: SCRIPT, clock: systemClock, logger: recordingLogger(lines), resourceLimits: LIMITS });
    const others = ['zabbix-problem.eml', 'grafana-firing.eml', 'nagios-problem.eml', 'alertmanager-firing.eml'];
    // One worker, all five in flight in it together: the good mails must survive its death.
    const results = await Promise.allSettled([pool.parse(hostileMail()), ...others.map((n) => pool!.parse(fixture(n)))]);
    expect(results[0]!.status).toBe('rejected');
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(ParseTempFail);
    for (const [i, n] of others.entries()) {
      const r = results[i + 1]!;
      expect(r.status, n).toBe('fulfilled');
      expect((r as PromiseFulfilledResult<Awaited<ReturnType<ParsePool['parse']>>>).value.parsed).toStrictEqual((await inlineParse(fixture(n))).parsed);
    }
    expect(lines.find((l) => l.event === 'smtp.parse_worker_failed')?.fields.reason).toMatch(/memory limit/);
    // The next mail starts a new worker.
    expect((await pool.parse(fixture('zabbix-resolved.eml'))).parsed).toStrictEqual((await inlineParse(fixture('zabbix-resolved.eml'))).parsed);
    expect(pool.workers).toBe(1);
  });

  it('a parse that overruns timeoutMs stops its worker and defers the mail', async () => {
    const lines: { event: string; fields: Record<string, unknown> }[] = [];
    pool = new ParsePool({ size: 1, script: SCRIPT, clock: systemClock, logger: recordingLogger(lines), resourceLimits: LIMITS, timeoutMs: 1 });
    // timeoutMs 1: any real parse overruns it, so the worker is stopped and the mail deferred.
    const r = await pool.parse(fixture('zabbix-problem.eml')).then(() => null, (e: Error) => e);
    expect(r).toBeInstanceOf(ParseTempFail);
    expect(r!.message).toMatch(/longer than 1 ms/);
  });

  it('auto is one worker with two cores or more, none on one core; a number is taken as it is', () => {
    expect(parseWorkerCount('auto', 1)).toBe(0);
    expect(parseWorkerCount('auto', 2)).toBe(1);
    expect(parseWorkerCount('auto', 4)).toBe(1);
    expect(parseWorkerCount(0, 4)).toBe(0);
    expect(parseWorkerCount(5, 4)).toBe(5);
  });
});

describe('SMTP receiver with parse workers', () => {
  let d: Awaited<ReturnType<typeof startDaemon>> | null = null;
  afterEach(async () => {
    await d?.stop();
    d = null;
  });

  it('answers 451 for the mail that killed a worker and 250 for the mails around it, all stored', async () => {
    d = await startDaemon({ smtp: { parseWorkers: 1, maxMessageSize: '64MB' } }, { parsePool: { script: SCRIPT, resourceLimits: LIMITS } });
    const good = ['zabbix-problem.eml', 'grafana-firing.eml', 'nagios-problem.eml'];
    const [bad, ...rest] = await Promise.all([
      sendRaw(d.port, { to: ['oncall@alerts.example'], data: hostileMail() }),
      ...good.map((n) => sendRaw(d!.port, { to: ['oncall@alerts.example'], data: fixture(n) })),
    ]);
    expect(bad.final?.code).toBe(451);
    for (const [i, r] of rest.entries()) expect(r.final?.code, good[i]).toBe(250);
    const after = await sendRaw(d.port, { to: ['oncall@alerts.example'], data: fixture('zabbix-resolved.eml') });
    expect(after.final?.code).toBe(250);
    const subjects = (await d.daemon.stores.alerts.list(10)).map((a) => a.subject);
    expect(subjects).toHaveLength(4);
    expect(subjects).not.toContain('big');
    const id = Number(/alert (\d+)/.exec(rest[0]!.final!.text)![1]);
    const sent = fixture('zabbix-problem.eml');
    const stored = sent.toString('latin1').endsWith('\r\n') ? sent : Buffer.concat([sent, Buffer.from('\r\n')]);
    expect((await d.daemon.stores.alerts.raw(id))!.equals(stored)).toBe(true);
  });
});
