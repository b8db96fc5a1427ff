/**
 * `alertline config check [--json]`: validates the config file `run` would use (same --config,
 * $ALERTLINE_CONFIG and file search), the files it names (TLS key and certificate) and its
 * directories (real, writable, on a file system that holds files; nothing is created).
 * Exit 0 when valid, 1 naming each key that is wrong, 2 for a usage error such as `--config ""`.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { checkConfigDirectories, ConfigError, describeLocation, loadConfig, locateConfig, type ConfigIssue, type ConfigSource } from '../config/load.js';
import { CliError } from './errors.js';
import { line, printJson, type GlobalOpts } from './context.js';

export interface ConfigCheckReport {
  ok: boolean;
  /** Absolute path of the file checked; null on built-in defaults. */
  path: string | null;
  source: ConfigSource;
  issues: ConfigIssue[];
  warnings: string[];
}

export function checkConfigFile(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): ConfigCheckReport {
  const where = locateConfig(flag, env); // a usage error (--config "") is thrown, not reported
  const path = where.path ? resolve(where.path) : null;
  try {
    const loaded = loadConfig(flag, env);
    const issues = checkConfigDirectories(loaded.config);
    return { ok: issues.length === 0, path, source: where.source, issues, warnings: loaded.warnings };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { ok: false, path, source: where.source, issues: e.issues.length ? e.issues : [{ key: '(file)', message: e.message }], warnings: [] };
  }
}

export function registerConfig(program: Command, g: () => GlobalOpts): void {
  const cfg = program.command('config').description('check the configuration file (the one run would use)');
  cfg.command('check').description('validate the config file, the files it names and its directories; exit 1 naming the key on error')
    .option('--json', 'machine-readable output')
    .action((f: { json?: boolean }) => {
      const flag = g().config;
      const r = checkConfigFile(flag);
      if (f.json) printJson(r);
      else {
        line(`config: ${describeLocation(locateConfig(flag))}`);
        for (const w of r.warnings) line(`warning: ${w}`);
        for (const i of r.issues) line(`error: ${i.key}: ${i.message}`);
        line(r.ok ? 'config is valid' : `config is NOT valid: ${r.issues.length} error${r.issues.length === 1 ? '' : 's'}`);
      }
      if (!r.ok) throw new CliError(f.json ? '' : `${r.path ?? 'config'}: ${r.issues.map((i) => i.key).join(', ')}`, 1);
    });
}
