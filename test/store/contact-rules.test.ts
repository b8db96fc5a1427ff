/** Contact rules on users: round trips through a real SQLite file and a real PostgreSQL, patches, the checks the store makes, upgrading an older database. */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { openStores, type Stores } from '../../src/store/index.js';
import { databasePath } from '../../src/store/database.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { ValidationError } from '../../src/store/user-fields.js';
import { parseChannelSelector, parseQuietWindow } from '../../src/core/oncall/index.js';
import { tempDir } from '../helpers/env.js';
import { engines, stopEngines, type EngineStores } from '../helpers/pg.js';

let s: Stores;
let h: EngineStores;
const ana = 'ana@x.example';
const nights = parseQuietWindow('mon-fri 22:00-07:00');
const weekend = parseQuietWindow('sat,sun 00:00-24:00');

afterAll(stopEngines);

describe.each(engines())('contact rules on users, on $name', (engine) => {
  beforeEach(async () => {
    h = await engine.fresh();
    s = h.stores;
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('a user without rules has none; rules given on add come back after reopening', async () => {
    expect((await s.users.add('plain@x.example')).contactRules).toBeNull();
    await s.users.add(ana, {
      phone: '+34600111222',
      contact: { zone: 'Europe/Madrid', quietWindows: [nights, weekend], bySeverity: { warning: parseChannelSelector('sms,mail'), high: parseChannelSelector('voice') } },
    });
    s = await h.reopen();
    const u = (await s.users.get(ana))!;
    expect(u.phone).toBe('+34600111222');
    expect(u.contactRules).toEqual({
      zone: 'Europe/Madrid',
      quiet: { windows: [{ days: [1, 2, 3, 4, 5], from: 1320, to: 420 }, { days: [6, 7], from: 0, to: 0 }], callsFrom: 'high', below: 'text' },
      bySeverity: { warning: { channels: ['sms', 'mail'] }, high: { kinds: ['voice'] } },
    });
    expect((await s.users.byPhone('+34600111222'))!.contactRules).toEqual(u.contactRules);
    expect((await s.users.list()).find((x) => x.email === ana)!.contactRules).toEqual(u.contactRules);
  });

  it('an update changes only what it names; clearing everything leaves no rules', async () => {
    await s.users.add(ana, { contact: { zone: 'Europe/Madrid', quietWindows: [nights], bySeverity: { warning: { channels: ['sms'] } } } });
    let u = await s.users.update(ana, { contact: { below: 'hold', callsFrom: 'critical' } });
    expect(u.contactRules).toEqual({ zone: 'Europe/Madrid', quiet: { windows: [nights], callsFrom: 'critical', below: 'hold' }, bySeverity: { warning: { channels: ['sms'] } } });
    u = await s.users.update(ana, { name: 'Ana' });
    expect(u.contactRules?.quiet?.below).toBe('hold');
    u = await s.users.update(ana, { contact: { quietWindows: [weekend] } });
    expect(u.contactRules?.quiet).toEqual({ windows: [weekend], callsFrom: 'critical', below: 'hold' });
    u = await s.users.update(ana, { contact: { quietWindows: [], callsFrom: null, below: null, bySeverity: null } });
    expect(u.contactRules).toEqual({ zone: 'Europe/Madrid' });
    u = await s.users.update(ana, { contact: { zone: null } });
    expect(u.contactRules).toBeNull();
    expect(u.name).toBe('Ana');
  });

  it('a changed e-mail keeps the rules', async () => {
    await s.users.add(ana, { contact: { quietWindows: [nights] } });
    const u = await s.users.update(ana, { email: 'ana.p@x.example' });
    expect(u.contactRules?.quiet?.windows).toEqual([nights]);
  });

  it('refuses what the dispatcher could not use, naming it, and keeps the old rules', async () => {
    await s.users.add(ana, { contact: { zone: 'Europe/Madrid', quietWindows: [nights] } });
    const bad: [Parameters<Stores['users']['update']>[1], RegExp][] = [
      [{ contact: { zone: 'Mars/Olympus' } }, /unknown time zone "Mars\/Olympus"/],
      [{ contact: { bySeverity: { warning: { channels: ['fax'] } } } }, /severity-channels warning: unknown channel "fax"/],
      [{ contact: { bySeverity: { warning: { kinds: ['smoke' as 'voice'] } } } }, /unknown channel kind "smoke"/],
      [{ contact: { bySeverity: { warning: {} } } }, /give at least one channel/],
      [{ contact: { bySeverity: { loud: { channels: ['sms'] } } as never } }, /unknown severity "loud"/],
      [{ contact: { callsFrom: 'urgent' as 'high' } }, /quiet-calls-from: unknown severity "urgent"/],
      [{ contact: { below: 'drop' as 'hold' } }, /quiet-below: expected text or hold/],
      [{ contact: { quietWindows: [{ from: 1440, to: 60 }] } }, /quiet: bad window/],
      [{ contact: { quietWindows: [{ days: [0 as 1], from: 0, to: 60 }] } }, /quiet: bad weekdays/],
    ];
    for (const [fields, message] of bad) {
      const e = await s.users.update(ana, fields).then(() => null, (x: unknown) => x);
      expect(e, JSON.stringify(fields)).toBeInstanceOf(ValidationError);
      expect((e as Error).message).toMatch(message);
    }
    await expect(s.users.add('beto@x.example', { contact: { zone: 'Nowhere/Town' } })).rejects.toThrow(/Nowhere\/Town/);
    expect(await s.users.get('beto@x.example')).toBeNull();
    expect((await s.users.get(ana))!.contactRules).toEqual({ zone: 'Europe/Madrid', quiet: { windows: [nights], callsFrom: 'high', below: 'text' } });
  });

  it('channel names are case-folded and a repeated one is kept once', async () => {
    const u = await s.users.add(ana, { contact: { bySeverity: { info: { kinds: ['text', 'text'], channels: ['SMS', 'sms'] } } } });
    expect(u.contactRules?.bySeverity).toEqual({ info: { kinds: ['text'], channels: ['sms'] } });
  });

  it('a value in the column that no longer passes the checks reads as no rules', async () => {
    await s.users.add(ana);
    await s.sql.run('UPDATE users SET contact_rules = ? WHERE email = ?', '{"bySeverity":{"warning":{"channels":["pager"]}}}', ana);
    expect((await s.users.get(ana))!.contactRules).toBeNull();
    await s.sql.run('UPDATE users SET contact_rules = ? WHERE email = ?', '{not json', ana);
    expect((await s.users.get(ana))!.contactRules).toBeNull();
  });
});

describe('contact rules, upgrading an older SQLite file', () => {
  it('an older database gains the column; its users have no rules and can get some', async () => {
    const tmp = tempDir();
    const mine = MIGRATIONS.findIndex((m) => m.includes('contact_rules'));
    expect(mine).toBeGreaterThan(0);
    mkdirSync(tmp.dir, { recursive: true });
    const old = new Database(databasePath(tmp.dir));
    for (const m of MIGRATIONS.slice(0, mine)) old.exec(m);
    old.pragma(`user_version = ${mine}`);
    old.prepare(`INSERT INTO users (email, phone, created_at) VALUES (?, ?, ?)`).run(ana, '+34600111222', 1);
    old.close();
    const s = openStores(tmp.dir);
    const u = (await s.users.get(ana))!;
    expect(u).toMatchObject({ email: ana, phone: '+34600111222', contactRules: null });
    expect((await s.users.update(ana, { contact: { quietWindows: [nights] } })).contactRules?.quiet?.windows).toEqual([nights]);
    await s.close();
    tmp.cleanup();
  });
});
