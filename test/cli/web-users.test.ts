/** alertline web-users: add (password from stdin, scrypt-hashed), list, remove; bad input refused with a message. The built CLI on a real database. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/env.js';
import { verifyPassword } from '../../src/http/web-auth.js';

describe('alertline web-users', () => {
  const tmp = tempDir('alertline-web-users-');
  const conf = join(tmp.dir, 'c.yaml');
  const run = (args: string[], input = '') => cli(['--config', conf, ...args], { input });
  beforeAll(() => {
    writeFileSync(conf, `dataDir: ${join(tmp.dir, 'data')}\n`);
    expect(run(['users', 'add', 'ana@alerts.example', '--name', 'Ana']).code).toBe(0);
  });
  afterAll(() => tmp.cleanup());

  it('adds a login with the password from stdin (stored as scrypt), lists it, removes it', async () => {
    const add = run(['web-users', 'add', 'ana', '--role', 'responder', '--password-stdin', '--user', 'ana@alerts.example'], 'a long secret\n');
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toContain('added web user ana (responder, is ana@alerts.example)');
    const db = new Database(join(tmp.dir, 'data', 'alertline.db'), { readonly: true });
    const { password } = db.prepare('SELECT password FROM web_users WHERE login = ?').get('ana') as { password: string };
    db.close();
    expect(password).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(await verifyPassword('a long secret', password)).toBe(true); // the newline of echo is not part of it
    expect(await verifyPassword('a long secret\n', password)).toBe(false);
    const list = run(['web-users', 'list']);
    expect(list.stdout).toMatch(/ana\s+responder\s+ana@alerts\.example\s+never/);
    expect(JSON.parse(run(['web-users', 'list', '--json']).stdout)[0]).toMatchObject({ login: 'ana', role: 'responder', userEmail: 'ana@alerts.example' });
    expect(run(['web-users', 'add', 'ana', '--role', 'viewer', '--password-stdin'], 'another secret').stderr).toMatch(/web user ana already exists/);
    expect(run(['web-users', 'remove', 'ana']).stdout).toContain('removed ana');
    expect(run(['web-users', 'remove', 'ana']).code).toBe(1);
  });

  it('refuses a bad role, a short password, a missing --password-stdin, an unknown person', () => {
    const role = run(['web-users', 'add', 'x', '--role', 'root', '--password-stdin'], 'long enough pw');
    expect(role.code).not.toBe(0);
    expect(role.stderr).toMatch(/invalid role "root": one of admin, responder, viewer/);
    const short = run(['web-users', 'add', 'x', '--role', 'viewer', '--password-stdin'], 'short');
    expect(short.code).toBe(2);
    expect(short.stderr).toMatch(/at least 8 characters/);
    expect(run(['web-users', 'add', 'x', '--role', 'viewer']).stderr).toMatch(/--password-stdin/);
    expect(run(['web-users', 'add', 'x', '--role', 'viewer', '--password-stdin', '--user', 'nobody@alerts.example'], 'long enough pw').stderr).toMatch(/no user nobody@alerts\.example/);
    expect(run(['web-users', 'list']).stdout).toMatch(/no web users/);
  });
});
