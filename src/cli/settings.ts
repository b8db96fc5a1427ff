import type { Command } from 'commander';
import { withStores, printJson, table, line, type GlobalOpts } from './context.js';
import { SettingsStore } from '../store/settings.js';

export function registerSettings(program: Command, g: () => GlobalOpts): void {
  const s = program.command('settings').description('runtime settings kept in the database (override the file)');
  s.command('get [key]').description('show one setting or all').option('--json', 'machine-readable output').action(async (key: string | undefined, f: { json?: boolean }) => {
    if (key) SettingsStore.keySpec(key);
    const all = await withStores(g(), ({ stores, loaded }) => stores.settings.describe(loaded.config));
    const rows = key ? all.filter((r) => r.key === key) : all;
    if (f.json) return printJson(key ? rows[0] : rows);
    if (key) return line(typeof rows[0]!.value === 'string' ? rows[0]!.value : JSON.stringify(rows[0]!.value));
    console.log(table(rows.map((r) => [r.key, typeof r.value === 'string' ? r.value : JSON.stringify(r.value), r.source]), ['KEY', 'VALUE', 'FROM']));
  });
  s.command('set <key> <value>').description('set a value, e.g. voice.lang es').action(async (key: string, value: string) => {
    const v = await withStores(g(), ({ stores }) => stores.settings.set(key, value));
    console.log(`${key} = ${JSON.stringify(v)}`);
  });
  s.command('unset <key>').description('remove a database override (the file\'s value applies again)').action(async (key: string) => {
    SettingsStore.keySpec(key);
    const had = await withStores(g(), ({ stores }) => stores.settings.unset(key));
    console.log(had ? `${key} unset` : `${key} had no database value`);
  });
}
