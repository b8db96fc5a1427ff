/** alertline policies, routes: escalation steps, and which recipient address (and hosts) use which policy. */
import type { Command } from 'commander';

import { withStores, printJson, table, parseId, CliError, type GlobalOpts, printText } from './context.js';
import { act, collect, isoTime, localZone, showTime } from './oncall-common.js';
import { Pattern, formatStep, parseInstant, parseLevel, policyFromOptions, type Policy } from '../core/oncall/index.js';
import { Router } from '../core/routing.js';
import { ValidationError } from '../store/user-fields.js';

function stepsText(p: Policy): string {
  return p.steps.map(formatStep).join(' → ') + (p.repeat > 0 ? `, repeat ${p.repeat}` : '');
}

export function registerPolicies(program: Command, g: () => GlobalOpts): void {
  const po = program.command('policies').description('escalation policies: who is notified, how long to wait for an acknowledgement, who next');
  po.command('add <name>').description('add a policy from its steps, in order')
    .option('--step <step>', 'schedule:NAME[/LAYER], group:NAME, user:EMAIL or wait:10m (repeat the flag; in order)', collect, [])
    .option('--repeat <n>', 'run the whole policy again up to N more times (it must end with a wait)', '0')
    .action(act(async (name: string, f: { step: string[]; repeat: string }) => {
      if (!f.step.length) throw new ValidationError(`policy ${name}: give its steps, e.g. --step schedule:noc --step wait:10m --step group:ops`);
      const p = policyFromOptions(name, f.step, f.repeat);
      const saved = await withStores(g(), ({ stores }) => stores.oncall.addPolicy(p));
      printText(`added policy ${saved.name}: ${stepsText(saved)}`);
    }));

  po.command('list').description('policies with their steps and the routes that use them').option('--json', 'machine-readable output')
    .action(act(async (f: { json?: boolean }) => {
      const r = await withStores(g(), async ({ stores }) => ({ policies: await stores.oncall.listPolicies(), routes: await stores.oncall.listRoutes() }));
      const used = (n: string) => r.routes.filter((x) => x.policy === n).map((x) => x.id);
      if (f.json) return printJson(r.policies.map((p) => ({ ...p, stepsText: p.steps.map(formatStep), routes: used(p.name) })));
      if (!r.policies.length) return printText('no policies (add one with: alertline policies add noc --step schedule:noc --step wait:10m --step group:ops)');
      printText(table(r.policies.map((p) => [p.name, p.steps.map(formatStep).join(' → '), p.repeat, used(p.name).map((i) => `#${i}`).join(',')]), ['POLICY', 'STEPS', 'REPEAT', 'ROUTES']));
    }));

  po.command('remove <name>').description('remove a policy (no route may use it)').action(act(async (name: string) => {
    const ok = await withStores(g(), ({ stores }) => stores.oncall.removePolicy(name));
    if (!ok) throw new CliError(`no policy ${name}`, 1);
    printText(`removed policy ${name}`);
  }));
}

interface RouteFlags { policy: string; host?: string; subject?: string; severity?: string; position?: string }

export function registerRoutes(program: Command, g: () => GlobalOpts): void {
  const ro = program.command('routes').description('which policy mail to an address uses (noc@… → policy noc), optionally only for some hosts, subjects or severities');
  ro.command('add <address>').description('route the recipient local part (noc for noc@anything) to a policy; routes are tried in order, the first that matches wins')
    .requiredOption('--policy <name>', 'the policy')
    .option('--host <re>', 'only alerts whose whole host name matches (db-.*)')
    .option('--subject <re>', 'only alerts whose subject contains a match')
    .option('--severity <level>', 'only alerts at this level or above (info, warning, average, high, critical)')
    .option('--position <n>', 'place among the routes (1 = tried first); default last')
    .action(act(async (address: string, f: RouteFlags) => {
      if (f.host !== undefined) Pattern.compile(f.host, 'host', true);
      if (f.subject !== undefined) Pattern.compile(f.subject, 'subject');
      const severity = f.severity !== undefined ? parseLevel(f.severity) : undefined;
      const position = f.position !== undefined ? parseId(f.position, '--position') : undefined;
      const r = await withStores(g(), ({ stores }) => stores.oncall.addRoute({
        address, policy: f.policy,
        ...(f.host !== undefined ? { host: f.host } : {}), ...(f.subject !== undefined ? { subject: f.subject } : {}),
        ...(severity !== undefined ? { severity } : {}), ...(position !== undefined ? { position } : {}),
      }));
      const only = [r.host !== undefined ? `host ${r.host}` : '', r.subject !== undefined ? `subject ${r.subject}` : '', r.severity ? `severity ${r.severity}+` : ''].filter(Boolean);
      printText(`added route ${r.id} (position ${r.position}): ${r.address}@… → policy ${r.policy}${only.length ? ` for ${only.join(', ')}` : ''}`);
    }));

  ro.command('list').description('routes in the order they are tried').option('--json', 'machine-readable output')
    .action(act(async (f: { json?: boolean }) => {
      const list = await withStores(g(), ({ stores }) => stores.oncall.listRoutes());
      if (f.json) return printJson(list);
      if (!list.length) return printText('no routes: mail to a user\'s address notifies that user, to <group>@… the group (add one with: alertline routes add noc --policy noc)');
      printText(table(list.map((r) => [r.position, r.id, `${r.address}@`, r.policy, r.host ?? '', r.subject ?? '', r.severity ? `${r.severity}+` : '']), ['#', 'ID', 'ADDRESS', 'POLICY', 'HOST', 'SUBJECT', 'SEVERITY']));
    }));

  ro.command('remove <id>').description('remove a route').action(act(async (idText: string) => {
    const id = parseId(idText);
    const ok = await withStores(g(), ({ stores }) => stores.oncall.removeRoute(id));
    if (!ok) throw new CliError(`no route ${id}`, 1);
    printText(`removed route ${id}`);
  }));

  ro.command('explain <address>').description('what an alert to <address> would do now (or --at): silenced, or which policy and who is notified first')
    .option('--host <host>', 'the alert\'s host')
    .option('--subject <text>', 'the alert\'s subject', '')
    .option('--severity <level>', 'the alert\'s level (default: unknown, counted as critical)')
    .option('--at <time>', 'ISO time (local to this machine without an offset)')
    .option('--json', 'machine-readable output')
    .action(act(async (address: string, f: { host?: string; subject: string; severity?: string; at?: string; json?: boolean }) => {
      const zone = localZone();
      const at = f.at !== undefined ? parseInstant(f.at, zone, 'at') : Date.now();
      const level = f.severity !== undefined ? parseLevel(f.severity) : undefined;
      const tables = await withStores(g(), ({ stores }) => stores.oncall.routingTables(at));
      const router = new Router(tables);
      const d = router.route({ recipient: address, subject: f.subject, ...(f.host !== undefined ? { host: f.host } : {}), ...(level ? { level } : {}) }, at);
      if (d.decision === 'unknown') {
        if (f.json) printJson({ decision: d.decision, reason: d.reason, problems: router.problems });
        else printText(d.reason);
        throw new CliError('', 1);
      }
      const first = router.whoToNotifyNow(d.choice.policy, at, at, []);
      const via = d.choice.via === 'route' ? `route ${d.choice.route.id}` : d.choice.via === 'user' ? `user ${d.choice.user}` : `group ${d.choice.group}`;
      if (f.json) {
        return printJson({
          decision: d.decision, via: d.choice.via, route: d.choice.via === 'route' ? d.choice.route.id : null, policy: d.choice.policy.name,
          steps: d.choice.policy.steps.map(formatStep), repeat: d.choice.policy.repeat, firstNotified: first.emails,
          problems: [...router.problems, ...first.notifications.flatMap((n) => (n.problem ? [n.problem] : []))],
          silence: d.decision === 'silenced' ? { id: d.silence.id, comment: d.silence.comment, until: isoTime(d.until, zone), untilMs: d.until } : null,
        });
      }
      if (d.decision === 'silenced') printText(`silenced by silence ${d.silence.id} (${d.silence.comment}) until ${showTime(d.until, zone)}; then:`);
      printText(`policy ${d.choice.policy.name} (via ${via}): ${stepsText(d.choice.policy)}`);
      printText(`first notified: ${first.emails.join(', ') || '(nobody)'}`);
      for (const n of first.notifications) if (n.problem) printText(`  warning: ${n.problem}`);
      for (const p of router.problems) printText(`  warning: ${p}`);
    }));
}
