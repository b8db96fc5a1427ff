/**
 * One line per event on stdout (journald picks it up): `level event key=value ...`.
 * Values that look like secrets (keys named password/pass/secret/token/auth) are masked.
 */
export type Level = 'debug' | 'info' | 'warn' | 'error';
export type Fields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: Fields): void;
  info(event: string, fields?: Fields): void;
  warn(event: string, fields?: Fields): void;
  error(event: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

const SECRET_KEY = /pass(word)?|secret|token|authorization|^auth$|pin$/i;
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function formatValue(v: unknown): string {
  if (v instanceof Error) v = v.message;
  if (typeof v === 'object' && v !== null) v = JSON.stringify(v);
  const s = String(v);
  return /^[\w.:/@+\-<>]+$/.test(s) ? s : JSON.stringify(s);
}

export function formatLine(level: Level, event: string, fields: Fields): string {
  const parts = [level, event];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    parts.push(`${k}=${SECRET_KEY.test(k) ? '***' : formatValue(v)}`);
  }
  return parts.join(' ');
}

export function createLogger(
  opts: { level?: Level; write?: (line: string) => void; base?: Fields } = {},
): Logger {
  const min = ORDER[opts.level ?? ((process.env.ALERTLINE_LOG_LEVEL as Level) || 'info')] ?? 20;
  const write = opts.write ?? ((line: string) => process.stdout.write(line + '\n'));
  const base = opts.base ?? {};
  const emit = (level: Level) => (event: string, fields: Fields = {}) => {
    if (ORDER[level] < min) return;
    write(formatLine(level, event, { ...base, ...fields }));
  };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    child: (fields) => createLogger({ ...opts, base: { ...base, ...fields } }),
  };
}

/** A logger that drops everything (tests that don't look at logs). */
export const silentLogger: Logger = createLogger({ write: () => {} });

/** A logger that keeps lines in memory (tests that assert on logs). */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger({ level: 'debug', write: (l) => lines.push(l) }), { lines });
}
