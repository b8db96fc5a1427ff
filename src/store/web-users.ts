/**
 * Web console logins (a role and a scrypt hash; the password itself is never stored) and their
 * sessions (by the SHA-256 of the cookie; the cookie itself is never stored).
 */
import type { Db } from './database.js';
import { prep } from './database.js';
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
  constructor(private readonly db: Db, private readonly now: () => number = Date.now) {}

  /** Stores a new login with its password hash (the caller hashed it). */
  async add(login: string, role: WebRole, passwordHash: string, userEmail: string | null = null): Promise<WebUser> {
    const n = validateLogin(login);
    const r = validateRole(role);
    if (!/^scrypt\$/.test(passwordHash)) throw new Error('password hash must be a scrypt hash');
    if (await this.get(n)) throw new ValidationError(`web user ${n} already exists`);
    if (userEmail !== null && !prep(this.db, 'SELECT 1 FROM users WHERE email = ?').get(userEmail)) throw new ValidationError(`no user ${userEmail} (alertline users add ${userEmail} first)`);
    prep(this.db, 'INSERT INTO web_users (login, role, password, user_email, created_at) VALUES (?, ?, ?, ?, ?)').run(n, r, passwordHash, userEmail, this.now());
    return (await this.get(n))!;
  }

  async get(login: string): Promise<WebUser | null> {
    const r = prep(this.db, 'SELECT login, role, user_email, created_at, last_login_at FROM web_users WHERE login = ?').get(login.trim()) as Row | undefined;
    return r ? fromRow(r) : null;
  }

  /** The stored password hash of a login, or null when there is no such login. */
  async passwordHash(login: string): Promise<string | null> {
    const r = prep(this.db, 'SELECT password FROM web_users WHERE login = ?').get(login.trim()) as { password: string } | undefined;
    return r ? r.password : null;
  }

  async list(): Promise<WebUser[]> {
    return (prep(this.db, 'SELECT login, role, user_email, created_at, last_login_at FROM web_users ORDER BY login').all() as Row[]).map(fromRow);
  }

  async count(): Promise<number> {
    return (prep(this.db, 'SELECT count(*) AS n FROM web_users').get() as { n: number }).n;
  }

  /** Removes a login and its sessions (they end at once, also in a running daemon). */
  async remove(login: string): Promise<boolean> {
    return prep(this.db, 'DELETE FROM web_users WHERE login = ?').run(login.trim()).changes > 0;
  }

  /** The logins that are this person (users.email). */
  async byUserEmail(email: string): Promise<WebUser[]> {
    return (prep(this.db, 'SELECT login, role, user_email, created_at, last_login_at FROM web_users WHERE user_email = ? ORDER BY login').all(email.trim()) as Row[]).map(fromRow);
  }

  async createSession(idHash: string, login: string, csrf: string, ttlMs: number): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(idHash)) throw new Error('session id hash must be hex SHA-256');
    const now = this.now();
    prep(this.db, 'INSERT INTO web_sessions (id_hash, login, csrf, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)').run(idHash, login, csrf, now, now, now + ttlMs);
    prep(this.db, 'UPDATE web_users SET last_login_at = ? WHERE login = ?').run(now, login);
    // Expired sessions go when someone logs in: the table stays small without a timer.
    prep(this.db, 'DELETE FROM web_sessions WHERE expires_at <= ?').run(now);
  }

  /** The live session with this id hash (and notes its use), or null when unknown or expired. */
  async session(idHash: string): Promise<WebSession | null> {
    const r = prep(this.db, `SELECT s.login, w.role, w.user_email, s.csrf, s.created_at, s.last_seen_at, s.expires_at
      FROM web_sessions s JOIN web_users w ON w.login = s.login WHERE s.id_hash = ?`).get(idHash) as SessionRow | undefined;
    if (!r) return null;
    const now = this.now();
    if (r.expires_at <= now) return null;
    // At most one write a minute per session: reading pages must not turn into a write per request.
    if (now - r.last_seen_at > 60_000) prep(this.db, 'UPDATE web_sessions SET last_seen_at = ? WHERE id_hash = ?').run(now, idHash);
    return { login: r.login, role: r.role, userEmail: r.user_email, csrf: r.csrf, createdAt: r.created_at, expiresAt: r.expires_at };
  }

  async endSession(idHash: string): Promise<boolean> {
    return prep(this.db, 'DELETE FROM web_sessions WHERE id_hash = ?').run(idHash).changes > 0;
  }
}
