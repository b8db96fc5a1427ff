/**
 * The sd_notify(3) message format, as pure functions: a notification is a list of KEY=VALUE
 * assignments separated by newlines (READY=1, WATCHDOG=1, STOPPING=1, STATUS=<text>, ...).
 * Values come partly from the outside world (a status line can quote an error from a relay or a
 * modem), so a value can never carry a newline: that would let it append an assignment of its own
 * (e.g. "…\nREADY=1"). No sockets, processes or timers here.
 */

export class NotifyFormatError extends Error {
  override name = 'NotifyFormatError';
}

/** Keys systemd documents for sd_notify; anything else is refused rather than sent blindly. */
export const NOTIFY_KEYS = ['READY', 'RELOADING', 'STOPPING', 'WATCHDOG', 'STATUS', 'ERRNO', 'MAINPID', 'EXTEND_TIMEOUT_USEC', 'MONOTONIC_USEC'] as const;
export type NotifyKey = (typeof NOTIFY_KEYS)[number];
export type NotifyFields = Partial<Record<NotifyKey, string>>;

/** systemd shows STATUS= in `systemctl status`; one short line is what fits there. */
export const MAX_STATUS_LENGTH = 200;

/** One printable line: control characters (newlines included) become spaces, runs of blanks one space, cut at max characters. */
export function sanitizeStatus(text: string, max = MAX_STATUS_LENGTH): string {
  // eslint-disable-next-line no-control-regex
  const flat = String(text).replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length <= max ? flat : chars.slice(0, max - 1).join('') + '…';
}

function checkValue(key: NotifyKey, value: string): void {
  switch (key) {
    case 'READY':
    case 'RELOADING':
    case 'STOPPING':
      if (value !== '1') throw new NotifyFormatError(`${key} must be 1`);
      return;
    case 'WATCHDOG':
      if (value !== '1' && value !== 'trigger') throw new NotifyFormatError('WATCHDOG must be 1 or trigger');
      return;
    case 'ERRNO':
    case 'MAINPID':
    case 'EXTEND_TIMEOUT_USEC':
    case 'MONOTONIC_USEC':
      if (!/^\d{1,19}$/.test(value)) throw new NotifyFormatError(`${key} must be a decimal number`);
      return;
    case 'STATUS':
      if (/[\n\r\0]/.test(value)) throw new NotifyFormatError('STATUS must be one line');
      return;
  }
}

/**
 * The assignments of one notification, in a stable order (the state flag first, STATUS last), each
 * "KEY=VALUE". STATUS is sanitized; every other value is checked and refused if malformed.
 */
export function notifyAssignments(fields: NotifyFields): string[] {
  const out: string[] = [];
  for (const key of NOTIFY_KEYS) {
    let value = fields[key];
    if (value === undefined) continue;
    if (key === 'STATUS') value = sanitizeStatus(value);
    checkValue(key, value);
    out.push(`${key}=${value}`);
  }
  for (const key of Object.keys(fields)) {
    if (!(NOTIFY_KEYS as readonly string[]).includes(key)) throw new NotifyFormatError(`unknown notification key ${JSON.stringify(key)}`);
  }
  if (out.length === 0) throw new NotifyFormatError('empty notification');
  return out;
}

/** The datagram systemd receives: assignments joined by newlines. */
export function encodeNotifyMessage(fields: NotifyFields): string {
  return notifyAssignments(fields).join('\n');
}

/** Reads a datagram back into its assignments (fake NOTIFY_SOCKET in tests, diagnostics). */
export function parseNotifyMessage(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0 || !/^[A-Z_][A-Z0-9_]*$/.test(line.slice(0, eq))) throw new NotifyFormatError(`not an assignment: ${JSON.stringify(line.slice(0, 80))}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/**
 * The interval at which to send WATCHDOG=1, from the environment systemd sets with WatchdogSec=:
 * half of WATCHDOG_USEC (sd_watchdog_enabled(3) recommends half), or null when the watchdog is
 * off or meant for another process (WATCHDOG_PID names a different pid). Malformed values → null
 * plus a reason, never an exception: a bad environment must not stop the daemon from starting.
 */
export function watchdogInterval(env: Record<string, string | undefined>, pid: number): { intervalMs: number | null; problem?: string } {
  const usec = env.WATCHDOG_USEC;
  if (usec === undefined || usec === '') return { intervalMs: null };
  if (!/^\d{1,19}$/.test(usec)) return { intervalMs: null, problem: `WATCHDOG_USEC=${JSON.stringify(usec.slice(0, 40))} is not a number of microseconds` };
  const wpid = env.WATCHDOG_PID;
  if (wpid !== undefined && wpid !== '') {
    if (!/^\d{1,10}$/.test(wpid)) return { intervalMs: null, problem: `WATCHDOG_PID=${JSON.stringify(wpid.slice(0, 40))} is not a pid` };
    if (Number(wpid) !== pid) return { intervalMs: null };
  }
  const ms = Number(usec) / 1000;
  if (!(ms >= 2)) return { intervalMs: null, problem: `WATCHDOG_USEC=${usec} is too short to honour` };
  // Cap at 24 days: setTimeout cannot wait longer than 2^31-1 ms.
  return { intervalMs: Math.min(Math.floor(ms / 2), 2 ** 31 - 1) };
}
