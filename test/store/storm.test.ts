/**
 * A small storm, checked for correctness rather than speed (bench/storm prints the figures):
 * 600 alert mails over 12 concurrent SMTP sessions to 6 people with a scripted voice channel.
 * Every 250 is stored; nobody gets two calls at once; a call announces the person's other open
 * alerts; acknowledging by key works through the flood; the database is sound afterwards.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, waitFor } from '../helpers/env.js';
import { RawSmtp, dotStuff } from '../helpers/smtp-client.js';
import { FakeChannel } from '../helpers/fake-channel.js';
import type { Outcome } from '../../src/channels/channel.js';

const PEOPLE = 6;
const MAILS = 600;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

describe('storm', () => {
  it('600 alerts to 6 people: all stored, one call at a time per person, calls announce the other open alerts', async () => {
    const active = new Map<string, number>();
    let overlap = 0;
    const voice = new FakeChannel('voip', async (job) => {
      const n = (active.get(job.recipient.email) ?? 0) + 1;
      active.set(job.recipient.email, n);
      if (n > 1) overlap++;
      await new Promise((r) => setTimeout(r, 20));
      active.set(job.recipient.email, n - 1);
      return { kind: 'acknowledged', reason: 'key 1', retryable: false } satisfies Outcome;
    }, { capacity: 4 });
    const users = Array.from({ length: PEOPLE }, (_, i) => [`p${i}@alerts.example`, { sip: String(300 + i) }] as [string, Record<string, string>]);
    const d = await startDaemon({ filter: { dedupeWindow: '0s' }, channels: { order: ['voip'], voip: { enabled: true } } }, { factories: { voip: async () => voice }, users });
    cleanups.push(() => d.stop());

    const accepted: number[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: 12 }, async () => {
      const c = await RawSmtp.connect(d.port);
      await c.read();
      await c.cmd('EHLO storm');
      for (let k = next++; k < MAILS; k = next++) {
        expect((await c.cmd('MAIL FROM:<zabbix@monitor.example>'))?.code).toBe(250);
        expect((await c.cmd(`RCPT TO:<p${k % PEOPLE}@alerts.example>`))?.code).toBe(250);
        expect((await c.cmd('DATA'))?.code).toBe(354);
        c.write(Buffer.concat([dotStuff(Buffer.from(`From: zabbix@monitor.example\r\nSubject: Problem: storm ${k} on host-${k}\r\n\r\nHost: host-${k}\r\nSeverity: High\r\n`)), Buffer.from('.\r\n')]));
        const r = await c.read(15_000);
        expect(r?.code).toBe(250);
        accepted.push(k);
      }
      await c.cmd('QUIT');
      c.close();
    }));
    expect(accepted).toHaveLength(MAILS);
    await waitFor(() => voice.jobs.length >= 3 * PEOPLE, 20_000);

    const db = d.daemon.stores.db;
    const subjects = new Set((db.prepare(`SELECT subject FROM alerts`).all() as { subject: string }[]).map((r) => r.subject));
    expect(accepted.filter((k) => !subjects.has(`Problem: storm ${k} on host-${k}`))).toEqual([]);
    expect(overlap).toBe(0);
    // Everyone was called, and the calls told them how many more alerts wait for them.
    expect(new Set(voice.jobs.map((j) => j.recipient.email)).size).toBe(PEOPLE);
    const maxMore = Math.max(...voice.jobs.map((j) => j.moreAlerts));
    expect(maxMore).toBeGreaterThan(0);
    expect(maxMore).toBeLessThan(MAILS / PEOPLE);
    // Keys pressed during the flood acknowledged those alerts; nothing else was lost on the way.
    const acked = (db.prepare(`SELECT count(*) n FROM alerts WHERE state = 'acknowledged'`).get() as { n: number }).n;
    expect(acked).toBeGreaterThan(0);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  }, 90_000);
});
