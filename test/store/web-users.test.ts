/** WebUserStore on a real SQLite file: logins, roles, sessions by hash, expiry, removal ending sessions. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStores, type Stores } from '../../src/store/index.js';
import { tempDir } from '../helpers/env.js';
import { hashPassword, hashSecret, LoginLimiter, verifyPassword } from '../../src/http/web-auth.js';

describe('web users and sessions', () => {
  let tmp: ReturnType<typeof tempDir>;
  let s: Stores;
  let now = 1_000_000;
  beforeEach(() => {
    tmp = tempDir('alertline-web-store-');
    s = openStores(tmp.dir, () => now);
  });
  afterEach(async () => {
    await s.close();
    tmp.cleanup();
  });

  it('adds, finds case-insensitively, refuses duplicates and bad names, links a person', async () => {
    await s.users.add('ana@alerts.example');
    const h = await hashPassword('password-1');
    const u = await s.webUsers.add('Ana', 'admin', h, 'ana@alerts.example');
    expect(u).toMatchObject({ login: 'Ana', role: 'admin', userEmail: 'ana@alerts.example', lastLoginAt: null });
    expect((await s.webUsers.get('ana'))!.login).toBe('Ana');
    await expect(s.webUsers.add('ANA', 'viewer', h)).rejects.toThrow(/already exists/);
    await expect(s.webUsers.add('bad name', 'viewer', h)).rejects.toThrow(/invalid login/);
    await expect(s.webUsers.add('bob', 'owner' as never, h)).rejects.toThrow(/invalid role/);
    await expect(s.webUsers.add('bob', 'viewer', 'plain')).rejects.toThrow(/scrypt/);
    expect((await s.webUsers.byUserEmail('ANA@alerts.example')).map((x) => x.login)).toEqual(['Ana']);
    expect(await s.webUsers.count()).toBe(1);
  });

  it('a session is found by its hash until it expires; removing the login ends it', async () => {
    await s.webUsers.add('bob', 'responder', await hashPassword('password-2'));
    const id = hashSecret('cookie-value');
    await s.webUsers.createSession(id, 'bob', 'csrf-token', 60_000);
    expect(await s.webUsers.session(id)).toMatchObject({ login: 'bob', role: 'responder', csrf: 'csrf-token' });
    expect((await s.webUsers.get('bob'))!.lastLoginAt).toBe(now);
    expect(await s.webUsers.session(hashSecret('other'))).toBeNull();
    now += 60_001;
    expect(await s.webUsers.session(id)).toBeNull();
    now -= 30_000;
    expect(await s.webUsers.session(id)).not.toBeNull();
    await s.webUsers.remove('bob');
    expect(await s.webUsers.session(id)).toBeNull();
  });

  it('scrypt hashes verify only the right password; the limiter blocks after the limit for the rest of the minute', async () => {
    const h = await hashPassword('Straße pw');
    expect(await verifyPassword('Straße pw', h)).toBe(true);
    expect(await verifyPassword('Strasse pw', h)).toBe(false);
    expect(await verifyPassword('x', 'scrypt$1$1$1$a$b')).toBe(false);
    expect(h).not.toBe(await hashPassword('Straße pw')); // salted
    let t = 0;
    const l = new LoginLimiter({ now: () => t, perMinute: 3 });
    for (let i = 0; i < 3; i++) { expect(l.blocked(['ip:a'])).toBe(0); l.failed(['ip:a']); }
    expect(l.blocked(['ip:a'])).toBe(60);
    expect(l.blocked(['ip:b'])).toBe(0);
    t = 59_000;
    expect(l.blocked(['ip:a'])).toBe(1);
    t = 60_000;
    expect(l.blocked(['ip:a'])).toBe(0);
  });
});
