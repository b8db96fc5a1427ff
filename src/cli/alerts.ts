import type { Command } from 'commander';
import { withStores, printJson, table, line, fmtTime, parseId, CliError, type GlobalOpts } from './context.js';
import type { Stores } from '../store/index.js';
import { acknowledger } from '../core/acknowledge.js';
import { silentLogger } from '../util/log.js';

export async function alertDetail(stores: Stores, id: number) {
  const a = await stores.alerts.get(id);
  if (!a) return null;
  const deliveries = await stores.alerts.deliveries(id);
  const attempts = await stores.alerts.attempts(id);
  const events = await stores.alerts.events(id);
  const byDelivery = new Map(deliveries.map((d) => [d.id, d.user_email]));
  const timeline = [
    ...events.map((e) => ({ at: e.at, what: e.kind, detail: e.detail ?? '' })),
    ...attempts.map((t) => ({
      at: t.started_at,
      what: `${t.channel}${t.outcome ? '' : ' (in progress)'}`,
      detail: `to ${byDelivery.get(t.delivery_id)}${t.target && t.target !== byDelivery.get(t.delivery_id) ? ` (${t.target})` : ''} round ${t.round}: ${t.outcome ?? 'running'}${t.ended_at ? ` after ${((t.ended_at - t.started_at) / 1000).toFixed(1)}s` : ''}${t.reason ? ` — ${t.reason}` : ''}`,
    })),
  ].sort((x, y) => x.at - y.at);
  return {
    id: a.id, state: a.state, kind: a.kind, subject: a.subject, host: a.host, severity: a.severity, eventId: a.event_id,
    from: a.mail_from, rcpt: JSON.parse(a.rcpt) as string[], receivedAt: a.received_at,
    ack: a.ack_at ? { by: a.ack_by, via: a.ack_via, at: a.ack_at } : null,
    resolved: a.resolved_at ? { by: a.resolved_by, at: a.resolved_at } : null,
    deliveries: deliveries.map((d) => ({ id: d.id, user: d.user_email, state: d.state, round: d.round, step: d.step + 1, nextAt: d.state === 'queued' ? d.next_at : null, result: d.result })),
    attempts: attempts.map((t) => ({ id: t.id, user: byDelivery.get(t.delivery_id), channel: t.channel, target: t.target, round: t.round, startedAt: t.started_at, endedAt: t.ended_at, durationMs: t.ended_at ? t.ended_at - t.started_at : null, outcome: t.outcome, reason: t.reason, detail: t.detail ? JSON.parse(t.detail) : null })),
    timeline,
    text: a.text,
  };
}

export function registerAlerts(program: Command, g: () => GlobalOpts): void {
  const al = program.command('alerts').description('alert history');
  al.command('list').description('recent alerts with their state and attempts')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'machine-readable output')
    .action(async (f: { limit: string; json?: boolean }) => {
      const limit = parseId(f.limit, '--limit');
      const rows = await withStores(g(), async ({ stores }) => {
        const out = [];
        for (const a of await stores.alerts.list(limit)) out.push((await alertDetail(stores, a.id))!);
        return out;
      });
      if (f.json) return printJson(rows.map(({ text: _t, timeline: _tl, ...r }) => r));
      if (!rows.length) return console.log('no alerts yet');
      console.log(table(rows.map((a) => [
        a.id, fmtTime(a.receivedAt), a.state, a.kind, a.subject.slice(0, 60),
        a.attempts.map((t) => `${t.channel}:${t.outcome ?? 'running'}`).join(' ') || '-',
      ]), ['ID', 'RECEIVED', 'STATE', 'KIND', 'SUBJECT', 'ATTEMPTS']));
    });
  al.command('show <id>').description('one alert: every step, ack and resolution').option('--json', 'machine-readable output').action(async (idText: string, f: { json?: boolean }) => {
    const id = parseId(idText);
    const a = await withStores(g(), ({ stores }) => alertDetail(stores, id));
    if (!a) throw new CliError(`no alert ${id}`, 1);
    if (f.json) return printJson(a);
    line(`alert ${a.id}: ${a.subject}`);
    line(`state ${a.state}, kind ${a.kind}${a.host ? `, host ${a.host}` : ''}${a.severity ? `, severity ${a.severity}` : ''}${a.eventId ? `, event ${a.eventId}` : ''}`);
    if (a.ack) line(`acknowledged by ${a.ack.by} via ${a.ack.via} at ${fmtTime(a.ack.at)}`);
    if (a.resolved) line(`resolved by alert ${a.resolved.by} at ${fmtTime(a.resolved.at)}`);
    console.log('\nrecipients:');
    console.log(table(a.deliveries.map((d) => [d.user, d.state, `round ${d.round} step ${d.step}`, d.nextAt ? `next ${fmtTime(d.nextAt)}` : '', d.result ?? '']), ['USER', 'STATE', 'AT', 'NEXT', 'RESULT']));
    console.log('\ntimeline:');
    for (const t of a.timeline) line(`  ${fmtTime(t.at)}  ${t.what.padEnd(12)} ${t.detail}`);
  });
}

export function registerAck(program: Command, g: () => GlobalOpts): void {
  program.command('ack <id>').description('acknowledge an alert by hand: stops every pending call and message for it')
    .option('--by <name>', 'who acknowledges', process.env.SUDO_USER || process.env.USER || 'cli')
    .action(async (idText: string, f: { by: string }) => {
      const id = parseId(idText);
      const r = await withStores(g(), async ({ stores }) => {
        if (!(await stores.alerts.get(id))) throw new CliError(`no alert ${id}`, 1);
        const ack = acknowledger({ alerts: stores.alerts, users: stores.users, now: Date.now, logger: silentLogger });
        return ack({ alertId: id, by: { operator: f.by }, via: 'cli' });
      });
      if (!r.ok) throw new CliError(r.message, 1);
      const ids = r.acknowledged;
      console.log(`acknowledged alert${ids.length > 1 ? 's' : ''} ${ids.join(', ')}`);
    });
}
