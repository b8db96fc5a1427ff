/**
 * Nagios 4 (stock notify-host-by-email / notify-service-by-email, or templates built from the
 * same macros):
 *
 *   ** $NOTIFICATIONTYPE$ Service Alert: $HOSTALIAS$/$SERVICEDESC$ is $SERVICESTATE$ **
 *     Notification Type: / Service: / Host: / Address: / State: / Date/Time: / Additional Info: <output>
 *   ** $NOTIFICATIONTYPE$ Host Alert: $HOSTNAME$ is $HOSTSTATE$ **
 *     Notification Type: / Host: / State: / Address: / Info: <output> / Date/Time:
 *
 * Types: PROBLEM, RECOVERY, ACKNOWLEDGEMENT, FLAPPINGSTART, FLAPPINGSTOP, FLAPPINGDISABLED,
 * DOWNTIMESTART, DOWNTIMEEND, DOWNTIMECANCELLED, CUSTOM. The stock templates do not carry
 * $NOTIFICATIONAUTHOR$/$NOTIFICATIONCOMMENT$; when a template adds them ("Author:",
 * "Comment:", as Nagios' own documentation suggests) the acknowledging person is read from there.
 * Identity: host (+ "/" service), the pair a problem and its recovery share.
 */
import type { AlertKind } from '../../core/model.js';
import { alertKind } from '../../core/subject.js';
import type { MailView, Recognised, Recogniser } from './types.js';
import { levelOf, maxLevel, squash, startsWithCI } from './text.js';
import { subjectKey } from './generic.js';

const TYPE_KIND: Record<string, AlertKind> = {
  PROBLEM: 'problem',
  RECOVERY: 'resolved',
  ACKNOWLEDGEMENT: 'ack',
  FLAPPINGSTART: 'problem',
  FLAPPINGSTOP: 'update',
  FLAPPINGDISABLED: 'update',
  DOWNTIMESTART: 'update',
  DOWNTIMEEND: 'update',
  DOWNTIMECANCELLED: 'update',
  CUSTOM: 'update',
};

interface SubjectParts { type: string; host: string; service?: string; state?: string }

/** "** TYPE Service Alert: host/service is STATE **" / "** TYPE Host Alert: host is STATE **" */
export function nagiosSubject(subject: string): SubjectParts | undefined {
  let s = subject.trim();
  if (!s.startsWith('**')) return undefined;
  s = s.slice(2);
  if (s.endsWith('**')) s = s.slice(0, -2);
  s = s.trim();
  const sp = s.indexOf(' ');
  if (sp <= 0) return undefined;
  const type = s.slice(0, sp).toUpperCase();
  const rest = s.slice(sp + 1).trimStart();
  let isService: boolean;
  if (startsWithCI(rest, 'service alert:')) isService = true;
  else if (startsWithCI(rest, 'host alert:')) isService = false;
  else return undefined;
  const body = rest.slice(rest.indexOf(':') + 1).trim();
  const isAt = body.lastIndexOf(' is ');
  const target = isAt >= 0 ? body.slice(0, isAt).trim() : body;
  const state = isAt >= 0 ? body.slice(isAt + 4).trim() : undefined;
  if (!isService) return { type, host: target, ...(state ? { state } : {}) };
  const slash = target.indexOf('/');
  if (slash < 0) return { type, host: target, ...(state ? { state } : {}) };
  return { type, host: target.slice(0, slash), service: target.slice(slash + 1), ...(state ? { state } : {}) };
}

/** The plugin output: "Info:" (host template) or the first line after "Additional Info:". */
function outputOf(m: MailView): string | undefined {
  const info = m.fields.get('info');
  if (info) return info;
  for (let i = 0; i < m.lines.length; i++) {
    if (!startsWithCI(m.lines[i]!, 'additional info')) continue;
    const inline = m.lines[i]!.slice(m.lines[i]!.indexOf(':') + 1).trim();
    if (inline && m.lines[i]!.includes(':')) return inline;
    for (let j = i + 1; j < m.lines.length && j < i + 10; j++) if (m.lines[j]) return m.lines[j];
    return undefined;
  }
  return undefined;
}

export const nagios: Recogniser = {
  name: 'nagios',
  detect(m) {
    if (nagiosSubject(m.subject)) return true;
    for (let i = 0; i < Math.min(m.lines.length, 5); i++) if (startsWithCI(m.lines[i]!, '***** nagios')) return true;
    return m.fields.get('notification type') !== undefined && m.fields.get('host') !== undefined;
  },
  parse(m): Recognised {
    const subj = nagiosSubject(m.subject);
    const type = squash(m.fields.get('notification type') ?? subj?.type ?? '').toUpperCase();
    const host = m.fields.get('host') ?? subj?.host;
    const service = m.fields.get('service') ?? subj?.service;
    const state = m.fields.get('state') ?? subj?.state;
    const output = outputOf(m);
    const author = m.fields.get('author', 'notification author', 'acknowledged by', 'ack author');
    const comment = m.fields.get('comment', 'notification comment', 'ack comment');
    const kind = TYPE_KIND[type] ?? alertKind(m.subject);
    const target = `${host ?? '?'}${service ? `/${service}` : ''}`;
    let sentence: string;
    switch (type) {
      case 'ACKNOWLEDGEMENT':
        sentence = `${target} is ${state ?? 'in a problem state'}, acknowledged${author ? ` by ${author}` : ''}${comment ? `: ${comment}` : ''}`;
        break;
      case 'FLAPPINGSTART': sentence = `${target} is flapping${state ? ` (${state})` : ''}`; break;
      case 'FLAPPINGSTOP': sentence = `${target} stopped flapping${state ? ` (${state})` : ''}`; break;
      case 'FLAPPINGDISABLED': sentence = `Flap detection disabled for ${target}`; break;
      case 'DOWNTIMESTART': sentence = `${target} entered scheduled downtime`; break;
      case 'DOWNTIMEEND': sentence = `${target} left scheduled downtime`; break;
      case 'DOWNTIMECANCELLED': sentence = `Scheduled downtime for ${target} was cancelled`; break;
      default:
        sentence = `${target} is ${state ?? type.toLowerCase()}${output ? `: ${output}` : ''}`;
    }
    return {
      kind,
      problemKey: host ? `nagios:${host.toLowerCase()}${service ? `/${service.toLowerCase()}` : ''}` : subjectKey(m.subject, undefined),
      ...(host ? { host } : {}),
      // Flapping hides every further problem notification: at least a warning, whatever the state now.
      ...(state ? { severity: state, level: type === 'FLAPPINGSTART' ? maxLevel(levelOf(state), 'warning') : levelOf(state) } : {}),
      sentence,
      ...(kind === 'ack' && author ? { ackBy: author } : {}),
    };
  },
};
