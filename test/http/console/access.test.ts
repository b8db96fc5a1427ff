/**
 * Console access over real HTTP(S) to an in-process daemon: login limits per address and per
 * login, the Secure cookie under TLS, logout ending the session, roles, pages refusing without a
 * session, sessions of a removed login ending at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startHttpDaemon, HTTP_FIXTURES } from '../helpers.js';
import { hashPassword } from '../../../src/http/web-auth.js';
import { client } from './client.js';

type D = Awaited<ReturnType<typeof startHttpDaemon>>;

describe('console access', () => {
  let d: D | null = null;
  afterEach(async () => {
    await d?.stop();
    d = null;
  });

  async function withUsers(over: Record<string, unknown> = {}) {
    d = await startHttpDaemon(over);
    const s = d.daemon.stores;
    await s.webUsers.add('ana', 'admin', await hashPassword('ana-password'), 'oncall@alerts.example');
    await s.webUsers.add('vic', 'viewer', await hashPassword('vic-password'));
    return d;
  }

  it('logs in and out; after logout the old cookie opens nothing', async () => {
    const dd = await withUsers();
    const c = client(dd.base);
    expect((await c.get('/')).location).toBe('/login');
    const r = await c.login('ana', 'ana-password');
    expect(r.status).toBe(303);
    const cookie = c.jar.get('alertline_session')!;
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await c.get('/')).text).toContain('ana (admin)');
    // The store keeps only the cookie's hash.
    const rows = dd.daemon.stores.db.prepare('SELECT id_hash FROM web_sessions').all() as { id_hash: string }[];
    expect(rows.some((x) => x.id_hash === cookie)).toBe(false);
    expect(JSON.stringify(dd.daemon.stores.db.prepare('SELECT password FROM web_users').all())).not.toContain('ana-password');
    const csrf = await c.csrf();
    expect((await c.post('/logout', { _csrf: csrf })).location).toBe('/login');
    c.jar.set('alertline_session', cookie);
    expect((await c.get('/people')).location).toMatch(/^\/login/);
  });

  it('failed logins are limited per address: the sixth try in a minute is 429 even with the right password', async () => {
    const dd = await withUsers();
    const c = client(dd.base);
    for (let i = 0; i < 5; i++) expect((await c.login('ana', `wrong-${i}`)).status).toBe(401);
    const r = await c.login('ana', 'ana-password');
    expect(r.status).toBe(429);
    expect(Number(r.retryAfter)).toBeGreaterThan(0);
    expect(r.text).toContain('too many failed logins');
    expect(c.jar.has('alertline_session')).toBe(false);
  });

  it('a login form posted without its own token (login CSRF) is refused', async () => {
    const dd = await withUsers();
    const c = client(dd.base);
    const r = await c.post('/login', { login: 'ana', password: 'ana-password' });
    expect(r.status).toBe(403);
    expect(c.jar.has('alertline_session')).toBe(false);
  });

  it('a viewer reads the board but cannot act; removing a login ends its session at once', async () => {
    const dd = await withUsers();
    const c = client(dd.base);
    await c.login('vic', 'vic-password');
    const board = await c.get('/');
    expect(board.status).toBe(200);
    expect(board.text).not.toContain('button type="submit" class="ack"');
    const csrf = await c.csrf();
    const r = await c.post('/alerts/1/ack', { _csrf: csrf }, { accept: 'application/json' });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.text).error).toMatch(/vic is viewer/);
    expect((await c.get('/web-users')).status).toBe(403);
    await dd.daemon.stores.webUsers.remove('vic');
    expect((await c.get('/')).location).toBe('/login');
  });

  it('under TLS the session cookie is Secure, HttpOnly and SameSite=Strict', async () => {
    const dd = await withUsers({ http: { tls: { key: join(HTTP_FIXTURES, 'tls-key.pem'), cert: join(HTTP_FIXTURES, 'tls-cert.pem') } } });
    const port = dd.daemon.http.address()!.port;
    const ca = readFileSync(join(HTTP_FIXTURES, 'tls-cert.pem'));
    const req = (method: string, path: string, body?: string, cookie?: string) => new Promise<{ status: number; cookies: string[]; body: string }>((resolve, reject) => {
      const r = https.request({ host: '127.0.0.1', port, path, method, ca, servername: 'localhost', checkServerIdentity: () => undefined, headers: { ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), ...(cookie ? { cookie } : {}) } }, (res) => {
        let b = '';
        res.on('data', (x) => (b += x));
        res.on('end', () => resolve({ status: res.statusCode!, cookies: ([] as string[]).concat(res.headers['set-cookie'] ?? []), body: b }));
      });
      r.on('error', reject);
      r.end(body);
    });
    const form = await req('GET', '/login');
    const pre = /name="_login" value="([^"]+)"/.exec(form.body)![1]!;
    expect(form.cookies[0]).toMatch(/; Secure$/);
    const r = await req('POST', '/login', new URLSearchParams({ _login: pre, login: 'ana', password: 'ana-password' }).toString(), `alertline_login=${pre}`);
    expect(r.status).toBe(303);
    const session = r.cookies.find((x) => x.startsWith('alertline_session='))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect(session).toMatch(/; Secure/);
  });
});
