/** A failure the CLI reports as `alertline: <message>` with its exit status (1 failure, 2 usage error). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
    this.name = 'CliError';
  }
}
