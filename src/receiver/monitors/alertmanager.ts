/**
 * Prometheus Alertmanager (email_configs with the default template; 0.25 sends only a text/html
 * part):
 *
 *   Subject: [FIRING:2] NodeDown (node critical db)    ← group labels, then the labels all
 *            [RESOLVED] NodeDown (dbB:9100 node …)       alerts share: changes as alerts leave
 *   2 alerts for alertname=NodeDown                     ← the group labels: stable
 *   [2] Firing / Labels / k = v … / Annotations / k = v … / Source
 *   [1] Resolved / …
 *
 * Identity: receiver (from the "View in Alertmanager" link) + the group-labels line, which is
 * what Alertmanager's group key is made of, so a group shrinking or resolving keeps it. A mail
 * without that line (a custom template) falls back to subject + host. `firing` is the
 * [FIRING:n] count: a partial resolution ([FIRING:1] after [FIRING:2]) says so.
 */
import { alertKind } from '../../core/subject.js';
import type { Recognised, Recogniser } from './types.js';
import { squash, startsWithCI } from './text.js';
import { subjectKey } from './generic.js';
import { addPair, alertSentence, hostsOf, severityOf, type ListedAlert } from './labels.js';

/** [FIRING:n] / [FIRING:n, RESOLVED:m] → n; [RESOLVED] → 0; otherwise undefined. */
export function firingCount(subject: string): number | undefined {
  const s = subject.trimStart();
  if (startsWithCI(s, '[resolved]')) return 0;
  if (!startsWithCI(s, '[firing:')) return undefined;
  let i = 8;
  let n = 0;
  let any = false;
  while (i < s.length && i < 20 && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) { n = n * 10 + (s.charCodeAt(i) - 0x30); i++; any = true; }
  return any ? n : undefined;
}

/** "2 alerts for alertname=NodeDown" → "alertname=NodeDown" (also "1 alert for", empty group). */
export function groupLine(line: string): string | undefined {
  let i = 0;
  while (i < line.length && i < 10 && line.charCodeAt(i) >= 0x30 && line.charCodeAt(i) <= 0x39) i++;
  if (i === 0) return undefined;
  const rest = line.slice(i);
  for (const w of [' alerts for', ' alert for']) {
    if (startsWithCI(rest, w) && (rest.length === w.length || rest[w.length] === ' ')) return squash(rest.slice(w.length));
  }
  return undefined;
}

/** "[2] Firing" → 'firing', "[1] Resolved" → 'resolved'. */
function sectionOf(line: string): 'firing' | 'resolved' | undefined {
  if (line[0] !== '[') return undefined;
  const close = line.indexOf(']');
  if (close < 2 || close > 8) return undefined;
  const w = line.slice(close + 1).trim().toLowerCase();
  return w === 'firing' ? 'firing' : w === 'resolved' ? 'resolved' : undefined;
}

/** The receiver name from the template's link "…/#/alerts?receiver=NAME". */
export function receiverOf(html: string | undefined): string | undefined {
  if (!html) return undefined;
  const at = html.indexOf('#/alerts?receiver=');
  if (at < 0) return undefined;
  let e = at + 18;
  while (e < html.length && e < at + 218 && !'"\'&<> \t\r\n'.includes(html[e]!)) e++;
  const raw = html.slice(at + 18, e);
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

export interface AlertList {
  group?: string;
  alerts: ListedAlert[];
}

/** Reads the group line and the per-alert Labels/Annotations blocks. */
export function readAlertList(lines: readonly string[], defaultStatus: 'firing' | 'resolved'): AlertList {
  const out: AlertList = { alerts: [] };
  let status = defaultStatus;
  let cur: ListedAlert | undefined;
  let mode: 'none' | 'labels' | 'annotations' = 'none';
  for (const line of lines) {
    if (!line) continue;
    if (out.group === undefined) {
      const g = groupLine(line);
      if (g !== undefined) { out.group = g; continue; }
    }
    const sec = sectionOf(line);
    if (sec) { status = sec; mode = 'none'; continue; }
    const low = line.length <= 12 ? line.toLowerCase() : '';
    if (low === 'labels' || low === 'labels:') {
      cur = { status, labels: new Map(), annotations: new Map() };
      out.alerts.push(cur);
      mode = 'labels';
      continue;
    }
    if ((low === 'annotations' || low === 'annotations:') && cur) { mode = 'annotations'; continue; }
    if (mode !== 'none' && cur) {
      if (addPair(mode === 'labels' ? cur.labels : cur.annotations, line)) continue;
      mode = 'none';
    }
  }
  return out;
}

export const alertmanager: Recogniser = {
  name: 'alertmanager',
  detect(m) {
    if (m.html && m.html.includes('#/alerts?receiver=')) return true;
    const amSubject = firingCount(m.subject) !== undefined;
    for (const l of m.lines) {
      if (l === 'Sent by Alertmanager' || l === 'View in Alertmanager') return true;
      if (amSubject && (groupLine(l) !== undefined || l === 'Labels' || l === 'Labels:')) return true;
    }
    return false;
  },
  parse(m): Recognised {
    const kind = alertKind(m.subject);
    const count = firingCount(m.subject);
    const list = readAlertList(m.lines, kind === 'resolved' ? 'resolved' : 'firing');
    const firing = list.alerts.filter((a) => a.status === 'firing');
    const relevant = firing.length ? firing : list.alerts;
    const host = hostsOf(relevant);
    const sev = severityOf(relevant);
    const receiver = receiverOf(m.html);
    const problemKey = list.group !== undefined
      ? `alertmanager:${receiver ?? ''}|${list.group}`
      : subjectKey(m.subject, host);
    const nFiring = count ?? firing.length;
    let sentence = relevant[0] ? alertSentence(relevant[0]) : undefined;
    const others = (kind === 'resolved' ? relevant.length : nFiring) - 1;
    if (sentence && others > 0) sentence += ` (+${others} more)`;
    return {
      kind,
      problemKey,
      ...(host ? { host } : {}),
      ...sev,
      ...(sentence ? { sentence } : {}),
      ...(count !== undefined ? { firing: count } : {}),
    };
  },
};
