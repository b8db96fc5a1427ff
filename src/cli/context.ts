/** What every command needs: the config (file) and the database, opened the same way the daemon does. */
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { openStores, type Stores } from '../store/index.js';
import type { Config } from '../config/schema.js';

export class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
  }
}

export interface GlobalOpts {
  config?: string;
}

export interface Ctx {
  loaded: LoadedConfig;
  stores: Stores;
  /** File config with database settings applied. */
  effective(): Promise<Config>;
}

export function loadCli(opts: GlobalOpts): LoadedConfig {
  return loadConfig(opts.config);
}

export async function withStores<T>(opts: GlobalOpts, fn: (ctx: Ctx) => T | Promise<T>): Promise<T> {
  const loaded = loadCli(opts);
  const stores = openStores(loaded.config.dataDir);
  try {
    return await fn({ loaded, stores, effective: () => stores.settings.effective(loaded.config) });
  } finally {
    await stores.close();
  }
}

export function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
}

export function table(rows: (string | number | null | undefined)[][], header: string[]): string {
  const all = [header, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function fmtTime(ms: number | null | undefined): string {
  if (!ms) return '';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function parseId(v: string, what = 'id'): number {
  if (!/^\d+$/.test(v)) throw new CliError(`invalid ${what} ${JSON.stringify(v)}: expected a number`, 2);
  return Number(v);
}
