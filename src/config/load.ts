/**
 * Finding and loading the YAML configuration. Errors name the file and the key.
 * Lookup: --config FILE, else $ALERTLINE_CONFIG, else /etc/alertline/alertline.yaml if it exists,
 * else config/alertline.yaml if it exists, else built-in defaults.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ZodError } from 'zod';
import { configSchema, type Config } from './schema.js';

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export interface LoadedConfig {
  config: Config;
  /** The file read, or null when running on built-in defaults. */
  path: string | null;
  /** Warnings worth logging at start (e.g. secrets in a world-readable file). */
  warnings: string[];
}

export function findConfigPath(explicit?: string, env = process.env): string | null {
  if (explicit) return explicit;
  if (env.ALERTLINE_CONFIG) return env.ALERTLINE_CONFIG;
  if (existsSync('/etc/alertline/alertline.yaml')) return '/etc/alertline/alertline.yaml';
  if (existsSync('config/alertline.yaml')) return 'config/alertline.yaml';
  return null;
}

export function formatZodError(err: ZodError): string {
  return err.issues
    .map((i) => {
      const key = i.path.join('.') || '(top level)';
      if (i.code === 'unrecognized_keys') return `${key}: unknown key(s) ${i.keys.join(', ')}`;
      return `${key}: ${i.message}`;
    })
    .join('; ');
}

export function parseConfig(text: string, source = 'config'): Config {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    const msg = e instanceof YAMLParseError ? e.message.split('\n')[0] : (e as Error).message;
    throw new ConfigError(`${source}: invalid YAML: ${msg}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${source}: top level must be a mapping`);
  const r = configSchema.safeParse(doc);
  if (!r.success) throw new ConfigError(`${source}: ${formatZodError(r.error)}`);
  for (const re of r.data.filter.ignoreSubjects) {
    try {
      new RegExp(re, 'i');
    } catch {
      throw new ConfigError(`${source}: filter.ignoreSubjects: invalid regular expression ${JSON.stringify(re)}`);
    }
  }
  return r.data;
}

function hasSecrets(c: Config): boolean {
  return Boolean(
    c.channels.voip.password ||
      c.channels.mail.password ||
      c.channels.gsm.pin ||
      Object.keys(c.smtp.auth.users).length,
  );
}

export function loadConfig(explicit?: string, env = process.env): LoadedConfig {
  const path = findConfigPath(explicit, env);
  if (!path) return { config: configSchema.parse({}), path: null, warnings: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const config = parseConfig(text, path);
  const warnings: string[] = [];
  try {
    const mode = statSync(path).mode;
    if (mode & 0o004 && hasSecrets(config)) {
      warnings.push(`config file ${resolve(path)} holds secrets and is world-readable (chmod 640 it)`);
    }
  } catch {
    /* stat failure after a successful read: ignore */
  }
  return { config, path, warnings };
}
