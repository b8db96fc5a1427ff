/**
 * A throwaway PostgreSQL 15 cluster for tests: initdb + pg_ctl in a temp dir, on a free loopback
 * port, stopped and removed afterwards. As root the server runs as the postgres user (it refuses
 * root) in a temp dir that user owns. `engines()` gives the store suites both engines.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './cli.js';
import { openStores, openStoresAt, type Stores } from '../../src/store/index.js';

const BIN = '/usr/lib/postgresql/15/bin';

export interface PgCluster {
  port: number;
  /** A connection URL for a database on the cluster. */
  url(db?: string): string;
  /** Creates a fresh empty database and returns its URL. */
  createDb(): Promise<string>;
  /** A fresh database with the schema already migrated (copied from a migrated template). */
  createMigratedDb(): Promise<string>;
  stop(): Promise<void>;
}

function asOwner(args: string[], uid: number | null): string {
  const [cmd, ...rest] = args;
  return uid === 0
    ? execFileSync('runuser', ['-u', 'postgres', '--', cmd!, ...rest], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    : execFileSync(cmd!, rest, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

let dbCounter = 0;

export async function startPg(): Promise<PgCluster> {
  if (!existsSync(join(BIN, 'initdb'))) throw new Error(`PostgreSQL 15 is not installed (${BIN}/initdb): apt-get install postgresql`);
  const uid = process.getuid?.() ?? null;
  const dir = mkdtempSync(join(tmpdir(), 'alertline-pg-'));
  if (uid === 0) {
    const pw = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
    const gr = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
    chownSync(dir, Number(pw), Number(gr));
  }
  const data = join(dir, 'data');
  asOwner([join(BIN, 'initdb'), '-D', data, '-A', 'trust', '-U', 'alertline', '--no-sync', '-E', 'UTF8', '--locale', 'C'], uid);
  const port = await freePort();
  asOwner([join(BIN, 'pg_ctl'), '-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', 'start',
    '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=16MB`], uid);
  const url = (db = 'postgres') => `postgres://alertline@127.0.0.1:${port}/${db}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: url() });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  };
  let template: Promise<void> | null = null;
  return {
    port,
    url,
    async createDb() {
      const name = `t${process.pid}_${++dbCounter}`;
      await admin(`CREATE DATABASE ${name}`);
      return url(name);
    },
    async createMigratedDb() {
      template ??= (async () => {
        await admin('CREATE DATABASE alertline_template');
        const st = await openStoresAt({ engine: 'postgres', url: url('alertline_template') }, ':memory:');
        await st.close();
      })();
      await template;
      const name = `t${process.pid}_${++dbCounter}`;
      await admin(`CREATE DATABASE ${name} TEMPLATE alertline_template`);
      return url(name);
    },
    async stop() {
      try {
        asOwner([join(BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'], uid);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Stores on one engine for one test: `reopen()` closes them and opens the same data again. */
export interface EngineStores {
  stores: Stores;
  reopen(): Promise<Stores>;
  cleanup(): Promise<void>;
}

/** A store engine a suite runs on: `fresh()` gives new, empty, migrated Stores each call. */
export interface Engine {
  name: 'sqlite' | 'postgres';
  fresh(now?: () => number): Promise<EngineStores>;
}

let shared: Promise<PgCluster> | null = null;

/** The shared throwaway cluster of this test file (started on first use; stopEngines() stops it). */
export function sharedPg(): Promise<PgCluster> {
  shared ??= startPg();
  return shared;
}

/** Both engines: SQLite in a temp dir, PostgreSQL on a fresh database of the shared cluster. */
export function engines(): Engine[] {
  return [
    {
      name: 'sqlite',
      fresh: async (now) => {
        const dir = mkdtempSync(join(tmpdir(), 'alertline-store-'));
        const h: EngineStores = {
          stores: openStores(dir, now),
          reopen: async () => { await h.stores.close(); h.stores = openStores(dir, now); return h.stores; },
          cleanup: async () => { await h.stores.close().catch(() => undefined); rmSync(dir, { recursive: true, force: true }); },
        };
        return h;
      },
    },
    {
      name: 'postgres',
      fresh: async (now) => {
        const url = await (await sharedPg()).createMigratedDb();
        const h: EngineStores = {
          stores: await openStoresAt({ engine: 'postgres', url }, ':memory:', now),
          reopen: async () => { await h.stores.close(); h.stores = await openStoresAt({ engine: 'postgres', url }, ':memory:', now); return h.stores; },
          cleanup: async () => { await h.stores.close().catch(() => undefined); },
        };
        return h;
      },
    },
  ];
}

export async function stopEngines(): Promise<void> {
  if (!shared) return;
  const c = await shared;
  shared = null;
  await c.stop();
}
