/**
 * The statistics page: figures computed from alert and attempt rows of a time range (pure), drawn
 * as inline SVG (no chart library), and the same figures as CSV.
 */
import type { AlertFact, AttemptFact } from '../../store/reports.js';
import { esc, html, raw, table, type Raw } from './html.js';

const DAY = 86_400_000;
const WEEK = 7 * DAY;

export interface Range { name: string; from: number; to: number }

export function parseRange(q: Record<string, string>, now: number): Range {
  const r = q.range ?? '7d';
  if (r === '24h') return { name: '24h', from: now - DAY, to: now };
  if (r === '7d') return { name: '7d', from: now - 7 * DAY, to: now };
  if (r === '30d') return { name: '30d', from: now - 30 * DAY, to: now };
  if (r === 'custom') {
    const from = Date.parse(`${q.from ?? ''}T00:00:00Z`);
    const to = Date.parse(`${q.to ?? ''}T00:00:00Z`) + DAY;
    if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) throw new Error('custom range: from and to as dates (YYYY-MM-DD), to not before from');
    if (to - from > 366 * DAY) throw new Error('custom range: at most a year');
    return { name: `${q.from}_${q.to}`, from, to };
  }
  throw new Error(`range: one of 24h, 7d, 30d, custom (not ${JSON.stringify(r.slice(0, 20))})`);
}

export function quantile(sorted: readonly number[], q: number): number | null {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export interface Figures {
  perDay: { day: string; bySeverity: Record<string, number> }[];
  severities: string[];
  perWeek: { week: string; ackMedian: number | null; ackP90: number | null; resolveMedian: number | null; resolveP90: number | null }[];
  channels: { channel: string; total: number; outcomes: Record<string, number>; latencyMedian: number | null; latencyP90: number | null }[];
  hosts: [string, number][];
  subjects: [string, number][];
  people: [string, number][];
}

const top = (m: Map<string, number>, n = 10): [string, number][] => [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);

export function figures(range: Range, alerts: readonly AlertFact[], attempts: readonly AttemptFact[]): Figures {
  const problems = alerts.filter((a) => a.kind === 'problem' || a.kind === 'other' || a.kind === 'test');
  const dayStep = range.to - range.from <= 2 * DAY ? 3_600_000 : DAY;
  const perDay: Figures['perDay'] = [];
  const sevs = new Set<string>();
  for (let t = Math.floor(range.from / dayStep) * dayStep; t < range.to; t += dayStep) {
    const bySeverity: Record<string, number> = {};
    for (const a of problems) if (a.receivedAt >= t && a.receivedAt < t + dayStep) {
      const s = a.level ?? a.severity ?? 'unknown';
      sevs.add(s);
      bySeverity[s] = (bySeverity[s] ?? 0) + 1;
    }
    perDay.push({ day: new Date(t).toISOString().slice(dayStep === DAY ? 5 : 11, dayStep === DAY ? 10 : 16), bySeverity });
  }
  const perWeek: Figures['perWeek'] = [];
  for (let t = range.from; t < range.to; t += WEEK) {
    const inWeek = problems.filter((a) => a.receivedAt >= t && a.receivedAt < t + WEEK);
    const ack = inWeek.filter((a) => a.ackAt !== null).map((a) => a.ackAt! - a.receivedAt).sort((x, y) => x - y);
    const res = inWeek.filter((a) => a.resolvedAt !== null).map((a) => a.resolvedAt! - a.receivedAt).sort((x, y) => x - y);
    perWeek.push({ week: new Date(t).toISOString().slice(0, 10), ackMedian: quantile(ack, 0.5), ackP90: quantile(ack, 0.9), resolveMedian: quantile(res, 0.5), resolveP90: quantile(res, 0.9) });
  }
  const byChannel = new Map<string, { total: number; outcomes: Record<string, number>; lat: number[] }>();
  const people = new Map<string, number>();
  for (const t of attempts) {
    const c = byChannel.get(t.channel) ?? { total: 0, outcomes: {}, lat: [] };
    c.total++;
    const o = t.outcome ?? 'running';
    c.outcomes[o] = (c.outcomes[o] ?? 0) + 1;
    // Response latency: from the alert's acceptance to its acknowledgement, counted for the channel that reached the acknowledger's attempt.
    if ((t.outcome === 'acknowledged' || t.outcome === 'delivered' || t.outcome === 'answered') && t.ackAt !== null && t.ackAt >= t.startedAt) c.lat.push(t.ackAt - t.alertReceivedAt);
    byChannel.set(t.channel, c);
    if (t.outcome !== 'skipped') people.set(t.user, (people.get(t.user) ?? 0) + 1);
  }
  const hosts = new Map<string, number>();
  const subjects = new Map<string, number>();
  for (const a of problems) {
    if (a.host) hosts.set(a.host, (hosts.get(a.host) ?? 0) + 1);
    subjects.set(a.subject, (subjects.get(a.subject) ?? 0) + 1);
  }
  return {
    perDay, severities: [...sevs].sort(), perWeek,
    channels: [...byChannel].sort((a, b) => a[0].localeCompare(b[0])).map(([channel, c]) => {
      const lat = c.lat.sort((x, y) => x - y);
      return { channel, total: c.total, outcomes: c.outcomes, latencyMedian: quantile(lat, 0.5), latencyP90: quantile(lat, 0.9) };
    }),
    hosts: top(hosts), subjects: top(subjects), people: top(people),
  };
}

const PALETTE = ['#b00020', '#c75000', '#8a6d00', '#1f6f3f', '#1d4f91', '#6b3fa0', '#555555'];

/** Stacked bars: one bar per label, one colour per series. */
export function barChart(title: string, labels: string[], series: { name: string; values: number[] }[]): Raw {
  const W = 640;
  const H = 200;
  const pad = 28;
  const totals = labels.map((_, i) => series.reduce((s, x) => s + (x.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const bw = (W - pad * 2) / Math.max(1, labels.length);
  const bars: string[] = [];
  labels.forEach((l, i) => {
    let y = H - pad;
    series.forEach((s, k) => {
      const v = s.values[i] ?? 0;
      if (!v) return;
      const h = ((H - pad * 2) * v) / max;
      y -= h;
      bars.push(`<rect x="${(pad + i * bw + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[k % PALETTE.length]}"><title>${esc(l)} ${esc(s.name)}: ${v}</title></rect>`);
    });
  });
  const every = Math.max(1, Math.ceil(labels.length / 10));
  const ticks = labels.map((l, i) => (i % every === 0 ? `<text x="${(pad + i * bw + bw / 2).toFixed(1)}" y="${H - 8}" text-anchor="middle">${esc(l)}</text>` : '')).join('');
  const legend = series.map((s, k) => `<span class="key"><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="${PALETTE[k % PALETTE.length]}"/></svg> ${esc(s.name)}</span>`).join(' ');
  return raw(`<figure class="chart"><figcaption>${esc(title)}</figcaption><svg class="plot" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="currentColor"/><text x="${pad - 4}" y="${pad}" text-anchor="end">${max}</text>${bars.join('')}${ticks}</svg><div class="legend">${legend}</div></figure>`);
}

const minutes = (ms: number | null) => (ms === null ? '' : (ms / 60_000).toFixed(1));

export function statsPage(range: Range, alerts: readonly AlertFact[], attempts: readonly AttemptFact[]): Raw {
  const f = figures(range, alerts, attempts);
  const ranges = ['24h', '7d', '30d'].map((r) => html`<a href="/stats?range=${r}"${raw(r === range.name ? ' aria-current="page"' : '')}>${r}</a>`);
  const outcomes = [...new Set(f.channels.flatMap((c) => Object.keys(c.outcomes)))].sort();
  return html`<nav class="ranges" aria-label="Range">${ranges}
<form method="get" action="/stats" class="inline"><input type="hidden" name="range" value="custom"><label>From <input type="date" name="from" required></label> <label>to <input type="date" name="to" required></label> <button type="submit">Show</button></form>
<a href="/stats.csv?range=${range.name.includes('_') ? 'custom' : range.name}${range.name.includes('_') ? `&from=${range.name.split('_')[0]}&to=${range.name.split('_')[1]}` : ''}" download>Export CSV</a></nav>
<p>${alerts.length} alerts, ${attempts.length} attempts from ${new Date(range.from).toISOString().slice(0, 16)}Z to ${new Date(range.to).toISOString().slice(0, 16)}Z.</p>
${barChart('Alerts by severity', f.perDay.map((d) => d.day), f.severities.map((s) => ({ name: s, values: f.perDay.map((d) => d.bySeverity[s] ?? 0) })))}
${barChart('Attempts per channel by outcome', f.channels.map((c) => c.channel), outcomes.map((o) => ({ name: o, values: f.channels.map((c) => c.outcomes[o] ?? 0) })))}
<h2>Time to acknowledge and resolve (minutes)</h2>${table(['Week from', 'Ack median', 'Ack p90', 'Resolve median', 'Resolve p90'], f.perWeek.map((w) => html`<tr><td>${w.week}</td><td>${minutes(w.ackMedian)}</td><td>${minutes(w.ackP90)}</td><td>${minutes(w.resolveMedian)}</td><td>${minutes(w.resolveP90)}</td></tr>`))}
<h2>Channels</h2>${table(['Channel', 'Attempts', ...outcomes.map((o) => `${o} %`), 'Accept→ack median (min)', 'p90'], f.channels.map((c) => html`<tr><td>${c.channel}</td><td>${c.total}</td>${outcomes.map((o) => html`<td>${((100 * (c.outcomes[o] ?? 0)) / c.total).toFixed(0)}</td>`)}<td>${minutes(c.latencyMedian)}</td><td>${minutes(c.latencyP90)}</td></tr>`))}
<div class="cols"><section><h2>Noisiest hosts</h2>${table(['Host', 'Alerts'], f.hosts.map(([h, n]) => html`<tr><td>${h}</td><td>${n}</td></tr>`))}</section>
<section><h2>Noisiest subjects</h2>${table(['Subject', 'Alerts'], f.subjects.map(([h, n]) => html`<tr><td>${h}</td><td>${n}</td></tr>`))}</section>
<section><h2>Attempts per person</h2>${table(['Person', 'Attempts'], f.people.map(([h, n]) => html`<tr><td>${h}</td><td>${n}</td></tr>`))}</section></div>`;
}

function csvCell(v: unknown): string {
  let s = String(v ?? '');
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`; // spreadsheets must not run a cell as a formula
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Section, key, value rows: one file that every spreadsheet reads. */
export function statsCsv(range: Range, alerts: readonly AlertFact[], attempts: readonly AttemptFact[]): string {
  const f = figures(range, alerts, attempts);
  const rows: unknown[][] = [['section', 'key', 'subkey', 'value']];
  for (const d of f.perDay) for (const [s, n] of Object.entries(d.bySeverity)) rows.push(['alerts_by_severity', d.day, s, n]);
  for (const w of f.perWeek) rows.push(['ack_minutes_median', w.week, '', minutes(w.ackMedian)], ['ack_minutes_p90', w.week, '', minutes(w.ackP90)], ['resolve_minutes_median', w.week, '', minutes(w.resolveMedian)], ['resolve_minutes_p90', w.week, '', minutes(w.resolveP90)]);
  for (const c of f.channels) {
    for (const [o, n] of Object.entries(c.outcomes)) rows.push(['channel_outcomes', c.channel, o, n]);
    rows.push(['channel_latency_minutes_median', c.channel, '', minutes(c.latencyMedian)], ['channel_latency_minutes_p90', c.channel, '', minutes(c.latencyP90)]);
  }
  for (const [h, n] of f.hosts) rows.push(['noisiest_hosts', h, '', n]);
  for (const [h, n] of f.subjects) rows.push(['noisiest_subjects', h, '', n]);
  for (const [h, n] of f.people) rows.push(['attempts_per_person', h, '', n]);
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}
