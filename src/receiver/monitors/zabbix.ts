/**
 * Zabbix (6.x "Email" and "Email (HTML)" media types, default message templates):
 *
 *   Problem: {EVENT.NAME}                     Problem started at … / Problem name: / Host: /
 *                                             Severity: / Operational data: / Original problem ID:
 *   Resolved in {EVENT.DURATION}: {EVENT.NAME}  Problem has been resolved at … (same fields)
 *   Updated problem in {EVENT.AGE}: {EVENT.NAME}
 *       {USER.FULLNAME} {EVENT.UPDATE.ACTION} problem at {EVENT.UPDATE.DATE} {EVENT.UPDATE.TIME}.
 *       {EVENT.UPDATE.MESSAGE}
 *       Current problem status is …, age is …, acknowledged: Yes.   (HTML: "Acknowledged: Yes.")
 *
 * {EVENT.UPDATE.ACTION} lists "acknowledged", "unacknowledged", "commented", "changed severity
 * from X to Y", "closed" (6.2+ also "suppressed …", "unsuppressed"), joined by ", " and a final
 * " and ". Identity: the problem's event id ("Original problem ID", else the In-Reply-To
 * <eventid.md5.mediatypeid.instanceid@zabbix.com> Zabbix puts on every mail of the event).
 */
import { alertKind, cleanSubject } from '../../core/subject.js';
import type { MailView, Recognised, Recogniser } from './types.js';
import { levelOf, startsWithCI } from './text.js';
import { digits, subjectKey } from './generic.js';

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}
function allOf(s: string, ok: (c: number) => boolean): boolean {
  if (!s) return false;
  for (let i = 0; i < s.length; i++) if (!ok(s.charCodeAt(i))) return false;
  return true;
}
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isAlnum = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);

/** Zabbix In-Reply-To: <eventid.md5(sendto).mediatypeid.instanceid@zabbix.com> → eventid. */
export function zabbixEventIdFromReference(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  const s = ref.length > 2000 ? ref.slice(0, 2000) : ref;
  const at = s.toLowerCase().indexOf('@zabbix.com');
  if (at < 0) return undefined;
  let b = at;
  while (b > 0 && s[b - 1] !== '<' && s[b - 1] !== ' ' && s[b - 1] !== ',' && at - b < 200) b--;
  const parts = s.slice(b, at).split('.');
  if (parts.length !== 4) return undefined;
  const [ev, md5, media, inst] = parts as [string, string, string, string];
  if (!allOf(ev, isDigit) || ev.length > 20 || md5.length !== 32 || !allOf(md5, isHex) || !allOf(media, isDigit) || !allOf(inst, isAlnum)) return undefined;
  return ev;
}

const UPDATE_ACTIONS = [' acknowledged', ' unacknowledged', ' commented', ' changed severity from ', ' closed', ' suppressed', ' unsuppressed'];

interface ZabbixUpdate {
  user: string;
  actions: string[];
  newSeverity?: string;
  message?: string;
}

/** The "{USER.FULLNAME} {EVENT.UPDATE.ACTION} problem at …" line and the message under it. */
export function zabbixUpdate(lines: readonly string[]): ZabbixUpdate | undefined {
  for (let i = 0; i < Math.min(lines.length, 8); i++) {
    const line = lines[i]!;
    const at = line.indexOf(' problem at ');
    if (at <= 0) continue;
    const head = line.slice(0, at);
    let first = -1;
    for (const a of UPDATE_ACTIONS) {
      const p = head.indexOf(a);
      if (p >= 0 && (first < 0 || p < first)) first = p;
    }
    if (first < 0) continue;
    const user = head.slice(0, first).trim();
    const actionText = head.slice(first).trim();
    const actions: string[] = [];
    for (const part of actionText.split(', ')) for (const a of part.split(' and ')) if (a.trim()) actions.push(a.trim());
    const sev = actions.find((a) => a.startsWith('changed severity from '));
    let newSeverity: string | undefined;
    if (sev) {
      const to = sev.indexOf(' to ', 'changed severity from '.length - 1);
      if (to >= 0) newSeverity = sev.slice(to + 4).trim() || undefined;
    }
    // {EVENT.UPDATE.MESSAGE}: the lines up to the status line
    const msg: string[] = [];
    for (let j = i + 1; j < lines.length && j < i + 20; j++) {
      const l = lines[j]!;
      if (startsWithCI(l, 'current problem status')) break;
      if (l) msg.push(l);
    }
    return { user, actions, ...(newSeverity ? { newSeverity } : {}), ...(msg.length ? { message: msg.join(' ') } : {}) };
  }
  return undefined;
}

function eventIdOf(m: MailView): string | undefined {
  return digits(m.fields.get('original problem id', 'original event id')) ??
    zabbixEventIdFromReference(m.inReplyTo) ??
    m.references.map(zabbixEventIdFromReference).find(Boolean);
}

function hasBodyMarker(m: MailView): boolean {
  for (let i = 0; i < Math.min(m.lines.length, 12); i++) {
    const l = m.lines[i]!;
    if (startsWithCI(l, 'problem started at ') || startsWithCI(l, 'problem has been resolved at ') || startsWithCI(l, 'current problem status')) return true;
  }
  return false;
}

export const zabbix: Recogniser = {
  name: 'zabbix',
  detect(m) {
    return zabbixEventIdFromReference(m.inReplyTo) !== undefined || m.references.some((r) => zabbixEventIdFromReference(r) !== undefined) ||
      (m.fields.get('original problem id') !== undefined && m.fields.get('problem name') !== undefined) || hasBodyMarker(m);
  },
  parse(m): Recognised {
    const eventId = eventIdOf(m);
    const name = m.fields.get('problem name') ?? cleanSubject(m.subject);
    const host = m.fields.get('host');
    let severity = m.fields.get('severity');
    let kind = alertKind(m.subject);
    if (m.lines.some((l, i) => i < 12 && startsWithCI(l, 'problem has been resolved at '))) kind = 'resolved';
    // The problem name; compose adds host and severity in the listener's language.
    let sentence = name;
    let ackBy: string | undefined;
    const up = kind === 'update' || startsWithCI(m.subject, 'updated problem') ? zabbixUpdate(m.lines) : undefined;
    if (up) {
      if (up.newSeverity) severity = up.newSeverity;
      if (up.actions.includes('closed')) kind = 'resolved';
      else if (up.actions.includes('acknowledged')) { kind = 'ack'; ackBy = up.user; }
      else kind = 'update';
      sentence = `${name}: ${up.user} ${joinActions(up.actions)}${up.message ? `. ${up.message}` : ''}`;
    }
    return {
      kind,
      problemKey: eventId ? `event:${eventId}` : subjectKey(m.subject, host),
      ...(host ? { host } : {}),
      ...(severity ? { severity, level: levelOf(severity) } : {}),
      ...(eventId ? { eventId } : {}),
      sentence,
      ...(ackBy ? { ackBy } : {}),
    };
  },
};

function joinActions(a: string[]): string {
  return a.length <= 1 ? (a[0] ?? '') : `${a.slice(0, -1).join(', ')} and ${a[a.length - 1]}`;
}

