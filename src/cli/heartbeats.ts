/** alertline heartbeats add <name> --every 5m [--grace 2m] [--group G] | list | remove <name> */
import type { Command } from 'commander';
import { withStores, printJson, table, fmtTime, CliError, type GlobalOpts } from './context.js';
import { formatDuration, parseDuration } from '../config/units.js';

function duration(v: string, flag: string): number {
  try {
    return parseDuration(v);
  } catch (e) {
    throw new CliError(`${flag}: ${(e as Error).message}`, 2);
  }
}

export function registerHeartbeats(program: Command, g: () => GlobalOpts): void {
  const hb = program.command('heartbeats').description('dead-man\'s switches: a monitor that stops pinging raises "monitor <name> went quiet"');
  hb.command('add <name>').description('expect a ping (POST /api/v1/heartbeats/<name>) every interval')
    .requiredOption('--every <duration>', 'ping interval, e.g. 5m')
    .option('--grace <duration>', 'how late a ping may be', '0s')
    .option('--group <group>', 'who is told when it goes quiet (default: http.defaultTo)')
    .action(async (name: string, f: { every: string; grace: string; group?: string }) => {
      const everyMs = duration(f.every, '--every');
      const graceMs = duration(f.grace, '--grace');
      const h = await withStores(g(), ({ stores }) => stores.heartbeats.add(name, { everyMs, graceMs, group: f.group ?? null }));
      console.log(`added heartbeat ${h.name}: every ${formatDuration(h.everyMs)}, grace ${formatDuration(h.graceMs)}${h.group ? `, tells group ${h.group}` : ''}`);
      console.log(`ping it with: POST /api/v1/heartbeats/${h.name} (a token with scope ingest)`);
    });
  hb.command('list').description('heartbeats and their last ping').option('--json', 'machine-readable output').action(async (f: { json?: boolean }) => {
    const list = await withStores(g(), ({ stores }) => stores.heartbeats.list());
    if (f.json) return printJson(list);
    if (!list.length) return console.log('no heartbeats (add one with: alertline heartbeats add zabbix --every 5m --grace 2m --group admins)');
    console.log(table(list.map((h) => [h.name, formatDuration(h.everyMs), formatDuration(h.graceMs), h.group ?? '(http.defaultTo)', fmtTime(h.lastSeenAt) || 'never', h.quietSince ? `QUIET since ${fmtTime(h.quietSince)}` : 'ok']),
      ['NAME', 'EVERY', 'GRACE', 'GROUP', 'LAST PING', 'STATE']));
  });
  hb.command('remove <name>').description('remove a heartbeat').action(async (name: string) => {
    const ok = await withStores(g(), ({ stores }) => stores.heartbeats.remove(name));
    if (!ok) throw new CliError(`no heartbeat ${name}`, 1);
    console.log(`removed heartbeat ${name}`);
  });
}
