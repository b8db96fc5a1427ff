/**
 * Runtime settings kept in the database (changed with `alertline settings set` / `channels ...`).
 * A database value overrides the YAML file's; the daemon re-reads them, so no restart is needed.
 */
import type { Sql } from './sql/driver.js';
import type { Config } from '../config/schema.js';
import { parseDuration, formatDuration } from '../config/units.js';
import { ValidationError, validateChannelOrder, validateLang } from './user-fields.js';
import { CHANNEL_NAMES } from '../config/channel-names.js';

type Parse = (raw: string) => unknown;

const bool: Parse = (s) => {
  if (/^(true|yes|on|1)$/i.test(s)) return true;
  if (/^(false|no|off|0)$/i.test(s)) return false;
  throw new ValidationError(`expected true or false, got ${JSON.stringify(s)}`);
};
const int = (min: number, max: number): Parse => (s) => {
  const n = Number(s);
  if (!/^-?\d+$/.test(s.trim()) || n < min || n > max) throw new ValidationError(`expected a whole number from ${min} to ${max}, got ${JSON.stringify(s)}`);
  return n;
};
const duration: Parse = (s) => {
  try {
    return parseDuration(s);
  } catch (e) {
    throw new ValidationError((e as Error).message);
  }
};
const oneOf = (...vals: string[]): Parse => (s) => {
  if (!vals.includes(s)) throw new ValidationError(`expected one of ${vals.join(', ')}, got ${JSON.stringify(s)}`);
  return s;
};
const regexList: Parse = (s) => {
  let list: unknown;
  try {
    list = JSON.parse(s);
  } catch {
    list = s.split(',').map((x) => x.trim()).filter(Boolean);
  }
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new ValidationError('expected a JSON array of regular expressions');
  for (const re of list) {
    try { new RegExp(re as string, 'i'); } catch { throw new ValidationError(`invalid regular expression ${JSON.stringify(re)}`); }
  }
  return list;
};

/** Every key settable at run time: where it lands in the config, and how its text is parsed. */
export const SETTING_KEYS: Record<string, { path: string[]; parse: Parse; durationKey?: boolean }> = {
  'voice.lang': { path: ['voice', 'lang'], parse: (s) => validateLang(s) },
  'voice.rate': { path: ['voice', 'rate'], parse: int(80, 450) },
  'voice.repeat': { path: ['voice', 'repeat'], parse: int(1, 10) },
  'sms.fullText': { path: ['channels', 'sms', 'fullText'], parse: bool },
  'sms.maxParts': { path: ['channels', 'sms', 'maxParts'], parse: int(1, 16) },
  'channels.order': { path: ['channels', 'order'], parse: (s) => validateChannelOrder(s) },
  ...Object.fromEntries(
    CHANNEL_NAMES.map((c) => [`channels.${c}.enabled`, { path: ['channels', c, 'enabled'], parse: bool }]),
  ),
  'filter.dedupeWindow': { path: ['filter', 'dedupeWindow'], parse: duration, durationKey: true },
  'filter.ignoreSubjects': { path: ['filter', 'ignoreSubjects'], parse: regexList },
  'filter.maxPending': { path: ['filter', 'maxPending'], parse: int(1, 10_000_000) },
  'escalation.mode': { path: ['escalation', 'mode'], parse: oneOf('until-acknowledged', 'all') },
  'escalation.rounds': { path: ['escalation', 'rounds'], parse: int(1, 50) },
  'escalation.roundInterval': { path: ['escalation', 'roundInterval'], parse: duration, durationKey: true },
  'escalation.quickRetry': { path: ['escalation', 'quickRetry'], parse: duration, durationKey: true },
  'escalation.maxCallsPerHour': { path: ['escalation', 'maxCallsPerHour'], parse: int(1, 1000) },
  'escalation.notifyResolved': { path: ['escalation', 'notifyResolved'], parse: bool },
};

function getPath(obj: unknown, path: string[]): unknown {
  let o = obj as Record<string, unknown>;
  for (const p of path) o = o?.[p] as Record<string, unknown>;
  return o;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj;
  for (const p of path.slice(0, -1)) o = o[p] as Record<string, unknown>;
  o[path[path.length - 1]!] = value;
}

export class SettingsStore {
  constructor(private readonly q: Sql, private readonly now: () => number = Date.now) {}

  static keySpec(key: string) {
    const spec = SETTING_KEYS[key];
    if (!spec) throw new ValidationError(`unknown setting ${JSON.stringify(key)} (known: ${Object.keys(SETTING_KEYS).join(', ')})`);
    return spec;
  }

  /** Parses and stores a value given as text. Returns the stored value. */
  async set(key: string, raw: string): Promise<unknown> {
    const value = SettingsStore.keySpec(key).parse(raw);
    await this.setValue(key, value);
    return value;
  }

  async setValue(key: string, value: unknown): Promise<void> {
    SettingsStore.keySpec(key);
    (await this.q.run('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at', key, JSON.stringify(value), this.now()));
  }

  async unset(key: string): Promise<boolean> {
    return (await this.q.run('DELETE FROM settings WHERE key = ?', key)) > 0;
  }

  async overrides(): Promise<Record<string, unknown>> {
    const rows = (await this.q.all('SELECT key, value FROM settings')) as { key: string; value: string }[];
    const out: Record<string, unknown> = {};
    for (const r of rows) if (SETTING_KEYS[r.key]) out[r.key] = JSON.parse(r.value);
    return out;
  }

  /** The file's config with the database's overrides applied. */
  async effective(fileConfig: Config): Promise<Config> {
    const merged = structuredClone(fileConfig) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(await this.overrides())) setPath(merged, SETTING_KEYS[k]!.path, v);
    return merged as unknown as Config;
  }

  /** Every known key with its effective value and where it comes from. */
  async describe(fileConfig: Config): Promise<{ key: string; value: unknown; source: 'database' | 'file' }[]> {
    const ov = await this.overrides();
    const eff = await this.effective(fileConfig);
    return Object.entries(SETTING_KEYS).map(([key, spec]) => {
      let value = getPath(eff, spec.path);
      if (spec.durationKey && typeof value === 'number') value = formatDuration(value);
      return { key, value, source: key in ov ? 'database' : 'file' };
    });
  }
}
