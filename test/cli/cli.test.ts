/** The CLI as a user runs it: a subprocess against a temp data dir. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { cli, freePort, spawnDaemon, waitForPort } from '../helpers/cli.js';
import { fixture, startSink, tempDir, waitFor } from '../helpers/env.js';
import { sendRaw } from '../helpers/smtp-client.js';

const tmp = tempDir();
const conf = join(tmp.dir, 'alertline.yaml');
const run = (...args: string[]) => cli(['--config', conf, ...args]);

beforeAll(() => {
  writeFileSync(conf, `dataDir: ${join(tmp.dir, 'data')}\naudioCacheDir: ${join(tmp.dir, 'audio')}\nsmtp: { port: 0 }\n`);
});
afterAll(() => tmp.cleanup());

describe('alertline users', () => {
  it('adds, lists (text and JSON), updates and removes users', () => {
    expect(run('users', 'add', 'Ana@Example.com', '--name', 'Ana', '--phone', '+34 600 111 222', '--sip', '201', '--group', 'NOC', '--lang', 'es')).toMatchObject({ code: 0 });
    const list = JSON.parse(run('users', 'list', '--json').stdout);
    expect(list).toEqual([expect.objectContaining({ email: 'ana@example.com', name: 'Ana', phone: '+34600111222', sip: '201', group: 'noc', lang: 'es' })]);
    expect(run('users', 'list').stdout).toMatch(/ana@example\.com\s+Ana\s+\+34600111222\s+201\s+noc\s+es/);
    expect(run('users', 'update', 'ana@example.com', '--email', 'ana.p@example.com', '--phone', '')).toMatchObject({ code: 0 });
    const after = JSON.parse(run('users', 'list', '--json').stdout);
    expect(after[0]).toMatchObject({ email: 'ana.p@example.com', phone: null });
    expect(run('users', 'remove', 'ana.p@example.com').code).toBe(0);
    expect(JSON.parse(run('users', 'list', '--json').stdout)).toEqual([]);
  });

  it('bad flags give a clear message and exit 2', () => {
    const badMail = run('users', 'add', 'not-an-email');
    expect(badMail.code).toBe(2);
    expect(badMail.stderr).toContain('invalid e-mail address "not-an-email"');
    const badPhone = run('users', 'add', 'x@example.com', '--phone', '600111222');
    expect(badPhone.code).toBe(2);
    expect(badPhone.stderr).toContain('E.164');
    expect(run('users', 'add', 'x@example.com', '--order', 'voip,fax').stderr).toContain('unknown channel "fax"');
    expect(run('users', 'add', 'x@example.com', '--bogus').code).toBe(2);
    expect(run('frobnicate').code).toBe(2);
    expect(JSON.parse(run('users', 'list', '--json').stdout)).toEqual([]);
  });

  it('removing an unknown user fails with exit 1', () => {
    const r = run('users', 'remove', 'ghost@example.com');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no user ghost@example.com');
  });
});

describe('alertline channels and settings', () => {
  it('enables, disables and orders channels; unknown channel → exit 2', () => {
    expect(run('channels', 'enable', 'mail').code).toBe(0);
    expect(run('channels', 'order', 'mail,sms').code).toBe(0);
    const j = JSON.parse(run('channels', 'list', '--json').stdout);
    expect(j.order).toEqual(['mail', 'sms']);
    expect(j.channels.find((c: { channel: string }) => c.channel === 'mail').enabled).toBe(true);
    expect(run('channels', 'disable', 'mail').code).toBe(0);
    expect(JSON.parse(run('channels', 'list', '--json').stdout).channels.find((c: { channel: string }) => c.channel === 'mail').enabled).toBe(false);
    const bad = run('channels', 'enable', 'pigeon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown channel "pigeon"');
    expect(run('channels', 'order', 'mail,mail').code).toBe(2);
  });

  it('settings set/get override the file; bad keys and values exit 2', () => {
    expect(run('settings', 'set', 'voice.lang', 'es').code).toBe(0);
    expect(run('settings', 'set', 'sms.fullText', 'true').code).toBe(0);
    expect(run('settings', 'get', 'voice.lang').stdout.trim()).toBe('es');
    const all = JSON.parse(run('settings', 'get', '--json').stdout);
    expect(all.find((r: { key: string }) => r.key === 'sms.fullText')).toEqual({ key: 'sms.fullText', value: true, source: 'database' });
    expect(all.find((r: { key: string }) => r.key === 'voice.rate')).toEqual({ key: 'voice.rate', value: 160, source: 'file' });
    expect(run('settings', 'set', 'voice.rate', 'fast').code).toBe(2);
    expect(run('settings', 'set', 'escalation.roundInterval', '5 minutes').code).toBe(2);
    expect(run('settings', 'set', 'nope.key', '1').stderr).toContain('unknown setting "nope.key"');
    expect(run('settings', 'unset', 'voice.lang').code).toBe(0);
    expect(run('settings', 'get', 'voice.lang').stdout.trim()).toBe('en');
  });

  it('groups: order per group, listed with members; bad channel → exit 2', () => {
    expect(run('users', 'add', 'g1@example.com', '--group', 'noc').code).toBe(0);
    expect(run('groups', 'order', 'noc', 'gsm,sms').code).toBe(0);
    expect(JSON.parse(run('groups', 'list', '--json').stdout)).toEqual([{ name: 'noc', members: 1, order: ['gsm', 'sms'] }]);
    expect(run('groups', 'order', 'noc', 'gsm,telegram').code).toBe(2);
    expect(run('groups', 'order', 'noc', '').code).toBe(0);
    expect(JSON.parse(run('groups', 'list', '--json').stdout)[0].order).toBeNull();
    expect(run('users', 'remove', 'g1@example.com').code).toBe(0);
  });

  it('a broken config file is reported with the file and key, exit 1', () => {
    const bad = join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, 'smtp:\n  port: "twenty-five"\nchannels:\n  fax: {}\n');
    const r = cli(['--config', bad, 'users', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('bad.yaml');
    expect(r.stderr).toContain('smtp.port');
    const yamlErr = join(tmp.dir, 'bad2.yaml');
    writeFileSync(yamlErr, 'smtp: [unclosed\n');
    expect(cli(['--config', yamlErr, 'users', 'list']).stderr).toMatch(/invalid YAML/);
    expect(cli(['--config', join(tmp.dir, 'missing.yaml'), 'users', 'list']).stderr).toContain('cannot read config file');
  });
});

describe('alertline run + status + alerts + ack + send-test (changes reach a running daemon)', () => {
  it('end to end', async () => {
    const sink = await startSink();
    const port = await freePort();
    const d2 = join(tmp.dir, 'e2e');
    const c2 = join(tmp.dir, 'e2e.yaml');
    writeFileSync(c2, [
      `dataDir: ${join(d2, 'data')}`, `audioCacheDir: ${join(d2, 'audio')}`, `smtp: { port: ${port} }`,
      `channels:`, `  order: [mail]`, `  mail: { enabled: false, host: 127.0.0.1, port: ${sink.port}, requireTLS: false, password: "relay-secret-xyz" }`,
    ].join('\n'));
    chmodSync(c2, 0o644);
    const r2 = (...a: string[]) => cli(['--config', c2, ...a]);
    expect(r2('users', 'add', 'oncall@alerts.example').code).toBe(0);
    expect(r2('status').code).toBe(1); // no daemon yet
    const daemon = spawnDaemon(c2);
    try {
      await waitForPort(port);
      await waitFor(() => r2('status', '--json').code === 0, 15_000, 200);
      const st = JSON.parse(r2('status', '--json').stdout);
      expect(st.daemon.running).toBe(true);
      expect(st.live.receiver).toMatchObject({ listening: true, port });
      expect(st.live.channels.mail.enabled).toBe(false);

      // Mail is disabled: the alert is accepted and waits (mode all, no channel → fails visibly)
      const sent = await sendRaw(port, { to: ['oncall@alerts.example'], data: fixture('zabbix-problem.eml') });
      expect(sent.final!.code).toBe(250);
      // Enable mail from the CLI: the running daemon starts the channel without restart.
      expect(r2('channels', 'enable', 'mail').code).toBe(0);
      await waitFor(() => JSON.parse(r2('status', '--json').stdout).live?.channels.mail.running === true, 20_000, 250);
      const sent2 = await sendRaw(port, { to: ['oncall@alerts.example'], data: 'Subject: Problem: disk full\r\n\r\nHost: db1\r\n' });
      const id2 = Number(/alert (\d+)/.exec(sent2.final!.text)![1]);
      await waitFor(() => sink.messages.some((m) => m.raw.toString().includes('Problem: disk full')), 15_000, 100);
      await waitFor(() => JSON.parse(r2('alerts', 'show', String(id2), '--json').stdout).state === 'delivered', 10_000, 200);
      const show = r2('alerts', 'show', String(id2));
      expect(show.stdout).toMatch(/mail\s+to oncall@alerts\.example round 1: delivered/);
      const list = JSON.parse(r2('alerts', 'list', '--json').stdout);
      expect(list.map((a: { id: number }) => a.id)).toContain(id2);

      // send-test through one channel
      const t = r2('send-test', 'oncall@alerts.example', '--channel', 'mail');
      expect(t.code).toBe(0);
      await waitFor(() => sink.messages.some((m) => m.raw.toString().includes('Test alert from Alertline')), 15_000, 100);

      // ack of a delivered (not yet acknowledged) alert records who knows; a second ack → exit 1;
      // an unknown id → exit 1; a bad id → 2
      const ack = r2('ack', String(id2), '--by', 'night-shift');
      expect(ack.code).toBe(0);
      expect(JSON.parse(r2('alerts', 'show', String(id2), '--json').stdout)).toMatchObject({ state: 'acknowledged', ack: { by: 'night-shift', via: 'cli' } });
      expect(r2('ack', String(id2)).code).toBe(1);
      expect(r2('ack', '99999').code).toBe(1);
      expect(r2('ack', 'abc').code).toBe(2);
      expect(r2('alerts', 'show', '99999').code).toBe(1);

      // The relay password never appears in the log; the world-readable secret file is warned about.
      expect(daemon.output()).not.toContain('relay-secret-xyz');
      expect(daemon.output()).toMatch(/world-readable/);
      expect(daemon.output()).toMatch(/mail\.accepted alert=\d+/);
      expect(daemon.output()).toMatch(/attempt\.end .*channel=mail .*outcome=delivered/);
    } finally {
      daemon.kill('SIGTERM');
      const code = await new Promise((res) => daemon.once('exit', (c) => res(c)));
      expect(code).toBe(0);
      await sink.close();
    }
  }, 90_000);
});
