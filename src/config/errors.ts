/** Errors about the configuration: each names the file and the key (or the command-line input). */

export interface ConfigIssue {
  /** Dotted key (`smtp.tls.key`), `(file)` for the file itself, or the flag (`--config`). */
  key: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    message: string,
    /** Each problem by key, for `config check --json`. */
    readonly issues: ConfigIssue[] = [],
    /** True when the command line itself is wrong (e.g. `--config ""`): exit 2, not 1. */
    readonly usage = false,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}
