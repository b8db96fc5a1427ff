/** The console's HTML: escaping, the page frame and small shared pieces. Pure functions. */
import type { WebRole } from '../../store/web-users.js';

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A template tag escaping every interpolation, except values made by `raw`. */
export class Raw {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}
export const raw = (s: string): Raw => new Raw(s);

export function html(strings: TemplateStringsArray, ...values: unknown[]): Raw {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += (Array.isArray(v) ? v.map((x) => (x instanceof Raw ? x.html : esc(x))).join('') : v instanceof Raw ? v.html : v === null || v === undefined || v === false ? '' : esc(v)) + strings[i + 1]!;
  });
  return new Raw(out);
}

export interface Viewer {
  login: string;
  role: WebRole;
  csrf: string;
  userEmail: string | null;
}

const NAV: { href: string; label: string; admin?: boolean }[] = [
  { href: '/', label: 'Board' },
  { href: '/people', label: 'People' },
  { href: '/schedules', label: 'Schedules' },
  { href: '/policies', label: 'Policies' },
  { href: '/silences', label: 'Silences' },
  { href: '/heartbeats', label: 'Heartbeats' },
  { href: '/channels', label: 'Channels' },
  { href: '/status', label: 'Status' },
  { href: '/stats', label: 'Statistics' },
  { href: '/web-users', label: 'Web users', admin: true },
];

export function page(o: { title: string; viewer: Viewer | null; active?: string; body: Raw; notice?: string | null; error?: string | null }): string {
  const v = o.viewer;
  const nav = v
    ? html`<nav aria-label="Main"><ul>${NAV.filter((n) => !n.admin || v.role === 'admin').map((n) => html`<li><a href="${n.href}"${raw(n.href === o.active ? ' aria-current="page"' : '')}>${n.label}</a></li>`)}</ul>
      <form method="post" action="/logout" class="logout">${csrfField(v)}<span class="who">${v.login} (${v.role})</span> <button type="submit">Log out</button></form></nav>`
    : html``;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)} · Alertline</title>
${v ? `<meta name="csrf-token" content="${esc(v.csrf)}">` : ''}
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head><body${v ? ` data-login="${esc(v.login)}" data-role="${esc(v.role)}"` : ''}>
<a class="skip" href="#main">Skip to content</a>
<header><a class="brand" href="/">Alertline</a>${nav.html}</header>
<main id="main" tabindex="-1">
${o.notice ? `<p class="notice" role="status">${esc(o.notice)}</p>` : ''}${o.error ? `<p class="error" role="alert">${esc(o.error)}</p>` : ''}
<h1>${esc(o.title)}</h1>
${o.body.html}
</main></body></html>`;
}

export function csrfField(v: Viewer): Raw {
  return html`<input type="hidden" name="_csrf" value="${v.csrf}">`;
}

/** A one-button form that POSTs (CSRF token included). */
export function postButton(v: Viewer, action: string, label: string, cls = '', extra: Record<string, string> = {}): Raw {
  return html`<form method="post" action="${action}" class="inline">${csrfField(v)}${Object.entries(extra).map(([k, val]) => html`<input type="hidden" name="${k}" value="${val}">`)}<button type="submit" class="${cls}">${label}</button></form>`;
}

export function can(v: Viewer | null | undefined, need: WebRole): boolean {
  if (!v) return false;
  if (need === 'viewer') return true;
  if (need === 'responder') return v.role === 'responder' || v.role === 'admin';
  return v.role === 'admin';
}

export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d`;
}

export function isoMinute(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}

export function table(headers: string[], rows: Raw[], cls = ''): Raw {
  return html`<div class="scroll"><table class="${cls}"><thead><tr>${headers.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`;
}
