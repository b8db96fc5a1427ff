/** API tokens: a name, a scope and the SHA-256 of the token (the token itself is never stored). */
import type { Sql } from './sql/driver.js';
import { ValidationError } from './user-fields.js';

export const TOKEN_SCOPES = ['read', 'write', 'ingest'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export interface TokenInfo {
  name: string;
  scope: TokenScope;
  createdAt: number;
  lastUsedAt: number | null;
}

interface Row { name: string; scope: TokenScope; created_at: number; last_used_at: number | null }

const fromRow = (r: Row): TokenInfo => ({ name: r.name, scope: r.scope, createdAt: r.created_at, lastUsedAt: r.last_used_at });

export function validateTokenName(name: string): string {
  const n = name.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(n)) throw new ValidationError(`invalid token name ${JSON.stringify(name)}: letters, digits, . _ - (at most 64)`);
  return n;
}

export function validateScope(scope: string): TokenScope {
  if (!(TOKEN_SCOPES as readonly string[]).includes(scope)) throw new ValidationError(`invalid scope ${JSON.stringify(scope)}: one of ${TOKEN_SCOPES.join(', ')}`);
  return scope as TokenScope;
}

export class TokenStore {
  constructor(private readonly q: Sql, private readonly now: () => number = Date.now) {}

  /** Stores a new token by its hash; the caller made the token and shows it once. */
  async add(name: string, scope: TokenScope, hash: string): Promise<TokenInfo> {
    const n = validateTokenName(name);
    const s = validateScope(scope);
    if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error('token hash must be hex SHA-256');
    if (await this.get(n)) throw new ValidationError(`token ${n} already exists`);
    (await this.q.run('INSERT INTO api_tokens (name, hash, scope, created_at) VALUES (?, ?, ?, ?)', n, hash, s, this.now()));
    return (await this.get(n))!;
  }

  async get(name: string): Promise<TokenInfo | null> {
    const r = (await this.q.get('SELECT name, scope, created_at, last_used_at FROM api_tokens WHERE name = ?', name.trim())) as Row | undefined;
    return r ? fromRow(r) : null;
  }

  /** The token with this hash (and notes its use), or null. */
  async byHash(hash: string): Promise<TokenInfo | null> {
    const r = (await this.q.get('SELECT name, scope, created_at, last_used_at FROM api_tokens WHERE hash = ?', hash)) as Row | undefined;
    if (!r) return null;
    const now = this.now();
    // At most one write a minute per token: reading the API must not turn into a write per request.
    if (r.last_used_at === null || now - r.last_used_at > 60_000) {
      (await this.q.run('UPDATE api_tokens SET last_used_at = ? WHERE name = ?', now, r.name));
    }
    return fromRow(r);
  }

  async list(): Promise<TokenInfo[]> {
    return ((await this.q.all('SELECT name, scope, created_at, last_used_at FROM api_tokens ORDER BY name')) as Row[]).map(fromRow);
  }

  async revoke(name: string): Promise<boolean> {
    return (await this.q.run('DELETE FROM api_tokens WHERE name = ?', name.trim())) > 0;
  }
}
