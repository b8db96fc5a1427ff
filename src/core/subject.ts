/**
 * The monitor-subject grammar, in one place: which kind of message a subject announces and what
 * is left of it once the monitor's own prefixes are taken off ("Problem:", "Resolved in 12m 3s:",
 * "[FIRING:1]", "** PROBLEM Service Alert: ... **"). Every pattern is anchored and linear.
 */
import type { AlertKind } from './model.js';

const KIND_RULES: [RegExp, AlertKind][] = [
  [/^\s*(resolved|resuelto|resolvido|r[ée]solu)\b/i, 'resolved'],
  [/^\s*(problem|problema|probl[èe]me)\s*:/i, 'problem'],
  [/^\s*(updated? problem|problema actualizado)/i, 'update'],
  [/^\s*\[resolved\]/i, 'resolved'],
  [/^\s*\[firing(:\d+)?[\],]/i, 'problem'],
  [/^\s*\*\*\s*recovery\b/i, 'resolved'],
  [/^\s*\*\*\s*(problem|flappingstart)\b/i, 'problem'],
  [/^\s*\*\*\s*acknowledgement\b/i, 'ack'],
  [/^\s*\*\*\s*(custom|downtime\w*|flapping\w*)\b/i, 'update'],
  [/^\s*\[?\s*(ok|recovered|resolved)\b/i, 'resolved'],
];

export function alertKind(subject: string): AlertKind {
  for (const [re, kind] of KIND_RULES) if (re.test(subject)) return kind;
  return 'problem';
}

const MONITOR_PREFIX = /^(problem|problema|probl[èe]me|resolved|resuelto|resolvido|r[ée]solu|updated? problem|problema actualizado)(\s+(in|en|em)\s+[^:]{1,40})?\s*:\s*/i;
/** "[FIRING:2]", "[RESOLVED]", Grafana's "[FIRING:1, RESOLVED:1]". */
const FIRING_PREFIX = /^\[(firing|resolved)(:\d{1,9})?(,\s?resolved:\d{1,9})?\]\s*/i;

/** "** PROBLEM Service Alert: web01/HTTP is CRITICAL **" → "web01/HTTP is CRITICAL" (no regex backtracking). */
function nagiosInner(s: string): string | null {
  if (!s.startsWith('**') || !s.endsWith('**') || s.length < 4) return null;
  const inner = s.slice(2, -2).trim();
  const m = /^\w+\s+(service|host)\s+alert:/i.exec(inner);
  return m ? inner.slice(m[0].length).trim() : null;
}

/** The subject as a person reads it, without the monitor's prefixes. */
export function cleanSubject(subject: string): string {
  let s = subject.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  s = s.replace(FIRING_PREFIX, '').replace(MONITOR_PREFIX, '');
  const nag = nagiosInner(s);
  if (nag !== null) s = nag;
  return collapse(s) || subject.trim();
}

/** The subject reduced to what a problem mail and its recovery share (lower case, no state word). */
export function normalizeSubject(subject: string): string {
  let s = subject.trim();
  s = s.replace(FIRING_PREFIX, '').replace(MONITOR_PREFIX, '');
  const nag = nagiosInner(s);
  if (nag !== null) s = withoutState(collapse(nag));
  return collapse(s).toLowerCase();
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** Every run of white space as one space, trimmed: one forward pass. */
function collapse(s: string): string {
  const parts: string[] = [];
  let from = -1;
  for (let i = 0; i <= s.length; i++) {
    const space = i === s.length || isSpace(s.charCodeAt(i));
    if (space) {
      if (from >= 0) { parts.push(s.slice(from, i)); from = -1; }
    } else if (from < 0) from = i;
  }
  return parts.join(' ');
}

/** "web01/HTTP is CRITICAL" → "web01/HTTP": drops a final " is <word>" (no backtracking). */
function withoutState(s: string): string {
  const t = s.trimEnd();
  const at = t.toLowerCase().lastIndexOf(' is ');
  if (at < 0) return t;
  const word = t.slice(at + 4);
  return word && !word.includes(' ') ? t.slice(0, at) : t;
}
