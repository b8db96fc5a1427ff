/**
 * The person's XMPP address (users add|update --xmpp, validation, lookup by the address a reply
 * comes from) and doctor's xmpp line against a real Prosody.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/env.js';
import { openStores } from '../../../src/store/index.js';
import { validateXmpp, ValidationError } from '../../../src/store/user-fields.js';
import { runDoctor } from '../../../src/appliance/doctor-checks.js';
import { Prosody, DOMAIN } from './prosody.js';

describe('users --xmpp', () => {
  it('stores a bare, lower-cased JID; a reply from any resource finds the user; bad addresses are refused with exit 2', () => {
    const tmp = tempDir('alertline-xmpp-users-');
    try {
      const conf = join(tmp.dir, 'a.yaml');
      writeFileSync(conf, stringify({ dataDir: join(tmp.dir, 'data'), logLevel: 'error' }));
      let r = cli(['--config', conf, 'users', 'add', 'ana@alerts.example', '--xmpp', 'Ana@Chat.Example.ORG']);
      expect(r.code, r.stderr).toBe(0);
      r = cli(['--config', conf, 'users', 'list', '--json']);
      expect(JSON.parse(r.stdout)[0]).toMatchObject({ email: 'ana@alerts.example', xmpp: 'ana@chat.example.org' });
      r = cli(['--config', conf, 'users', 'list']);
      expect(r.stdout).toMatch(/^EMAIL .*XMPP/m);
      expect(r.stdout).toContain('ana@chat.example.org');
      r = cli(['--config', conf, 'users', 'update', 'ana@alerts.example', '--xmpp', 'ana@chat.example.org/phone']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('give a bare JID');
      r = cli(['--config', conf, 'users', 'add', 'ben@alerts.example', '--xmpp', 'no-at-sign']);
      expect(r.code).toBe(2);
      r = cli(['--config', conf, 'users', 'update', 'ana@alerts.example', '--xmpp', '']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(cli(['--config', conf, 'users', 'list', '--json']).stdout)[0].xmpp).toBeNull();
    } finally {
      tmp.cleanup();
    }
  }, 60_000);

  it('byXmpp matches the address a message comes from, with or without resource, in any case', async () => {
    const tmp = tempDir('alertline-xmpp-users-');
    const s = openStores(join(tmp.dir, 'data'));
    try {
      await s.users.add('ana@alerts.example', { xmpp: 'ana@chat.example.org' });
      expect((await s.users.byXmpp('ANA@chat.example.org/Conversations.x1'))?.email).toBe('ana@alerts.example');
      expect(await s.users.byXmpp('eve@chat.example.org')).toBeNull();
      expect(await s.users.byXmpp('chat.example.org')).toBeNull();
    } finally {
      await s.close();
      tmp.cleanup();
    }
  });

  it.each([
    ['alice@example.org', 'alice@example.org'],
    [' José@Ejemplo.es ', 'josé@ejemplo.es'],
    ['ops+oncall@xmpp.example.co.uk', 'ops+oncall@xmpp.example.co.uk'],
  ])('accepts %j', (v, want) => expect(validateXmpp(v)).toBe(want));
  it.each(['', '@example.org', 'alice@', 'a@b@c', 'alice@example.org/res', 'al ice@example.org', 'a"b@example.org', 'alice@-bad-.org', 'alice@exa..mple.org', `${'x'.repeat(65)}@example.org`, 'a<b>@example.org'])(
    'refuses %j', (v) => expect(() => validateXmpp(v)).toThrow(ValidationError));
});

describe('doctor: xmpp', () => {
  let server: Prosody;
  beforeAll(async () => { server = await Prosody.create({ accounts: { alertline: 'alert-pw-9f3' } }); }, 30_000);
  afterAll(async () => { await server?.close(); });
  const noTts = { tts: async () => [{ name: 'tts', status: 'skip' as const, detail: 'not under test here' }] };

  async function doctor(xmpp: Record<string, unknown>) {
    const tmp = tempDir('alertline-xmpp-doctor-');
    try {
      const file = join(tmp.dir, 'a.yaml');
      writeFileSync(file, stringify({
        dataDir: join(tmp.dir, 'data'), audioCacheDir: join(tmp.dir, 'audio'), logLevel: 'error', smtp: { host: '127.0.0.1', port: 0 },
        channels: { xmpp: { enabled: true, jid: `alertline@${DOMAIN}`, password: 'alert-pw-9f3', server: `127.0.0.1:${server.port}`, ...xmpp } },
      }), { mode: 0o640 });
      const r = await runDoctor({ configPath: file, env: {}, probes: noTts });
      return r.checks.find((c) => c.name === 'xmpp')!;
    } finally {
      tmp.cleanup();
    }
  }

  it('passes when it can log in; fails with the reason and a hint when the certificate is not trusted', async () => {
    expect(await doctor({ ca: server.certs!.ca })).toEqual({ name: 'xmpp', status: 'pass', detail: `connected to 127.0.0.1:${server.port} as alertline@${DOMAIN}` });
    const bad = await doctor({ ca: server.certs!.otherCa });
    expect(bad).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^TLS: the certificate of .* is not trusted/), hint: expect.stringContaining('channels.xmpp.ca') });
    const missing = await doctor({ ca: join(server.dir, 'nope.pem') });
    expect(missing.detail).toMatch(/^channels\.xmpp\.ca: cannot read .*nope\.pem: ENOENT$/);
  }, 60_000);
});
