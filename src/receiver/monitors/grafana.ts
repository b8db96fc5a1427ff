/**
 * Grafana alerting e-mail (unified alerting, templates ng_alert_notification.txt/.html; sent as
 * multipart/alternative, text first):
 *
 *   Subject: [FIRING:1] HighCPU Servers (web01:9100 critical)   ([FIRING:n, RESOLVED:m] when mixed)
 *   You have 1 firing alert(s), and 0 resolved alert(s) for map[alertname:HighCPU grafana_folder:Servers]
 *   (1) FIRING / -----------
 *   Labels: a=b, c=d            (≤ 3 labels)   or   Labels: / "    name = value" lines
 *   Summary: … / Description: … / Runbook: … / Annotations: "    name = value"
 *   Sent by Grafana vX (c) YYYY Grafana Labs
 *
 * The HTML part (used only when there is no text part) has "📁 folder › alertname" or
 * "📁 Grouped by" k=v, "🔥 N firing instances" / "✅ N resolved instances", and per alert a
 * Firing/Resolved badge, Summary, Description, Values, a Labels table and Annotations.
 * Identity: the group labels (alert rule name + folder by default), in one canonical form for both.
 */
import { alertKind } from '../../core/subject.js';
import type { Recognised, Recogniser } from './types.js';
import { MAX_LINE, squash, startsWithCI } from './text.js';
import { firingCount } from './alertmanager.js';
import { addPair, alertSentence, hostsOf, severityOf, type ListedAlert } from './labels.js';

function isLabelName(s: string): boolean {
  if (!s || s.length > 100) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = c === 0x5f || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (i > 0 && c >= 0x30 && c <= 0x39);
    if (!ok) return false;
  }
  return true;
}

/**
 * Group labels in any of the printed forms ("map[a:x b:y]", "[a=x, b=y]", "a=x b=y") as one
 * canonical "a=x,b=y" (sorted by name). Linear in the text.
 */
export function canonicalGroup(text: string): string {
  let s = (text.length > MAX_LINE ? text.slice(0, MAX_LINE) : text).trim();
  if (startsWithCI(s, 'map[') && s.endsWith(']')) s = s.slice(4, -1);
  else if ((s.startsWith('[') && s.endsWith(']')) || (s.startsWith('{') && s.endsWith('}'))) s = s.slice(1, -1);
  const pairs = new Map<string, string>();
  const eqForm = s.includes('=');
  const sep = eqForm ? '=' : ':';
  let last: string | undefined;
  for (const tokRaw of s.split(eqForm && s.includes(', ') ? ', ' : ' ')) {
    const tok = tokRaw.trim();
    if (!tok) continue;
    const at = tok.indexOf(sep);
    const name = at > 0 ? tok.slice(0, at) : '';
    if (at > 0 && isLabelName(name)) {
      pairs.set(name, tok.slice(at + 1));
      last = name;
    } else if (last !== undefined) {
      pairs.set(last, `${pairs.get(last)} ${tok}`);
    }
  }
  return [...pairs.keys()].sort().map((k) => `${k}=${pairs.get(k)}`).join(',');
}

interface GrafanaList { group?: string; alerts: ListedAlert[] }

const ANNOTATION_WORDS = [['summary', 'summary'], ['description', 'description'], ['runbook', 'runbook_url']] as const;

/** "Summary: text" (text template) or a "Summary" heading over the text (HTML template). */
function annotationHeading(line: string, low: string): { key: 'summary' | 'description' | 'runbook_url'; inline?: string } | undefined {
  for (const [word, key] of ANNOTATION_WORDS) {
    if (low === word) return { key };
    if (startsWithCI(line, `${word}:`)) return { key, inline: line.slice(word.length + 1).trim() };
  }
  return undefined;
}

function readGrafana(lines: readonly string[], defaultStatus: 'firing' | 'resolved'): GrafanaList {
  const out: GrafanaList = { alerts: [] };
  let status = defaultStatus;
  let cur: ListedAlert | undefined;
  let mode: 'none' | 'labels' | 'annotations' | 'summary' | 'description' | 'grouped' = 'none';
  const start = (st: 'firing' | 'resolved') => {
    cur = { status: st, labels: new Map(), annotations: new Map() };
    out.alerts.push(cur);
    return cur;
  };
  for (const line of lines) {
    if (!line) {
      // a blank line ends a block of pairs, but the HTML rendering also puts one under a heading
      const empty = mode === 'labels' ? !cur?.labels.size : mode === 'annotations' ? !cur?.annotations.size : mode === 'grouped' ? !out.group : true;
      if (!empty && mode !== 'summary' && mode !== 'description') mode = 'none';
      continue;
    }
    // group: text template
    if (out.group === undefined && startsWithCI(line, 'you have ')) {
      const f = line.indexOf(' for ');
      if (f > 0) { out.group = canonicalGroup(line.slice(f + 5)); continue; }
    }
    // group: html template
    if (out.group === undefined && line.startsWith('📁')) {
      const rest = squash(line.slice(2));
      const arrow = rest.indexOf('›');
      if (startsWithCI(rest, 'grouped by')) { out.group = ''; mode = 'grouped'; continue; }
      if (arrow > 0) { out.group = canonicalGroup(`grafana_folder=${rest.slice(0, arrow).trim()}, alertname=${rest.slice(arrow + 1).trim()}`); continue; }
    }
    if (mode === 'grouped') {
      const parts = squash(line).split(' ').filter((p) => p.includes('='));
      if (parts.length) { out.group = canonicalGroup([out.group, ...parts].filter(Boolean).join(', ')); continue; }
      mode = 'none';
    }
    const low = line.length <= 40 ? squash(line).toLowerCase() : '';
    // sections
    if (/^\(\d{1,6}\) (firing|resolved)$/.test(low)) { status = low.endsWith('firing') ? 'firing' : 'resolved'; mode = 'none'; continue; }
    if (/^(🔥|✅)? ?\d{1,6} (firing|resolved) instances?$/u.test(low)) { status = low.includes('firing') ? 'firing' : 'resolved'; mode = 'none'; continue; }
    if (/^-{3,}$/.test(low)) continue;
    // html: the badge opens an alert
    if (low === 'firing' || low === 'resolved') { start(low); mode = 'none'; continue; }
    if (startsWithCI(line, 'labels:') || low === 'labels') {
      const c = cur && cur.labels.size === 0 ? cur : start(status);
      mode = 'labels';
      const inline = line.slice(6).replace(/^:/, '').trim();
      if (inline) for (const p of inline.split(', ')) addPair(c.labels, p);
      continue;
    }
    if (startsWithCI(line, 'annotations:') || low === 'annotations') { mode = 'annotations'; if (!cur) start(status); continue; }
    const ann = annotationHeading(line, low);
    if (ann) {
      const c = cur ?? start(status);
      if (ann.inline === undefined) mode = ann.key === 'runbook_url' ? 'none' : ann.key;
      else {
        if (ann.inline && !c.annotations.has(ann.key)) c.annotations.set(ann.key, ann.inline);
        mode = 'none';
      }
      continue;
    }
    if ((mode === 'summary' || mode === 'description') && cur) {
      if (!cur.annotations.has(mode)) cur.annotations.set(mode, line);
      mode = 'none';
      continue;
    }
    if ((mode === 'labels' || mode === 'annotations') && cur) {
      if (addPair(mode === 'labels' ? cur.labels : cur.annotations, line)) continue;
      mode = 'none';
    }
  }
  return out;
}

export const grafana: Recogniser = {
  name: 'grafana',
  detect(m) {
    for (const l of m.lines) {
      if (startsWithCI(l, 'sent by grafana') || l.includes('Grafana Labs')) return true;
      if (startsWithCI(l, 'you have ') && l.includes(' firing alert(s)')) return true;
    }
    return false;
  },
  parse(m): Recognised {
    const kind = alertKind(m.subject);
    const count = firingCount(m.subject);
    const list = readGrafana(m.lines, kind === 'resolved' ? 'resolved' : 'firing');
    const firing = list.alerts.filter((a) => a.status === 'firing');
    const relevant = firing.length ? firing : list.alerts;
    const first = relevant[0];
    const host = hostsOf(relevant);
    const sev = severityOf(relevant);
    const group = list.group || (first ? canonicalGroup([...first.labels].map(([k, v]) => `${k}=${v}`).join(', ')) : '');
    let sentence = first ? alertSentence(first, first.labels.get('alertname')) : undefined;
    const nFiring = count ?? firing.length;
    const others = (kind === 'resolved' ? relevant.length : nFiring) - 1;
    if (sentence && others > 0) sentence += ` (+${others} more)`;
    return {
      kind,
      problemKey: group ? `grafana:${group}` : `grafana:${squash(m.subject).toLowerCase()}`,
      ...(host ? { host } : {}),
      ...sev,
      ...(sentence ? { sentence } : {}),
      ...(count !== undefined ? { firing: count } : {}),
    };
  },
};
