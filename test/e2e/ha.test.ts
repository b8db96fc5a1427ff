/**
 * High availability: two real daemons (`alertline run` subprocesses) on loopback sharing one
 * throwaway PostgreSQL 15 cluster. Every node accepts mail; a node killed with SIGKILL loses
 * nothing it answered 250 to, and the other node takes its deliveries over once their leases
 * run out; two nodes given the same mail at once page each person once; a call cut by a dead
 * node is made again by the other node, once; an SMS "ack" arriving at the node with the modem
 * hangs up the call the other node is making; gsm/sms steps run only where the modem is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { cli, freePort, spawnDaemon, waitForPort } from '../helpers/cli.js';
import { fixture, startSink, tempDir, waitFor } from '../helpers/env.js';
import { floodClient, sendRaw } from '../helpers/smtp-client.js';
import { startPg, type PgCluster } from '../helpers/pg.js';
import { freePort as freeUdpPort, startSipp } from '../channels/voip/sipp/helpers.js';
import { Sim900Simulator } from '../channels/gsm/sim900-simulator.js';
import { PLAY_SCRIPT } from '../channels/gsm/helpers.js';

let cluster: PgCluster;
beforeAll(async () => { cluster = await startPg(); }, 60_000);
afterAll(async () => { await cluster?.stop(); });

type Daemon = ReturnType<typeof spawnDaemon>;

/** A node's config: its own dataDir and ports, the shared database, short leases so tests are quick. */
function nodeConfig(dir: string, name: string, url: string, smtpPort: number, channels: string[]): string {
  mkdirSync(join(dir, name), { recursive: true });
  const conf = join(dir, name, 'c.yaml');
  writeFileSync(conf, [
    `dataDir: ${join(dir, name, 'data')}`, `audioCacheDir: ${join(dir, name, 'audio')}`, 'logLevel: info',
    `smtp: { port: ${smtpPort} }`, 'http: { port: 0 }',
    `store: { engine: postgres, url: "${url}" }`,
    `node: { name: ${name}, lease: 3s, downAfter: 5s }`,
    ...channels,
  ].join('\n'));
  return conf;
}

async function query<T>(url: string, sql: string, args: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, args)).rows as T[];
  } finally {
    await c.end();
  }
}

const subjectOf = (raw: Buffer) => /Subject: (.*)\r\n/.exec(raw.toString())?.[1];

function kill(d: Daemon | null, sig: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!d || d.exitCode !== null || d.signalCode !== null) return Promise.resolve();
  return new Promise((r) => { d.once('exit', () => r()); d.kill(sig); });
}

describe('two nodes on one PostgreSQL', () => {
  it('a flood split across both, kill -9 of one mid-flood: every 250 is stored and delivered, once per person (a mail cut mid-send once more)', async () => {
    const tmp = tempDir('alertline-ha-');
    const url = await cluster.createDb();
    const sink = await startSink({ delayMs: 20 });
    const mail = [`filter: { dedupeWindow: 0s, maxPending: 100000 }`,
      `channels: { order: [mail], mail: { enabled: true, host: 127.0.0.1, port: ${sink.port}, requireTLS: false, retries: 5, retryBackoff: 200ms } }`];
    const [pa, pb] = [await freePort(), await freePort()];
    const ca = nodeConfig(tmp.dir, 'node-a', url, pa, mail);
    const cb = nodeConfig(tmp.dir, 'node-b', url, pb, mail);
    expect(cli(['--config', ca, 'users', 'add', 'oncall@alerts.example']).code).toBe(0);
    expect(cli(['--config', ca, 'users', 'add', 'admin@alerts.example', '--group', 'admins']).code).toBe(0);
    let a: Daemon | null = spawnDaemon(ca);
    let b: Daemon | null = spawnDaemon(cb);
    try {
      await waitForPort(pa);
      await waitForPort(pb);
      const accepted = new Set<string>();
      const stop = { now: false };
      const flood = Promise.all([
        ...Array.from({ length: 4 }, (_, i) => floodClient(pa, `a${i}`, accepted, stop, 'ha')),
        ...Array.from({ length: 4 }, (_, i) => floodClient(pb, `b${i}`, accepted, stop, 'ha')),
      ]);
      await waitFor(() => [...accepted].filter((s) => s.includes(' a')).length >= 60 && sink.messages.length >= 20, 60_000, 5);
      await kill(a);
      a = null;
      await new Promise((r) => setTimeout(r, 300)); // node b goes on accepting meanwhile
      stop.now = true;
      await flood;
      expect([...accepted].some((s) => s.includes(' b'))).toBe(true);

      // Every 250'd message is in the database at once (committed before the answer).
      const stored = new Set((await query<{ subject: string }>(url, 'SELECT subject FROM alerts')).map((r) => r.subject));
      expect([...accepted].filter((s) => !stored.has(s))).toEqual([]);

      // Node b delivers everything, node a's unfinished work included once its leases run out.
      await waitFor(() => {
        const relayed = new Set(sink.messages.map((m) => subjectOf(m.raw)));
        return [...accepted].every((s) => relayed.has(s));
      }, 90_000, 100);
      await waitFor(async () => (await query<{ n: number }>(url, `SELECT count(*)::int n FROM deliveries WHERE state IN ('queued','running')`))[0]!.n === 0, 30_000, 100);
      const counts = new Map<string, number>();
      for (const m of sink.messages) counts.set(subjectOf(m.raw)!, (counts.get(subjectOf(m.raw)!) ?? 0) + 1);
      const interrupted = new Set((await query<{ subject: string }>(url, `SELECT a.subject FROM attempts t JOIN alerts a ON a.id = t.alert_id WHERE t.outcome = 'interrupted'`)).map((r) => r.subject));
      // Once each; twice only for a mail node a was sending when it died (its attempt is marked interrupted).
      const wrong = [...accepted].filter((s) => counts.get(s) !== 1 && !(counts.get(s) === 2 && interrupted.has(s)));
      expect(wrong).toEqual([]);
      expect((await query<{ n: number }>(url, `SELECT count(*)::int n FROM attempts WHERE ended_at IS NULL`))[0]!.n).toBe(0);
      // Each person was told once per alert in the store's own record too.
      expect(await query(url, `SELECT alert_id FROM attempts WHERE outcome = 'delivered' GROUP BY alert_id HAVING count(*) > 1`)).toEqual([]);
      // Node a's running steps were taken over by node b after their leases ran out.
      if (interrupted.size) {
        const reasons = await query<{ reason: string }>(url, `SELECT reason FROM attempts WHERE outcome = 'interrupted'`);
        expect(reasons.every((r) => /node node-a .*taken over by node-b/.test(r.reason))).toBe(true);
      }
      // status lists both nodes; node a is down, and node b raised a self-alarm about it.
      const st = await waitFor(() => {
        const j = JSON.parse(cli(['--config', cb, 'status', '--json']).stdout);
        return j.nodes?.find((n: { name: string; up: boolean }) => n.name === 'node-a' && !n.up) ? j : null;
      }, 30_000, 500); // node.downAfter (5 s) after its last heartbeat
      expect(st.nodes.map((n: { name: string; up: boolean }) => [n.name, n.up])).toEqual([['node-a', false], ['node-b', true]]);
      expect(st.nodes[1].channels.mail.healthy).toBe(true);
      await waitFor(async () => (await query(url, `SELECT 1 FROM alerts WHERE problem_key = 'self:node-down:node-a'`)).length > 0, 30_000, 200);
    } finally {
      await kill(a);
      await kill(b);
      await sink.close();
      tmp.cleanup();
    }
  }, 180_000);

  it('the same mail given to both nodes at once is one page per person', async () => {
    const tmp = tempDir('alertline-ha-');
    const url = await cluster.createDb();
    const sink = await startSink();
    const mail = [`channels: { order: [mail], mail: { enabled: true, host: 127.0.0.1, port: ${sink.port}, requireTLS: false } }`];
    const [pa, pb] = [await freePort(), await freePort()];
    const ca = nodeConfig(tmp.dir, 'node-a', url, pa, mail);
    const cb = nodeConfig(tmp.dir, 'node-b', url, pb, mail);
    expect(cli(['--config', ca, 'users', 'add', 'ana@alerts.example', '--group', 'noc']).code).toBe(0);
    expect(cli(['--config', ca, 'users', 'add', 'beto@alerts.example', '--group', 'noc']).code).toBe(0);
    const a = spawnDaemon(ca);
    const b = spawnDaemon(cb);
    try {
      await waitForPort(pa);
      await waitForPort(pb);
      const N = 12;
      for (let i = 0; i < N; i++) {
        // Zabbix sends one mail per recipient: both nodes get the same two mails at the same moment.
        const data = `From: zabbix@monitor.example\r\nSubject: Problem: twin ${i}\r\n\r\nHost: db${i}\r\nSeverity: High\r\nOriginal problem ID: ${9000 + i}\r\n`;
        const sends = [pa, pb].flatMap((p) => ['ana@alerts.example', 'beto@alerts.example'].map((to) => sendRaw(p, { to: [to], data })));
        for (const r of await Promise.all(sends)) expect(r.final!.code).toBe(250);
      }
      await waitFor(async () => (await query<{ n: number }>(url, `SELECT count(*)::int n FROM deliveries WHERE state IN ('queued','running')`))[0]!.n === 0 && sink.messages.length >= 2 * N, 60_000, 100);
      await new Promise((r) => setTimeout(r, 1500)); // nothing more comes
      const per = new Map<string, number>();
      for (const m of sink.messages) {
        const key = `${subjectOf(m.raw)} → ${m.to.join(',')}`;
        per.set(key, (per.get(key) ?? 0) + 1);
      }
      expect(per.size).toBe(2 * N);
      expect([...per.entries()].filter(([, n]) => n !== 1)).toEqual([]);
      const sent = await query<{ n: number }>(url, `SELECT count(*)::int n FROM deliveries WHERE state NOT IN ('suppressed','ignored','cancelled')`);
      expect(sent[0]!.n).toBe(2 * N);
    } finally {
      await kill(a);
      await kill(b);
      await sink.close();
      tmp.cleanup();
    }
  }, 120_000);

  it('kill -9 of the node running a call: the other node calls again after the lease runs out, once', async () => {
    const tmp = tempDir('alertline-ha-');
    const url = await cluster.createDb();
    const sipPort = await freeUdpPort();
    const [pa, pb] = [await freePort(), await freePort()];
    const voip = (rtp: string) => [`voice: { repeat: 3 }`, `channels:`, `  order: [voip]`,
      `  voip: { enabled: true, server: "127.0.0.1:${sipPort}", domain: alertline.test, register: false, localAddress: 127.0.0.1, localPort: 0, rtpPorts: ${rtp} }`];
    const ca = nodeConfig(tmp.dir, 'node-a', url, pa, voip('42000-42499'));
    const cb = nodeConfig(tmp.dir, 'node-b', url, pb, voip('42500-42999'));
    expect(cli(['--config', ca, 'users', 'add', 'oncall@alerts.example', '--sip', '201']).code).toBe(0);
    let phone = await startSipp('answer-no-key.xml', { port: sipPort, dir: import.meta.dirname, timeoutS: 60 });
    const nodes: Record<string, Daemon> = { 'node-a': spawnDaemon(ca), 'node-b': spawnDaemon(cb) };
    try {
      await waitForPort(pa);
      await waitForPort(pb);
      const r = await sendRaw(pa, { to: ['oncall@alerts.example'], data: fixture('zabbix-problem.eml') });
      expect(r.final!.code).toBe(250);
      // Whichever node took the delivery is the one calling.
      const caller = await waitFor(async () => (await query<{ node: string }>(url, `SELECT node FROM attempts WHERE channel = 'voip' AND ended_at IS NULL`))[0]?.node, 30_000, 50);
      const other = caller === 'node-a' ? 'node-b' : 'node-a';
      await new Promise((res) => setTimeout(res, 1500)); // answered, speaking
      const killedAt = Date.now();
      await kill(nodes[caller]!);
      // The phone line is free again for the retry (the dead node never sent BYE).
      await phone.kill();
      phone = await startSipp('answer-press-1.xml', { port: sipPort, dir: import.meta.dirname, timeoutS: 60 });
      const retried = await waitFor(async () => (await query<{ node: string; started_at: number }>(url, `SELECT node, started_at FROM attempts WHERE channel = 'voip' AND node = $1`, [other]))[0], 40_000, 50);
      expect(retried.started_at - killedAt).toBeGreaterThanOrEqual(1500); // not before the lease (3 s, renewed to the end) ran out
      const sipp = await phone.done; // the retried call was answered and acknowledged with key 1
      expect(sipp.code, sipp.output).toBe(0);
      await waitFor(async () => (await query<{ state: string }>(url, 'SELECT state FROM alerts'))[0]?.state === 'acknowledged', 20_000, 100);
      await new Promise((res) => setTimeout(res, 2000)); // and nobody calls a third time
      const attempts = await query<{ node: string; outcome: string }>(url, `SELECT node, outcome FROM attempts WHERE channel = 'voip' ORDER BY id`);
      expect(attempts).toEqual([{ node: caller, outcome: 'interrupted' }, { node: other, outcome: 'acknowledged' }]);
    } finally {
      for (const d of Object.values(nodes)) await kill(d);
      await phone.kill();
      tmp.cleanup();
    }
  }, 150_000);

  it('an acknowledgement committed at one node stops the call another node is making', async () => {
    const tmp = tempDir('alertline-ha-');
    const url = await cluster.createDb();
    const sipPort = await freeUdpPort();
    const [pa, pb] = [await freePort(), await freePort()];
    const voip = (rtp: string) => [`voice: { repeat: 5 }`, `channels:`, `  order: [voip]`,
      `  voip: { enabled: true, server: "127.0.0.1:${sipPort}", domain: alertline.test, register: false, localAddress: 127.0.0.1, localPort: 0, rtpPorts: ${rtp} }`];
    const confs: Record<string, string> = {
      'node-a': nodeConfig(tmp.dir, 'node-a', url, pa, voip('43000-43499')),
      'node-b': nodeConfig(tmp.dir, 'node-b', url, pb, voip('43500-43999')),
    };
    expect(cli(['--config', confs['node-a']!, 'users', 'add', 'oncall@alerts.example', '--sip', '201']).code).toBe(0);
    const phone = await startSipp('answer-no-key.xml', { port: sipPort, dir: import.meta.dirname, timeoutS: 60 });
    const nodes = [spawnDaemon(confs['node-a']!), spawnDaemon(confs['node-b']!)];
    try {
      await waitForPort(pa);
      await waitForPort(pb);
      expect((await sendRaw(pa, { to: ['oncall@alerts.example'], data: fixture('zabbix-problem.eml') })).final!.code).toBe(250);
      const call = await waitFor(async () => (await query<{ node: string; alert_id: number }>(url, `SELECT node, alert_id FROM attempts WHERE channel = 'voip' AND ended_at IS NULL`))[0], 30_000, 50);
      const other = call.node === 'node-a' ? 'node-b' : 'node-a';
      await new Promise((res) => setTimeout(res, 1500)); // answered, speaking
      // The acknowledgement goes in through the other node's configuration (as an SMS reply there would).
      const ack = cli(['--config', confs[other]!, 'ack', String(call.alert_id)]);
      expect(ack.code, ack.stderr).toBe(0);
      const sipp = await phone.done; // the calling node hung up: sipp got its BYE
      expect(sipp.code, sipp.output).toBe(0);
      const [att] = await query<{ node: string; ended_at: number | null }>(url, `SELECT node, ended_at FROM attempts WHERE channel = 'voip'`);
      expect(att!.node).toBe(call.node);
      expect(att!.ended_at).not.toBeNull();
      expect((await query<{ state: string }>(url, 'SELECT state FROM deliveries'))[0]!.state).toBe('acknowledged');
      expect((await query<{ n: number }>(url, `SELECT count(*)::int n FROM attempts`))[0]!.n).toBe(1);
    } finally {
      for (const d of nodes) await kill(d);
      await phone.kill();
      tmp.cleanup();
    }
  }, 120_000);

  it('an SMS "ack" at the node with the modem hangs up the call the other node is making; gsm and sms run only where the modem is', async () => {
    const tmp = tempDir('alertline-ha-');
    const url = await cluster.createDb();
    const ANA = '+34600111222';
    // Node a: the SIM900 (simulator on a socat pty) for gsm and sms, no voip. Node b: voip only.
    const sim = await Sim900Simulator.create({ cmgsDelayMs: 30, calls: { [ANA]: { result: 'answer', afterMs: 300, hangupAfterMs: 800 } } });
    const sipPort = await freeUdpPort();
    const [pa, pb] = [await freePort(), await freePort()];
    const order = `  order: [gsm, sms, voip]`;
    const confs: Record<string, string> = {
      'node-a': nodeConfig(tmp.dir, 'node-a', url, pa, ['filter: { dedupeWindow: 0s }', 'voice: { repeat: 1 }', 'channels:', order,
        `  gsm: { enabled: true, port: "${sim.driverPath}", commandTimeout: 2s, ringTimeout: 10s, audioCommand: ["${process.execPath}", "${PLAY_SCRIPT}", "{file}", "${join(sim.dir, 'play.log')}", "500"] }`,
        '  sms: { enabled: true }']),
      // Ten repeats of the message: left alone, the call would run far past this test.
      'node-b': nodeConfig(tmp.dir, 'node-b', url, pb, ['filter: { dedupeWindow: 0s }', 'voice: { repeat: 10 }', 'channels:', order,
        `  voip: { enabled: true, server: "127.0.0.1:${sipPort}", domain: alertline.test, register: false, localAddress: 127.0.0.1, localPort: 0, rtpPorts: 44000-44499 }`]),
    };
    expect(cli(['--config', confs['node-a']!, 'users', 'add', 'ana@alerts.example', '--phone', ANA, '--sip', '201']).code).toBe(0);
    const phone = await startSipp('answer-no-key.xml', { port: sipPort, dir: import.meta.dirname, timeoutS: 60 });
    const nodes: Record<string, Daemon> = { 'node-a': spawnDaemon(confs['node-a']!), 'node-b': spawnDaemon(confs['node-b']!) };
    try {
      await waitForPort(pa);
      await waitForPort(pb);
      // Each node's heartbeat row says what it can run: the modem is up on node a, voip on node b.
      const healthy = async () => Object.fromEntries((await query<{ name: string; status: string | { channels: Record<string, { healthy: boolean }> } }>(url, 'SELECT name, status FROM nodes'))
        .map((n) => [n.name, Object.entries((typeof n.status === 'string' ? JSON.parse(n.status) : n.status).channels).filter(([, c]) => (c as { healthy: boolean }).healthy).map(([k]) => k).sort()]));
      await waitFor(async () => {
        const h = await healthy();
        return h['node-a']?.join() === 'gsm,sms' && h['node-b']?.join() === 'voip';
      }, 30_000, 100);

      // The mail goes to node b, which has no modem: the gsm call and the SMS are node a's.
      const r = await sendRaw(pb, { to: ['ana@alerts.example'], data: fixture('zabbix-problem.eml') });
      expect(r.final!.code).toBe(250);
      const id = Number(/alert (\d+)/.exec(r.final!.text)![1]);
      const call = await waitFor(async () => (await query<{ node: string }>(url, `SELECT node FROM attempts WHERE channel = 'voip' AND ended_at IS NULL`))[0], 40_000, 50);
      expect(call.node).toBe('node-b');
      expect(sim.commands.filter((c) => c.startsWith('ATD'))).toEqual([`ATD${ANA};`]);
      expect(sim.sent.map((m) => m.to)).toEqual([ANA]);
      expect(sim.sent[0]!.text).toContain(`#${id}`);
      await waitFor(() => /voip\.answered/.test(nodes['node-b']!.output()), 20_000, 20); // answered, speaking

      // Ana texts "ack" to the modem on node a while node b's call is up.
      const smsAt = Date.now();
      sim.receiveSms(ANA, 'ack');
      const sipp = await phone.done; // node b hung up: sipp got its BYE
      const byeMs = Date.now() - smsAt;
      expect(sipp.code, sipp.output).toBe(0);
      console.log(`SMS ack at node a → BYE from node b: ${byeMs} ms`);
      expect(await query(url, 'SELECT state, ack_by, ack_via FROM alerts WHERE id = $1', [id])).toEqual([{ state: 'acknowledged', ack_by: 'ana@alerts.example', ack_via: 'sms-reply' }]);
      // Ana is told by SMS (from node a) that it worked.
      await waitFor(() => sim.sent.some((m) => m.to === ANA && m.text.includes(`alert ${id} acknowledged`)), 15_000, 50);
      await waitFor(async () => (await query(url, 'SELECT 1 FROM attempts WHERE ended_at IS NULL')).length === 0, 10_000, 50);

      // Affinity: every gsm and sms step ran on node a, the call on node b, nothing more.
      // The call was cut by the acknowledgement, not played out.
      const attempts = await query<{ node: string; channel: string; outcome: string; reason: string }>(url, `SELECT node, channel, outcome, reason FROM attempts WHERE alert_id = $1 ORDER BY id`, [id]);
      expect(attempts.map((a) => `${a.node}:${a.channel}:${a.outcome}`)).toEqual(['node-a:gsm:answered', 'node-a:sms:delivered', 'node-b:voip:answered']);
      expect(attempts[2]!.reason).toBe('aborted during the call');
      expect((await query<{ n: number }>(url, `SELECT count(*)::int n FROM attempts WHERE node = 'node-b' AND channel IN ('gsm', 'sms')`))[0]!.n).toBe(0);
      expect((await query<{ state: string }>(url, 'SELECT state FROM deliveries WHERE alert_id = $1', [id]))[0]!.state).toBe('acknowledged');
    } finally {
      for (const d of Object.values(nodes)) await kill(d);
      await phone.kill();
      await sim.close();
      tmp.cleanup();
    }
  }, 90_000);
});
