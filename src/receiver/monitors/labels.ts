/**
 * The alert list shared by Alertmanager's and Grafana's mails: sections of firing and resolved
 * alerts, each with labels and annotations, read from bounded lines in one pass.
 */
import type { SeverityLevel } from '../../core/model.js';
import { levelOf, maxLevel, splitField } from './text.js';

export interface ListedAlert {
  status: 'firing' | 'resolved';
  labels: Map<string, string>;
  annotations: Map<string, string>;
}

/** Host-like labels, in the order they are preferred. */
const HOST_LABELS = ['instance', 'host', 'hostname', 'nodename', 'node', 'server', 'pod'];

export function hostOf(a: ListedAlert): string | undefined {
  for (const l of HOST_LABELS) {
    const v = a.labels.get(l);
    if (v) return v;
  }
  return undefined;
}

/** Distinct hosts of the alerts, joined with ", " (bounded by the caller). */
export function hostsOf(alerts: readonly ListedAlert[]): string | undefined {
  const seen: string[] = [];
  for (const a of alerts) {
    const h = hostOf(a);
    if (h && !seen.includes(h)) seen.push(h);
    if (seen.length >= 5) break;
  }
  return seen.length ? seen.join(', ') : undefined;
}

/** The highest severity label among the alerts, as written and as a level. */
export function severityOf(alerts: readonly ListedAlert[]): { severity?: string; level?: SeverityLevel } {
  let best: { severity?: string; level?: SeverityLevel } = {};
  for (const a of alerts) {
    const s = a.labels.get('severity') ?? a.labels.get('priority') ?? a.labels.get('level');
    if (!s) continue;
    const l = levelOf(s);
    if (!best.severity) best = { severity: s, ...(l ? { level: l } : {}) };
    else if (l && maxLevel(best.level, l) === l && l !== best.level) best = { severity: s, level: l };
  }
  return best;
}

/**
 * "summary (instance)": the summary annotation, else the description, else the alert name;
 * the instance is added when the text does not already name it (or its host part).
 */
export function alertSentence(a: ListedAlert, title?: string): string {
  const text = a.annotations.get('summary') ?? a.annotations.get('description') ?? a.annotations.get('message');
  const name = a.labels.get('alertname');
  let s = title && text ? `${title}: ${text}` : text ?? title ?? name ?? 'alert';
  const host = hostOf(a);
  if (host) {
    const colon = host.lastIndexOf(':');
    const bare = colon > 0 ? host.slice(0, colon) : host;
    const low = s.toLowerCase();
    if (!low.includes(host.toLowerCase()) && !low.includes(bare.toLowerCase())) s += ` on ${host}`;
  }
  return s;
}

/** Adds "k=v" (or "k = v", or "k<TAB>v") to a map; false when the line is not a pair. */
export function addPair(map: Map<string, string>, line: string): boolean {
  const tab = line.indexOf('\t');
  const eq = line.indexOf('=');
  if (tab > 0 && (eq < 0 || tab < eq)) {
    const k = line.slice(0, tab).trim();
    const v = line.slice(tab + 1).trim();
    if (!k) return false;
    if (!map.has(k)) map.set(k, v);
    return true;
  }
  const f = splitField(line);
  if (!f || f.sep !== '=') return false;
  // label names keep their case (splitField lower-cases); take it from the line
  const start = line.length - line.trimStart().length;
  let k = line.slice(start, line.indexOf('=')).trim();
  while (k.startsWith('-') || k.startsWith('*')) k = k.slice(1).trim();
  if (!k) return false;
  if (!map.has(k)) map.set(k, f.value);
  return true;
}
