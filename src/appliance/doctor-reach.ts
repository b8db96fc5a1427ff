/**
 * doctor's "can anyone be reached" checks, pure: from the effective configuration and the people
 * in the database, whether an alert can reach anybody at all (no enabled channel that has an
 * address for any user is a failure: the appliance would accept alerts and tell nobody), who
 * cannot be reached, and whether anyone gets the appliance's own alarms (admins.group).
 */
import type { Config } from '../config/schema.js';
import type { ChannelName } from '../config/channel-names.js';
import { fail, pass, skip, warn, type CheckResult } from './doctor-checks.js';

export interface Person {
  email: string;
  phone: string | null;
  sip: string | null;
  xmpp?: string | null;
  /** A web console login is this person (web-users --user): the console channel reaches them while it is open. */
  console?: boolean;
  group: string | null;
  /** The order their deliveries walk: their own, else their group's; null: the global one. */
  order: ChannelName[] | null;
}

/** The address field each channel needs (the channels' address() rules). */
const NEEDS: Partial<Record<ChannelName, (p: Person) => boolean>> = {
  voip: (p) => Boolean(p.sip?.trim()),
  sipmsg: (p) => Boolean(p.sip?.trim()),
  gsm: (p) => Boolean(p.phone?.trim()),
  sms: (p) => Boolean(p.phone?.trim()),
  mail: (p) => Boolean(p.email),
  xmpp: (p) => Boolean(p.xmpp?.trim()),
  console: (p) => Boolean(p.console),
};

/** The enabled channels in a person's order that have an address for them. */
export function reachableBy(p: Person, cfg: Config): ChannelName[] {
  const order = p.order && p.order.length ? p.order : cfg.channels.order;
  return order.filter((c) => cfg.channels[c]?.enabled && NEEDS[c]?.(p));
}

export function reachChecks(cfg: Config, people: Person[] | null): CheckResult[] {
  const enabled = (Object.keys(NEEDS) as ChannelName[]).filter((c) => cfg.channels[c].enabled);
  const out: CheckResult[] = [];
  if (!enabled.length) {
    out.push(fail('reach', 'no channel is enabled: every alert would be accepted and reach nobody',
      'enable at least one: alertline channels enable mail (or voip, gsm, sms), with its settings in the config file'));
  } else if (people === null) {
    out.push(skip('reach', 'skipped (the database did not open)'));
  } else if (!people.length) {
    // Mail for unknown recipients is refused at RCPT, so nothing is accepted and lost: the users line warns.
    out.push(skip('reach', `channels ${enabled.join(', ')} are enabled; no users yet`));
  } else {
    const none = people.filter((p) => !reachableBy(p, cfg).length);
    if (none.length === people.length) {
      out.push(fail('reach', `no enabled channel (${enabled.join(', ')}) can reach any of the ${people.length} user${people.length === 1 ? '' : 's'}`,
        'give users the address an enabled channel needs (--phone for gsm/sms, --sip for voip, a web login with web-users add --user for console), or enable a channel in their order'));
    } else {
      out.push(pass('reach', `${people.length - none.length} of ${people.length} user${people.length === 1 ? '' : 's'} reachable (channels ${enabled.join(', ')})`));
      if (none.length) {
        const list = none.slice(0, 10).map((p) => p.email).join(', ') + (none.length > 10 ? ` and ${none.length - 10} more` : '');
        out.push(warn('reach-users', `reachable by no enabled channel: ${list}`,
          'alertline users update <email> --phone +E164 (gsm, sms) / --sip EXT (voip), or check their channel order'));
      }
    }
  }
  if (people !== null) {
    const admins = people.filter((p) => p.group === cfg.admins.group);
    if (!admins.length) {
      out.push(warn('admins', `nobody is in group ${cfg.admins.group} (admins.group): the appliance's own alarms (modem down, relay failing, alerts nobody got) reach no one`,
        `alertline users add <email> --group ${cfg.admins.group} (or update an existing user)`));
    } else {
      const reach = admins.filter((p) => reachableBy(p, cfg).length);
      out.push(reach.length
        ? pass('admins', `${admins.length} in group ${cfg.admins.group}: ${admins.map((p) => p.email).join(', ')}`)
        : warn('admins', `nobody in group ${cfg.admins.group} is reachable by an enabled channel`, 'give an admin the address of an enabled channel'));
    }
  }
  return out;
}
