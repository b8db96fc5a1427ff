/** HTTP tests: an in-process daemon with its HTTP server on a free loopback port, tokens, and a small client. */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { startDaemon } from '../helpers/env.js';
import { hashToken, newToken } from '../../src/http/auth.js';
import type { TokenScope } from '../../src/store/tokens.js';

export const HTTP_FIXTURES = join(import.meta.dirname, '../fixtures/http');

export function httpFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(HTTP_FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

export async function startHttpDaemon(over: Record<string, unknown> = {}, opts: Parameters<typeof startDaemon>[1] = {}) {
  const d = await startDaemon({ http: { port: 0, ...((over.http as object) ?? {}) }, ...Object.fromEntries(Object.entries(over).filter(([k]) => k !== 'http')) }, opts);
  const tokens: Record<TokenScope, string> = { read: newToken(), write: newToken(), ingest: newToken() };
  for (const scope of Object.keys(tokens) as TokenScope[]) await d.daemon.stores.tokens.add(`t-${scope}`, scope, hashToken(tokens[scope]));
  const a = d.daemon.http.address()!;
  const base = `http://127.0.0.1:${a.port}`;
  return {
    ...d,
    base,
    tokens,
    dbPath: join(d.config.dataDir, 'alertline.db'),
    /** A request with a token (by scope) or none. */
    async req(method: string, path: string, o: { token?: TokenScope | string | null; json?: unknown; body?: string | Buffer; headers?: Record<string, string> } = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const tok = o.token === undefined ? 'write' : o.token;
      if (tok) headers.authorization = `Bearer ${tok in tokens ? tokens[tok as TokenScope] : tok}`;
      let body: string | Buffer | undefined = o.body;
      if (o.json !== undefined) { body = JSON.stringify(o.json); headers['content-type'] ??= 'application/json'; }
      const r = await fetch(base + path, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await r.text();
      let json: any = null;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      return { status: r.status, headers: r.headers, text, json };
    },
  };
}

/** A second connection to the database file: what another process would see committed. */
export function committed<T>(dbPath: string, fn: (db: Database.Database) => T): T {
  const db = new Database(dbPath, { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
