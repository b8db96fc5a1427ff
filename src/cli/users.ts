import type { Command } from 'commander';
import { withStores, printJson, printText, table, CliError, type GlobalOpts } from './context.js';
import { termSafe } from '../util/terminal.js';
import type { User, UserFields } from '../store/users.js';
import { contactFlags, type ContactFlags } from './contact-options.js';

/** The contact-rule parsers and printers (and the time-zone library), loaded when a command needs them. */
const contact = () => import('./contact-flags.js');

interface UserFlags extends ContactFlags { name?: string; phone?: string; sip?: string; xmpp?: string; group?: string; lang?: string; order?: string; email?: string; json?: boolean }

async function fields(f: UserFlags): Promise<UserFields> {
  const out: UserFields = {};
  if (f.name !== undefined) out.name = f.name;
  if (f.phone !== undefined) out.phone = f.phone;
  if (f.sip !== undefined) out.sip = f.sip;
  if (f.xmpp !== undefined) out.xmpp = f.xmpp;
  if (f.group !== undefined) out.group = f.group;
  if (f.lang !== undefined) out.lang = f.lang;
  if (f.order !== undefined) out.channelOrder = f.order;
  if (f.email !== undefined) out.email = f.email;
  if (f.tz !== undefined || f.quiet !== undefined || f.quietCallsFrom !== undefined || f.quietBelow !== undefined || f.severityChannels !== undefined) {
    const patch = (await contact()).contactPatch(f);
    if (patch) out.contact = patch;
  }
  return out;
}

/** A user for --json: the contact rules spelled as the flags write them. */
async function userJson({ contactRules, ...u }: User) {
  return { ...u, contact: (await contact()).contactView(contactRules) };
}

function userFlags(c: Command): Command {
  return contactFlags(c
    .option('--name <name>', 'display name')
    .option('--phone <e164>', 'phone number in E.164 form (+34600123456), for gsm and sms; "" clears')
    .option('--sip <ext|uri>', 'SIP extension or URI, for voip; "" clears')
    .option('--xmpp <jid>', 'XMPP address (bare JID, alice@example.org), for xmpp; "" clears')
    .option('--group <group>', 'group: mail to <group>@... reaches every member; "" clears')
    .option('--lang <lang>', 'language for speech and texts (en, es, ...)')
    .option('--order <c1,c2>', 'this user\'s own channel order, e.g. gsm,sms; "" uses the global order'));
}

export function registerUsers(program: Command, g: () => GlobalOpts): void {
  const users = program.command('users').description('manage the people Alertline notifies');
  userFlags(users.command('add <email>').description('add a user (the address monitors send alerts to)')).action(async (email: string, f: UserFlags) => {
    const given = await fields(f);
    const u = await withStores(g(), ({ stores }) => stores.users.add(email, given));
    console.log(`added ${u.email}`);
  });
  userFlags(users.command('update <email>').description('change a user')).option('--email <new>', 'new e-mail address').action(async (email: string, f: UserFlags) => {
    const given = await fields(f);
    const u = await withStores(g(), ({ stores }) => stores.users.update(email, given));
    console.log(`updated ${u.email}`);
  });
  users.command('remove <email>').description('remove a user').action(async (email: string) => {
    const ok = await withStores(g(), ({ stores }) => stores.users.remove(email));
    if (!ok) throw new CliError(`no user ${email}`, 1);
    console.log(`removed ${email}`);
  });
  users.command('list').description('list users').option('--json', 'machine-readable output').action(async (f: { json?: boolean }) => {
    const list = await withStores(g(), ({ stores }) => stores.users.list());
    if (f.json) return printJson(await Promise.all(list.map(userJson)));
    if (!list.length) return console.log('no users (add one with: alertline users add <email> --phone +E164)');
    const summary = list.some((u) => u.contactRules) ? (await contact()).contactSummary : () => '';
    console.log(table(list.map((u) => [u.email, u.name, u.phone, u.sip, u.xmpp, u.group, u.lang, u.channelOrder?.join(','), u.contactRules?.zone, summary(u.contactRules)]), ['EMAIL', 'NAME', 'PHONE', 'SIP', 'XMPP', 'GROUP', 'LANG', 'ORDER', 'TZ', 'CONTACT RULES']));
  });
  users.command('show <email>').description('one user, with their contact rules').option('--json', 'machine-readable output').action(async (email: string, f: { json?: boolean }) => {
    const u = await withStores(g(), ({ stores }) => stores.users.get(email));
    if (!u) throw new CliError(`no user ${email}`, 1);
    if (f.json) return printJson(await userJson(u));
    const rows: [string, string][] = [['email', u.email], ['name', u.name ?? ''], ['phone', u.phone ?? ''], ['sip', u.sip ?? ''], ['xmpp', u.xmpp ?? ''], ['group', u.group ?? ''], ['lang', u.lang ?? ''],
      ['order', u.channelOrder?.join(',') ?? '(group or global order)'], ...(await contact()).contactLines(u.contactRules)];
    printText(rows.map(([k, v]) => `${k.padEnd(18)}${termSafe(v)}`.trimEnd()).join('\n'));
  });
}

export function registerGroups(program: Command, g: () => GlobalOpts): void {
  const groups = program.command('groups').description('groups of users (mail to <group>@... reaches every member) and their channel order');
  groups.command('list').description('groups with their members and order').option('--json', 'machine-readable output').action(async (f: { json?: boolean }) => {
    const list = await withStores(g(), ({ stores }) => stores.users.groups());
    if (f.json) return printJson(list);
    if (!list.length) return console.log('no groups (put users in one with: alertline users update <email> --group noc)');
    console.log(table(list.map((x) => [x.name, x.members, x.order?.join(',') ?? '(global order)']), ['GROUP', 'MEMBERS', 'ORDER']));
  });
  groups.command('order <group> <channels>').description('channel order for the group\'s members without their own, e.g. gsm,sms; "" removes it').action(async (group: string, list: string) => {
    await withStores(g(), ({ stores }) => stores.users.setGroupOrder(group, list));
    console.log(list ? `group ${group.toLowerCase()}: ${list}` : `group ${group.toLowerCase()} uses the global order`);
  });
}
