/**
 * Finding and loading the YAML configuration. Errors name the file and the key.
 * Lookup (one function, used by every command — run, doctor, config check, the rest):
 * --config FILE, else $ALERTLINE_CONFIG, else /etc/alertline/alertline.yaml if it exists,
 * else config/alertline.yaml if it exists, else built-in defaults.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ZodError } from 'zod';
import { configSchema, type Config } from './schema.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { checkTlsFiles } from './tls-files.js';
import { inspectDirectory, DirectoryError } from './dirs.js';

export { ConfigError, type ConfigIssue } from './errors.js';

export const SYSTEM_CONFIG = '/etc/alertline/alertline.yaml';
export const LOCAL_CONFIG = 'config/alertline.yaml';

/** Where the config came from: the --config flag, $ALERTLINE_CONFIG, the system file, the checkout's file, or none. */
export type ConfigSource = 'flag' | 'env' | 'system' | 'local' | 'defaults';

export interface ConfigLocation {
  path: string | null;
  source: ConfigSource;
}

export interface LoadedConfig {
  config: Config;
  /** The file read, or null when running on built-in defaults. */
  path: string | null;
  /** How the file was found. */
  source: ConfigSource;
  /** Warnings worth logging at start (e.g. secrets in a world-readable file). */
  warnings: string[];
}

/**
 * The one config lookup. `explicit` is the --config value as given: undefined when the flag is
 * absent; an empty string is a usage error (it used to mean "defaults", silently). An empty
 * $ALERTLINE_CONFIG counts as unset.
 */
export function locateConfig(explicit?: string, env: NodeJS.ProcessEnv = process.env, exists: (p: string) => boolean = existsSync): ConfigLocation {
  if (explicit !== undefined) {
    if (explicit.trim() === '') throw new ConfigError('--config needs a file name (got an empty string)', [{ key: '--config', message: 'empty file name' }], true);
    return { path: explicit, source: 'flag' };
  }
  if (env.ALERTLINE_CONFIG) return { path: env.ALERTLINE_CONFIG, source: 'env' };
  if (exists(SYSTEM_CONFIG)) return { path: SYSTEM_CONFIG, source: 'system' };
  if (exists(LOCAL_CONFIG)) return { path: LOCAL_CONFIG, source: 'local' };
  return { path: null, source: 'defaults' };
}

/** The path locateConfig finds (null: built-in defaults). */
export function findConfigPath(explicit?: string, env = process.env): string | null {
  return locateConfig(explicit, env).path;
}

/** How a location reads in messages: "/etc/alertline/alertline.yaml (from $ALERTLINE_CONFIG)". */
export function describeLocation(l: ConfigLocation): string {
  const from = { flag: 'from --config', env: 'from $ALERTLINE_CONFIG', system: 'found at the system location', local: 'found in the working directory', defaults: '' }[l.source];
  return l.path ? `${resolve(l.path)} (${from})` : `no config file (none given; neither ${SYSTEM_CONFIG} nor ./${LOCAL_CONFIG} exists): built-in defaults`;
}

export function zodIssues(err: ZodError): ConfigIssue[] {
  return err.issues.map((i) => {
    const key = i.path.join('.') || '(top level)';
    if (i.code === 'unrecognized_keys') return { key, message: `unknown key(s) ${i.keys.join(', ')}` };
    return { key, message: i.message };
  });
}

export function formatIssues(issues: ConfigIssue[]): string {
  return issues.map((i) => `${i.key}: ${i.message}`).join('; ');
}

export function formatZodError(err: ZodError): string {
  return formatIssues(zodIssues(err));
}

export function parseConfig(text: string, source = 'config'): Config {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (e) {
    const msg = e instanceof YAMLParseError ? e.message.split('\n')[0] : (e as Error).message;
    throw new ConfigError(`${source}: invalid YAML: ${msg}`, [{ key: '(file)', message: `invalid YAML: ${msg}` }]);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${source}: top level must be a mapping`, [{ key: '(top level)', message: 'must be a mapping' }]);
  const r = configSchema.safeParse(doc);
  if (!r.success) {
    const issues = zodIssues(r.error);
    throw new ConfigError(`${source}: ${formatIssues(issues)}`, issues);
  }
  for (const re of r.data.filter.ignoreSubjects) {
    try {
      new RegExp(re, 'i');
    } catch {
      const message = `invalid regular expression ${JSON.stringify(re)}`;
      throw new ConfigError(`${source}: filter.ignoreSubjects: ${message}`, [{ key: 'filter.ignoreSubjects', message }]);
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

/** Files the config names (TLS keys and certificates), checked at load so errors name file and key. */
export function checkConfigFiles(c: Config): { issues: ConfigIssue[]; warnings: string[] } {
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  if (c.smtp.tls) {
    const r = checkTlsFiles('smtp.tls', c.smtp.tls);
    issues.push(...r.issues);
    warnings.push(...r.warnings);
  }
  return { issues, warnings };
}

/** The directories the config names: real, writable, on a file system that holds files (nothing is created). */
export function checkConfigDirectories(c: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const key of ['dataDir', 'audioCacheDir'] as const) {
    if (key === 'dataDir' && c.dataDir === ':memory:') continue;
    try {
      inspectDirectory(c[key]);
    } catch (e) {
      if (!(e instanceof DirectoryError)) throw e;
      issues.push({ key, message: e.message });
    }
  }
  return issues;
}

export function loadConfig(explicit?: string, env = process.env): LoadedConfig {
  const where = locateConfig(explicit, env);
  const path = where.path;
  if (!path) return { config: configSchema.parse({}), path: null, source: where.source, warnings: [] };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError(`cannot read config file ${path}: ${code}`, [{ key: '(file)', message: `cannot read ${path}: ${code}` }]);
  }
  const config = parseConfig(text, path);
  const files = checkConfigFiles(config);
  if (files.issues.length) throw new ConfigError(`${path}: ${formatIssues(files.issues)}`, files.issues);
  const warnings: string[] = [...files.warnings];
  try {
    const mode = statSync(path).mode;
    if (mode & 0o004 && hasSecrets(config)) {
      warnings.push(`config file ${resolve(path)} holds secrets and is world-readable (chmod 640 it)`);
    }
  } catch {
    /* stat failure after a successful read: ignore */
  }
  return { config, path, source: where.source, warnings };
}
