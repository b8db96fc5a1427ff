/**
 * Webhook alerts into admission, the way the SMTP receiver does it: recipients resolved to users
 * (an address, group@any-domain, or a bare group name), capacity checked against
 * filter.maxPending, every alert handed to the group-commit writer, and the answer only after the
 * commit. All or nothing: one unknown recipient refuses the request before anything is stored.
 */
import type { NewAlert } from '../../core/admission.js';
import type { AdmitResult } from '../../store/rows.js';
import type { User } from '../../store/users.js';
import type { WebhookAlert } from './webhook-alert.js';

export interface IngestDeps {
  users: { resolveRecipient(address: string): Promise<User[]>; inGroup(group: string): Promise<User[]> };
  writer: { submit(item: NewAlert): Promise<AdmitResult> };
  openDeliveries: () => number | Promise<number>;
  maxPending: () => number;
  /** Recipients for alerts that name none (http.defaultTo). */
  defaultTo: () => string[];
  now: () => number;
}

export type IngestResult =
  | { ok: true; accepted: { id: number; state: string; ref: string; resolved: number[] }[] }
  | { ok: false; reason: 'no-recipients' | 'unknown-recipients'; names: string[] }
  | { ok: false; reason: 'capacity'; open: number; max: number };

/** Users an address names: a user's e-mail, group@domain, or a bare group name. */
export async function resolveName(users: IngestDeps['users'], name: string): Promise<User[]> {
  const n = name.trim();
  if (!n || n.length > 320) return [];
  if (n.includes('@')) return users.resolveRecipient(n);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(n)) return [];
  return users.inGroup(n);
}

export class WebhookIngest {
  constructor(private readonly d: IngestDeps) {}

  /** Room for more? (false: answer 503 with Retry-After; the sender retries). */
  async capacity(): Promise<{ ok: true } | { ok: false; open: number; max: number }> {
    const open = await this.d.openDeliveries();
    const max = this.d.maxPending();
    return open >= max ? { ok: false, open, max } : { ok: true };
  }

  async ingest(alerts: WebhookAlert[], client: string, via: string): Promise<IngestResult> {
    const cap = await this.capacity();
    if (!cap.ok) return { ok: false, reason: 'capacity', open: cap.open, max: cap.max };
    const cache = new Map<string, User[]>();
    const unknown = new Set<string>();
    const plans: { a: WebhookAlert; rcpt: string[]; users: User[] }[] = [];
    for (const a of alerts) {
      const names = a.to.length ? a.to : this.d.defaultTo();
      if (!names.length) return { ok: false, reason: 'no-recipients', names: [a.ref] };
      const users: User[] = [];
      for (const n of names) {
        let u = cache.get(n.toLowerCase());
        if (!u) cache.set(n.toLowerCase(), (u = await resolveName(this.d.users, n)));
        if (!u.length) unknown.add(n);
        users.push(...u);
      }
      plans.push({ a, rcpt: names, users });
    }
    if (unknown.size) return { ok: false, reason: 'unknown-recipients', names: [...unknown] };
    const receivedAt = this.d.now();
    const results = await Promise.all(plans.map((p) => this.d.writer.submit({
      parsed: p.a.parsed, raw: p.a.raw, rcpt: p.rcpt, mailFrom: via, client, recipients: p.users.map((u) => ({ email: u.email })), receivedAt,
    })));
    return { ok: true, accepted: results.map((r, i) => ({ id: r.id, state: r.state, ref: plans[i]!.a.ref, resolved: r.resolved })) };
  }
}
