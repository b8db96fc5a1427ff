/** What every command needs: the config (file) and the database, opened the same way the daemon does. */
import { loadConfig, ConfigError, type LoadedConfig } from '../config/load.js';
import { DirectoryError, prepareDirectory } from '../config/dirs.js';
import { openStoresAt, type Stores } from '../store/index.js';
import type { Config } from '../config/schema.js';
import { jsonSafe, termSafe, termSafeText } from '../util/terminal.js';
import { CliError } from './errors.js';

export { CliError } from './errors.js';

export interface GlobalOpts {
  config?: string;
}

export interface Ctx {
  loaded: LoadedConfig;
  stores: Stores;
  /** File config with database settings applied. */
  effective(): Promise<Config>;
}

/**
 * The config as every command sees it (the one lookup in config/load.ts), with the directories
 * the command needs made ready: checked to be real and writable, created one level at a time
 * (never the recursive mkdir that spins under /proc). dataDir always; run and say add audioCacheDir.
 */
export function loadCli(opts: GlobalOpts, dirs: readonly ('dataDir' | 'audioCacheDir')[] = ['dataDir']): LoadedConfig {
  const loaded = loadConfig(opts.config);
  for (const key of dirs) {
    const dir = loaded.config[key];
    if (key === 'dataDir' && dir === ':memory:') continue;
    try {
      prepareDirectory(dir);
    } catch (e) {
      if (!(e instanceof DirectoryError)) throw e;
      const where = loaded.path ?? 'built-in defaults';
      throw new ConfigError(`${where}: ${key}: ${e.message}`, [{ key, message: e.message }]);
    }
  }
  return loaded;
}

export async function withStores<T>(opts: GlobalOpts, fn: (ctx: Ctx) => T | Promise<T>): Promise<T> {
  const loaded = loadCli(opts);
  const stores = await openStoresAt(loaded.config.store, loaded.config.dataDir);
  try {
    return await fn({ loaded, stores, effective: () => stores.settings.effective(loaded.config) });
  } finally {
    await stores.close();
  }
}

/** --json output: plain JSON escapes for every control character (see util/terminal.ts). */
export function printJson(v: unknown): void {
  process.stdout.write(jsonSafe(v) + '\n');
}

/** Lines this program laid out (a table, a block): newlines kept, every other control character escaped. */
export function printText(text: unknown = ''): void {
  process.stdout.write(termSafeText(String(text)) + '\n');
}

/** One line for the operator's terminal: control characters in values are shown escaped, never sent raw. */
export function line(text: string): void {
  process.stdout.write(termSafe(text) + '\n');
}

/** Columns; every cell is escaped for the terminal (a value cannot add lines or move the cursor). */
export function table(rows: (string | number | null | undefined)[][], header: string[]): string {
  const all = [header, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : termSafe(c))))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function fmtTime(ms: number | null | undefined): string {
  if (!ms) return '';
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * A positive whole number from the command line (an id, --limit): 1 to 2^53-1, so it is exactly
 * what was typed (99999999999999999999 would otherwise become 100000000000000000000, a float
 * SQLite refuses). Anything else is a usage error naming the input.
 */
export function parseId(v: string, what = 'id', max = Number.MAX_SAFE_INTEGER): number {
  const digits = v.length <= 64 && /^\d+$/.test(v) ? v.replace(/^0+(?=\d)/, '') : '';
  const n = digits && digits.length <= 16 ? Number(digits) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new CliError(`invalid ${what} ${JSON.stringify(termSafe(v))}: expected a whole number from 1 to ${max}`, 2);
  }
  return n;
}
