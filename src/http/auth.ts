/**
 * API tokens and who may do what. A token is 256 random bits (base64url, prefixed "alt_"), shown
 * once; the store keeps its SHA-256. Scopes: `read` (GET), `ingest` (alerts and heartbeat pings
 * in), `write` (everything: read, act on alerts, ingest).
 *
 * Failed authentications are counted per client address. Above the limit a failure is answered
 * 429 with Retry-After instead of 401 and logged once per window; a valid token keeps working
 * from that address, so a monitor with a wrong token cannot lock out a well-configured one on
 * the same host (guessing a 256-bit token is hopeless at any rate).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { TokenInfo, TokenScope } from '../store/tokens.js';
import type { Logger } from '../util/log.js';

export type Need = 'read' | 'write' | 'ingest';

export function newToken(): string {
  return `alt_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function scopeAllows(scope: TokenScope, need: Need): boolean {
  if (scope === 'write') return true;
  return scope === need;
}

const TOKEN_SYNTAX = /^alt_[A-Za-z0-9_-]{43}$/;

/** The bearer token from an Authorization header, or null when absent or malformed. */
export function bearer(header: string | undefined): string | null {
  if (!header || header.length > 200) return null;
  const m = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  return m && TOKEN_SYNTAX.test(m[1]!) ? m[1]! : null;
}

export type AuthOutcome =
  | { ok: true; token: TokenInfo }
  | { ok: false; status: 401 | 403 | 429; error: string; retryAfterSec?: number };

interface Window { start: number; failures: number; logged: boolean }

export class Authenticator {
  private readonly windows = new Map<string, Window>();
  private static readonly WINDOW_MS = 60_000;
  private static readonly MAX_CLIENTS = 10_000;

  constructor(private readonly d: {
    byHash: (hash: string) => Promise<TokenInfo | null>;
    now: () => number;
    logger: Logger;
    failuresPerMinute: number;
  }) {}

  async check(client: string, header: string | undefined, need: Need, what: string): Promise<AuthOutcome> {
    const token = bearer(header);
    const info = token ? await this.d.byHash(hashToken(token)) : null;
    if (!info) return this.failed(client, header ? (token ? 'unknown token' : 'malformed credentials') : 'no token', what);
    if (!scopeAllows(info.scope, need)) {
      this.d.logger.warn('http.auth_forbidden', { client, tokenName: info.name, scope: info.scope, need, path: what });
      return { ok: false, status: 403, error: `token ${info.name} has scope ${info.scope}; this needs ${need === 'read' ? 'read or write' : need === 'ingest' ? 'ingest or write' : 'write'}` };
    }
    return { ok: true, token: info };
  }

  private failed(client: string, reason: string, what: string): AuthOutcome {
    const now = this.d.now();
    let w = this.windows.get(client);
    if (!w || now - w.start >= Authenticator.WINDOW_MS) {
      if (!w && this.windows.size >= Authenticator.MAX_CLIENTS) {
        for (const [k, v] of this.windows) if (now - v.start >= Authenticator.WINDOW_MS) this.windows.delete(k);
        if (this.windows.size >= Authenticator.MAX_CLIENTS) this.windows.delete(this.windows.keys().next().value!);
      }
      w = { start: now, failures: 0, logged: false };
      this.windows.set(client, w);
    }
    w.failures++;
    if (w.failures > this.d.failuresPerMinute) {
      if (!w.logged) {
        w.logged = true;
        this.d.logger.warn('http.auth_rate_limited', { client, failures: w.failures, windowSec: Authenticator.WINDOW_MS / 1000 });
      }
      const retryAfterSec = Math.max(1, Math.ceil((w.start + Authenticator.WINDOW_MS - now) / 1000));
      return { ok: false, status: 429, error: 'too many failed authentications from this address', retryAfterSec };
    }
    this.d.logger.warn('http.auth_failed', { client, reason, path: what });
    return { ok: false, status: 401, error: reason === 'no token' ? 'authentication required: Authorization: Bearer <token>' : 'invalid token' };
  }
}
