/**
 * alertline backup FILE | restore FILE: an online, checked copy of the database while the daemon
 * runs; a checked restore while it is stopped (the current database kept as alertline.db.bak).
 */
import type { Command } from 'commander';
import { loadCli, printJson, line, CliError, type GlobalOpts } from './context.js';

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function registerBackup(program: Command, g: () => GlobalOpts): void {
  program.command('backup <file>').description('online copy of the database (safe while the daemon runs), checked before it is kept')
    .option('--json', 'machine-readable output')
    .action(async (file: string, f: { json?: boolean }) => {
      const { backupDatabase, BackupError } = await import('../store/backup.js');
      const { databasePath } = await import('../store/database.js');
      const loaded = loadCli(g());
      if (loaded.config.store.engine === 'postgres') throw new CliError('store.engine is postgres: back it up with pg_dump (alertline backup copies the SQLite file)', 2);
      try {
        const r = await backupDatabase(databasePath(loaded.config.dataDir), file);
        if (f.json) printJson(r);
        else line(`backup written to ${r.file}: ${mb(r.bytes)}, ${r.alerts} alerts, ${r.users} users, schema ${r.schemaVersion}, integrity ok`);
      } catch (e) {
        if (e instanceof BackupError) throw new CliError(e.message, e.exitCode);
        throw new CliError(`backup failed, nothing written to ${file}: ${(e as Error).message}`, 1);
      }
    });

}

export function registerRestore(program: Command, g: () => GlobalOpts): void {
  program.command('restore <file>').description('replace the database with a backup (daemon stopped); the current one is kept as alertline.db.bak')
    .option('--json', 'machine-readable output')
    .action(async (file: string, f: { json?: boolean }) => {
      const { restoreDatabase, BackupError } = await import('../store/backup.js');
      const { databasePath } = await import('../store/database.js');
      const loaded = loadCli(g());
      if (loaded.config.store.engine === 'postgres') throw new CliError('store.engine is postgres: restore it with pg_restore/psql (alertline restore replaces the SQLite file)', 2);
      try {
        const r = await restoreDatabase(file, databasePath(loaded.config.dataDir));
        if (f.json) printJson(r);
        else {
          line(`restored ${r.restored.file}: ${r.restored.alerts} alerts, ${r.restored.users} users, schema ${r.restored.schemaVersion}${r.schemaVersion !== r.restored.schemaVersion ? ` (migrated to ${r.schemaVersion})` : ''}`);
          if (r.previous) line(`the previous database is kept as ${r.previous}`);
        }
      } catch (e) {
        if (e instanceof BackupError) throw new CliError(e.message, e.exitCode);
        throw new CliError(`restore failed: ${(e as Error).message}`, 1);
      }
    });
}
