/** Cookies of the web console: parsing, and the attributes every cookie we set carries. */

export const SESSION_COOKIE = 'alertline_session';
export const LOGIN_COOKIE = 'alertline_login';
/** A session lasts this long after login (then log in again). */
export const SESSION_TTL_MS = 12 * 3_600_000;

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header || header.length > 8192) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    if (!out.has(k)) out.set(k, v);
  }
  return out;
}

/** `HttpOnly; SameSite=Strict`, `Secure` under TLS; maxAgeSec 0 deletes it. */
export function cookie(name: string, value: string, o: { secure: boolean; path?: string; maxAgeSec?: number }): string {
  const parts = [`${name}=${value}`, `Path=${o.path ?? '/'}`, 'HttpOnly', 'SameSite=Strict'];
  if (o.maxAgeSec !== undefined) parts.push(`Max-Age=${o.maxAgeSec}`);
  if (o.secure) parts.push('Secure');
  return parts.join('; ');
}

/** A same-site path to go back to after login (never another origin). */
export function safeNext(v: unknown): string {
  const s = typeof v === 'string' ? v : '';
  return /^\/(?![/\\])[\x21-\x7e]{0,300}$/.test(s) && !s.startsWith('/login') && !s.startsWith('/console/') ? s : '/';
}
