/**
 * Web console logins (a role and a scrypt hash; the password itself is never stored) and their
 * sessions (by the SHA-256 of the cookie; the cookie itself is never stored).
 */
import type { Sql } from './sql/driver.js';
import { ValidationError } from './user-fields.js';

export const WEB_ROLES = ['admin', 'responder', 'viewer'] as const;
export type WebRole = (typeof WEB_ROLES)[number];

export interface WebUser {
  login: string;
  role: WebRole;
  /** The person (users.email) this login is, or null. */
  userEmail: string | null;
  createdAt: number;
  lastLoginAt: number | null;
}

export interface WebSession {
  login: string;
  role: WebRole;
  userEmail: string | null;
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

interface Row { login: string; role: WebRole; user_email: string | null; created_at: number; last_login_at: number | null }
interface SessionRow { login: string; role: WebRole; user_email: string | null; csrf: string; created_at: number; last_seen_at: number; expires_at: number }

const fromRow = (r: Row): WebUser => ({ login: r.login, role: r.role, userEmail: r.user_email, createdAt: r.created_at, lastLoginAt: r.last_login_at });

export function validateLogin(login: string): string {
  const n = login.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/.test(n)) throw new ValidationError(`invalid login ${JSON.stringify(login.slice(0, 80))}: letters, digits, . _ @ - (at most 64)`);
  return n;
}

export function validateRole(role: string): WebRole {
  if (!(WEB_ROLES as readonly string[]).includes(role)) throw new ValidationError(`invalid role ${JSON.stringify(role.slice(0, 40))}: one of ${WEB_ROLES.join(', ')}`);
  return role as WebRole;
}

export class WebUserStore {
  constructor(private readonly q: Sql, private readonly now: () => number = Date.now) {}

  /** Stores a new login with its password hash (the caller hashed it). */
  async add(login: string, role: WebRole, passwordHash: string, userEmail: string | null = null): Promise<WebUser> {
    const n = validateLogin(login);
    const r = validateRole(role);
    if (!/^scrypt\$/.test(passwordHash)) throw new Error('password hash must be a scrypt hash');
    if (await this.get(n)) throw new ValidationError(`web user ${n} already exists`);
    if (userEmail !== null && !(await this.q.get('SELECT 1 AS one FROM users WHERE email = ?', userEmail))) throw new ValidationError(`no user ${userEmail} (alertline users add ${userEmail} first)`);
    await this.q.run('INSERT INTO web_users (login, role, password, user_email, created_at) VALUES (?, ?, ?, ?, ?)', n, r, passwordHash, userEmail, this.now());
    return (await this.get(n))!;
  }

  async get(login: string): Promise<WebUser | null> {
    const r = await this.q.get<Row>('SELECT login, role, user_email, created_at, last_login_at FROM web_users WHERE login = ?', login.trim());
    return r ? fromRow(r) : null;
  }

  /** The stored password hash of a login, or null when there is no such login. */
  async passwordHash(login: string): Promise<string | null> {
    const r = await this.q.get<{ password: string }>('SELECT password FROM web_users WHERE login = ?', login.trim());
    return r ? r.password : null;
  }

  async list(): Promise<WebUser[]> {
    return (await this.q.all<Row>('SELECT login, role, user_email, created_at, last_login_at FROM web_users ORDER BY login')).map(fromRow);
  }

  async count(): Promise<number> {
    return Number((await this.q.get<{ n: number }>('SELECT count(*) AS n FROM web_users'))!.n);
  }

  /** Removes a login and its sessions (they end at once, also in a running daemon). */
  async remove(login: string): Promise<boolean> {
    return (await this.q.run('DELETE FROM web_users WHERE login = ?', login.trim())) > 0;
  }

  /** The logins that are this person (users.email). */
  async byUserEmail(email: string): Promise<WebUser[]> {
    return (await this.q.all<Row>('SELECT login, role, user_email, created_at, last_login_at FROM web_users WHERE user_email = ? ORDER BY login', email.trim())).map(fromRow);
  }

  async createSession(idHash: string, login: string, csrf: string, ttlMs: number): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(idHash)) throw new Error('session id hash must be hex SHA-256');
    const now = this.now();
    await this.q.tx(async (t) => {
      await t.run('INSERT INTO web_sessions (id_hash, login, csrf, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)', idHash, login, csrf, now, now, now + ttlMs);
      await t.run('UPDATE web_users SET last_login_at = ? WHERE login = ?', now, login);
      // Expired sessions go when someone logs in: the table stays small without a timer.
      await t.run('DELETE FROM web_sessions WHERE expires_at <= ?', now);
    });
  }

  /** The live session with this id hash (and notes its use), or null when unknown or expired. */
  async session(idHash: string): Promise<WebSession | null> {
    const r = await this.q.get<SessionRow>(`SELECT s.login, w.role, w.user_email, s.csrf, s.created_at, s.last_seen_at, s.expires_at
      FROM web_sessions s JOIN web_users w ON w.login = s.login WHERE s.id_hash = ?`, idHash);
    if (!r) return null;
    const now = this.now();
    if (r.expires_at <= now) return null;
    // At most one write a minute per session: reading pages must not turn into a write per request.
    if (now - r.last_seen_at > 60_000) await this.q.run('UPDATE web_sessions SET last_seen_at = ? WHERE id_hash = ?', now, idHash);
    return { login: r.login, role: r.role, userEmail: r.user_email, csrf: r.csrf, createdAt: r.created_at, expiresAt: r.expires_at };
  }

  async endSession(idHash: string): Promise<boolean> {
    return (await this.q.run('DELETE FROM web_sessions WHERE id_hash = ?', idHash)) > 0;
  }
}
