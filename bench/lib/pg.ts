/** A throwaway PostgreSQL 15 cluster for the benchmarks (initdb + pg_ctl under a temp dir, loopback, a free port). */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

const BIN = '/usr/lib/postgresql/15/bin';

function run(args: string[]): void {
  const root = process.getuid?.() === 0;
  const [cmd, ...rest] = args;
  execFileSync(root ? 'runuser' : cmd!, root ? ['-u', 'postgres', '--', cmd!, ...rest] : rest, { stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function startPg(): Promise<{ url: (db: string) => string; createDb: (name: string) => Promise<string>; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'alertline-bench-pg-'));
  if (process.getuid?.() === 0) {
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()));
  }
  // fsync stays on (the default): the figures are for commits that are on disk.
  run([join(BIN, 'initdb'), '-D', join(dir, 'data'), '-A', 'trust', '-U', 'alertline', '-E', 'UTF8', '--locale', 'C']);
  const port = await freePort();
  run([join(BIN, 'pg_ctl'), '-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', 'start', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`]);
  const url = (db: string) => `postgres://alertline@127.0.0.1:${port}/${db}`;
  return {
    url,
    async createDb(name) {
      const c = new pg.Client({ connectionString: url('postgres') });
      await c.connect();
      await c.query(`CREATE DATABASE ${name}`);
      await c.end();
      return url(name);
    },
    stop() {
      try { run([join(BIN, 'pg_ctl'), '-D', join(dir, 'data'), '-m', 'immediate', '-w', 'stop']); } finally { rmSync(dir, { recursive: true, force: true }); }
    },
  };
}
