/** alertline silences: maintenance windows; matching alerts are stored as silenced (visible, not delivered). */
import type { Command } from 'commander';

import { withStores, printJson, table, parseId, CliError, type GlobalOpts, printText } from './context.js';
import { act, isoTime, localZone, operator, showTime } from './oncall-common.js';
import { parseZone, silenceFromOptions } from '../core/oncall/index.js';
import type { SilenceRecord } from '../store/oncall.js';

interface AddFlags { host?: string; subject?: string; severity?: string; for?: string; until?: string; from?: string; comment?: string; tz?: string }

function stateOf(s: SilenceRecord, now: number): 'active' | 'scheduled' | 'over' {
  return s.until <= now ? 'over' : s.from > now ? 'scheduled' : 'active';
}

function matchText(s: SilenceRecord): string {
  return [s.host !== undefined ? `host ${s.host}` : '', s.subject !== undefined ? `subject ${s.subject}` : '', s.severity ? `severity ${s.severity} or below` : ''].filter(Boolean).join(', ');
}

export function registerSilences(program: Command, g: () => GlobalOpts): void {
  const si = program.command('silences').description('maintenance windows: matching alerts are kept, shown as silenced, not delivered');
  si.command('add').description('silence alerts matching every pattern given, for a while')
    .option('--host <re>', 'the whole host name matches (db-.*)')
    .option('--subject <re>', 'the subject contains a match')
    .option('--severity <level>', 'the alert\'s level is this or below (warning: info and warning)')
    .option('--for <duration>', 'how long, e.g. 2h')
    .option('--until <time>', 'or until when (ISO; without an offset local to --tz)')
    .option('--from <time>', 'start later than now (ISO)')
    .option('--tz <zone>', 'zone of times written without an offset (default: this machine\'s)')
    .requiredOption('--comment <text>', 'why (shown with every silenced alert)')
    .action(act(async (f: AddFlags) => {
      const zone = f.tz !== undefined ? parseZone(f.tz) : localZone();
      const now = Date.now();
      const s = silenceFromOptions({ comment: f.comment ?? '', ...pick(f) }, now, zone);
      const saved = await withStores(g(), ({ stores }) => stores.oncall.addSilence({ ...s, createdBy: operator() }));
      printText(`added silence ${saved.id}: ${matchText(saved)} from ${showTime(saved.from, zone)} until ${showTime(saved.until, zone)} (${saved.comment})`);
    }));

  si.command('list').description('silences active or still to come (--all: also the ones over)')
    .option('--all', 'include silences that are over')
    .option('--json', 'machine-readable output')
    .action(act(async (f: { all?: boolean; json?: boolean }) => {
      const now = Date.now();
      const zone = localZone();
      const list = await withStores(g(), ({ stores }) => stores.oncall.listSilences(f.all ? {} : { endingAfter: now }));
      if (f.json) return printJson(list.map((s) => ({ ...s, state: stateOf(s, now), fromIso: isoTime(s.from, zone), untilIso: isoTime(s.until, zone) })));
      if (!list.length) return printText(`no silences${f.all ? '' : ' active or to come'} (add one with: alertline silences add --host 'db-.*' --for 2h --comment "kernel upgrade")`);
      printText(table(list.map((s) => [s.id, stateOf(s, now), showTime(s.from, zone), showTime(s.until, zone), s.host ?? '', s.subject ?? '', s.severity ? `${s.severity}-` : '', s.createdBy ?? '', s.comment]),
        ['ID', 'STATE', 'FROM', 'UNTIL', 'HOST', 'SUBJECT', 'SEVERITY', 'BY', 'COMMENT']));
    }));

  si.command('remove <id>').description('end a silence now (one not started yet is deleted); the alerts it held are then delivered')
    .action(act(async (idText: string) => {
      const id = parseId(idText);
      const r = await withStores(g(), ({ stores }) => stores.oncall.removeSilence(id));
      if (!r) throw new CliError(`no silence ${id}`, 1);
      printText(r.deleted ? `removed silence ${id} (it had not started)` : r.ended ? `ended silence ${id} now` : `silence ${id} was already over`);
    }));
}

function pick(f: AddFlags) {
  const o: { host?: string; subject?: string; severity?: string; for?: string; until?: string; from?: string } = {};
  if (f.host !== undefined) o.host = f.host;
  if (f.subject !== undefined) o.subject = f.subject;
  if (f.severity !== undefined) o.severity = f.severity;
  if (f.for !== undefined) o.for = f.for;
  if (f.until !== undefined) o.until = f.until;
  if (f.from !== undefined) o.from = f.from;
  return o;
}
