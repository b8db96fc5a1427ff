/** Users (on-call people) and groups. Addresses are validated on the way in. */
import type { Sql } from './sql/driver.js';
import type { ChannelName } from '../config/channel-names.js';
import {
  ValidationError, validateChannelOrder, validateEmail, validateGroup, validateLang, validatePhone, validateSip, validateXmpp,
} from './user-fields.js';
import { contactRulesFromColumn, patchContactRules, type ContactRulesPatch, type ContactRulesRecord } from './contact-rules.js';

export interface User {
  id: number;
  email: string;
  name: string | null;
  phone: string | null;
  sip: string | null;
  /** Bare XMPP address (the xmpp channel). */
  xmpp: string | null;
  group: string | null;
  lang: string | null;
  channelOrder: ChannelName[] | null;
  /** Quiet hours and channels per severity (src/core/oncall/contact.ts); null: none (every alert walks the whole order). */
  contactRules: ContactRulesRecord | null;
  createdAt: number;
}

export interface UserFields {
  name?: string | null;
  phone?: string | null;
  sip?: string | null;
  xmpp?: string | null;
  group?: string | null;
  lang?: string | null;
  channelOrder?: ChannelName[] | string | null;
  email?: string;
  /** Changes to the contact rules; what the patch leaves out is kept. */
  contact?: ContactRulesPatch;
}

interface Row {
  id: number; email: string; name: string | null; phone: string | null; sip: string | null; xmpp?: string | null;
  grp: string | null; lang: string | null; channel_order: string | null; created_at: number;
  contact_rules: string | null;
}

function fromRow(r: Row): User {
  return {
    id: r.id, email: r.email, name: r.name, phone: r.phone, sip: r.sip, xmpp: r.xmpp ?? null, group: r.grp, lang: r.lang,
    channelOrder: r.channel_order ? (JSON.parse(r.channel_order) as ChannelName[]) : null,
    contactRules: contactRulesFromColumn(r.contact_rules), createdAt: r.created_at,
  };
}

function clean(fields: UserFields, current: ContactRulesRecord | null = null): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  const opt = <T>(v: T | null | undefined, f: (x: T) => string): string | null | undefined =>
    v === undefined ? undefined : v === null || v === '' ? null : f(v);
  const set = (k: string, v: string | null | undefined) => { if (v !== undefined) out[k] = v; };
  set('name', opt(fields.name, (s) => { if (s.length > 100) throw new ValidationError('name too long'); return s.trim(); }));
  set('phone', opt(fields.phone, validatePhone));
  set('sip', opt(fields.sip, validateSip));
  set('xmpp', opt(fields.xmpp, validateXmpp));
  set('grp', opt(fields.group, validateGroup));
  set('lang', opt(fields.lang, validateLang));
  set('channel_order', opt(fields.channelOrder, (v) => JSON.stringify(validateChannelOrder(v as string | string[]))));
  if (fields.email !== undefined) out.email = validateEmail(fields.email);
  if (fields.contact !== undefined) {
    const rules = patchContactRules(current, fields.contact);
    out.contact_rules = rules ? JSON.stringify(rules) : null;
  }
  return out;
}

export class UserStore {
  constructor(private readonly q: Sql, private readonly now: () => number = Date.now) {}

  async add(email: string, fields: UserFields = {}): Promise<User> {
    const e = validateEmail(email);
    if (await this.get(e)) throw new ValidationError(`user ${e} already exists`);
    const c = clean(fields);
    const v: Record<string, string | number | null> = { name: null, phone: null, sip: null, xmpp: null, grp: null, lang: null, channel_order: null, contact_rules: null, ...c, email: e, created_at: this.now() };
    await this.q.run(`INSERT INTO users (email, name, phone, sip, xmpp, grp, lang, channel_order, contact_rules, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v.email!, v.name!, v.phone!, v.sip!, v.xmpp!, v.grp!, v.lang!, v.channel_order!, v.contact_rules!, v.created_at!);
    return (await this.get(e))!;
  }

  async update(email: string, fields: UserFields): Promise<User> {
    const existing = await this.get(email);
    if (!existing) throw new ValidationError(`no user ${email}`);
    const c = clean(fields, existing.contactRules);
    if (c.email && c.email !== existing.email && await this.get(c.email)) throw new ValidationError(`user ${c.email} already exists`);
    const keys = Object.keys(c);
    if (keys.length) {
      await this.q.run(`UPDATE users SET ${keys.map((k) => `${k} = ?`).join(', ')} WHERE id = ?`, ...keys.map((k) => c[k]!), existing.id);
    }
    return (await this.get(c.email ?? existing.email))!;
  }

  async remove(email: string): Promise<boolean> {
    return (await this.q.run('DELETE FROM users WHERE email = ?', email.trim())) > 0;
  }

  async get(email: string): Promise<User | null> {
    const r = (await this.q.get('SELECT * FROM users WHERE email = ?', email.trim())) as Row | undefined;
    return r ? fromRow(r) : null;
  }

  async byPhone(phone: string): Promise<User | null> {
    const r = (await this.q.get('SELECT * FROM users WHERE phone = ?', phone)) as Row | undefined;
    return r ? fromRow(r) : null;
  }

  /** The user whose xmpp address this is (compared bare and lower-cased), or null. */
  async byXmpp(jid: string): Promise<User | null> {
    let bare: string;
    try {
      bare = validateXmpp(jid.split('/')[0]!);
    } catch {
      return null;
    }
    const r = (await this.q.get('SELECT * FROM users WHERE xmpp = ?', bare)) as Row | undefined;
    return r ? fromRow(r) : null;
  }

  async list(): Promise<User[]> {
    return ((await this.q.all('SELECT * FROM users ORDER BY email')) as Row[]).map(fromRow);
  }

  async inGroup(group: string): Promise<User[]> {
    return ((await this.q.all('SELECT * FROM users WHERE grp = ? ORDER BY email', group.trim())) as Row[]).map(fromRow);
  }

  /** A group's own channel order (members without their own order use it), or null. */
  async groupOrder(group: string): Promise<ChannelName[] | null> {
    const r = (await this.q.get('SELECT channel_order FROM groups WHERE name = ?', group.trim())) as { channel_order: string } | undefined;
    return r ? (JSON.parse(r.channel_order) as ChannelName[]) : null;
  }

  async setGroupOrder(group: string, order: ChannelName[] | string | null): Promise<void> {
    const g = validateGroup(group);
    if (order === null || order === '') {
      (await this.q.run('DELETE FROM groups WHERE name = ?', g));
      return;
    }
    (await this.q.run(`INSERT INTO groups (name, channel_order, updated_at) VALUES (?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET channel_order = excluded.channel_order, updated_at = excluded.updated_at`, g, JSON.stringify(validateChannelOrder(order)), this.now()));
  }

  async groups(): Promise<{ name: string; members: number; order: ChannelName[] | null }[]> {
    const rows = (await this.q.all(`SELECT g.name, count(u.id) AS members, o.channel_order FROM (SELECT grp name FROM users WHERE grp IS NOT NULL UNION SELECT name FROM groups) g
      LEFT JOIN users u ON u.grp = g.name LEFT JOIN groups o ON o.name = g.name GROUP BY g.name, o.channel_order ORDER BY g.name`)) as { name: string; members: number; channel_order: string | null }[];
    return rows.map((r) => ({ name: r.name, members: r.members, order: r.channel_order ? (JSON.parse(r.channel_order) as ChannelName[]) : null }));
  }

  /** The order a user's deliveries walk: their own, else their group's, else null (the global one). */
  async effectiveOrder(u: User): Promise<ChannelName[] | null> {
    return u.channelOrder ?? (u.group ? await this.groupOrder(u.group) : null);
  }

  /**
   * Resolves an envelope recipient: a user's own address, or "<group>@any-domain" for every user
   * of that group. Empty when nobody matches.
   */
  async resolveRecipient(address: string): Promise<User[]> {
    const direct = await this.get(address);
    if (direct) return [direct];
    const at = address.lastIndexOf('@');
    if (at <= 0) return [];
    return await this.inGroup(address.slice(0, at));
  }
}
