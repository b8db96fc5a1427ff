/**
 * alertline migrate-store --from sqlite --to postgres [--url URL]: moves an existing box's data
 * (users, alerts with their raw mail, history, on-call rows, tokens, heartbeats, settings) into
 * an empty PostgreSQL, so it can join other nodes there; or back, --from postgres --to sqlite,
 * into an empty dataDir. The daemon must be stopped. Then set store.engine in the config.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { loadCli, line, printJson, CliError, type GlobalOpts } from './context.js';
import { openStores, openStoresAt, type Stores } from '../store/index.js';
import { databasePath } from '../store/database.js';
import { snapshotIsLive } from '../store/daemon-status.js';

/** A URL with its password masked, for messages. */
function masked(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

export function registerMigrateStore(program: Command, g: () => GlobalOpts): void {
  program.command('migrate-store')
    .description('copy every row from one store engine to another (daemon stopped): --from sqlite --to postgres moves a box to a shared PostgreSQL')
    .requiredOption('--from <engine>', 'sqlite | postgres')
    .requiredOption('--to <engine>', 'sqlite | postgres')
    .option('--url <postgres-url>', 'the PostgreSQL (default: store.url in the config)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', `
The target must be empty: a new PostgreSQL database (createdb alertline), or a dataDir without
alertline.db. The source is only read. Afterwards set in the config:
  store: { engine: postgres, url: postgres://alertline@db.example/alertline }
  node: { name: pi-1 }`)
    .action(async (f: { from: string; to: string; url?: string; json?: boolean }) => {
      const engines = ['sqlite', 'postgres'];
      if (!engines.includes(f.from) || !engines.includes(f.to)) throw new CliError(`--from and --to take sqlite or postgres (got ${f.from} → ${f.to})`, 2);
      if (f.from === f.to) throw new CliError('--from and --to name the same engine: nothing to move', 2);
      const loaded = loadCli(g());
      const url = f.url ?? loaded.config.store.url;
      if (!url) throw new CliError('no PostgreSQL URL: give --url postgres://user@host/alertline or set store.url', 2);
      if (f.from === 'sqlite' && !existsSync(databasePath(loaded.config.dataDir))) {
        throw new CliError(`no database at ${databasePath(loaded.config.dataDir)}: nothing to move (is dataDir right?)`, 1);
      }
      if (f.to === 'sqlite' && existsSync(databasePath(loaded.config.dataDir))) {
        throw new CliError(`${databasePath(loaded.config.dataDir)} exists: the target must be empty (move it away first)`, 1);
      }
      let from: Stores | null = null;
      let to: Stores | null = null;
      try {
        try {
          from = f.from === 'sqlite' ? openStores(loaded.config.dataDir) : await openStoresAt({ engine: 'postgres', url }, loaded.config.dataDir);
          to = f.to === 'sqlite' ? openStores(loaded.config.dataDir) : await openStoresAt({ engine: 'postgres', url }, loaded.config.dataDir);
        } catch (e) {
          throw new CliError(`cannot open the ${from ? 'target' : 'source'} (${masked(url)}): ${(e as Error).message}`, 1);
        }
        if (snapshotIsLive(await from.daemonStatus.read(), Date.now())) throw new CliError('the daemon is running on the source: stop it first (systemctl stop alertline)', 1);
        const { copyStore, CopyError } = await import('../store/copy.js');
        let r;
        try {
          r = await copyStore(from, to);
        } catch (e) {
          if (e instanceof CopyError) throw new CliError(`nothing copied: ${e.message}`, 1);
          throw new CliError(`nothing copied (the target transaction was rolled back): ${(e as Error).message}`, 1);
        }
        if (f.json) printJson(r);
        else {
          const total = r.tables.reduce((n, t) => n + t.rows, 0);
          line(`copied ${total} rows from ${f.from} to ${f.to === 'postgres' ? masked(url) : databasePath(loaded.config.dataDir)}:`);
          for (const t of r.tables) if (t.rows) line(`  ${t.table.padEnd(20)} ${t.rows}`);
          line(`now set store.engine: ${f.to}${f.to === 'postgres' ? ' (and store.url)' : ''} in the config and start the daemon`);
        }
      } finally {
        await from?.close().catch(() => undefined);
        await to?.close().catch(() => undefined);
      }
    });
}
