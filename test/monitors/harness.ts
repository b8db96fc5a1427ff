/**
 * Real monitors on loopback for tests: a free port, a foreground child process with its output
 * kept for failure messages, an SMTP sink (smtp-server) capturing the exact bytes each monitor
 * sends, and — when ALERTLINE_SAVE_FIXTURES names a directory — a copy of each captured mail
 * there (how test/fixtures/mail/real-am025-* and real-nagios44-* were made).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSink, type SinkMessage } from '../helpers/env.js';

export { startSink, type SinkMessage };

export { freePort } from '../helpers/cli.js';

export class Proc {
  private out = '';
  private exited: Promise<number | null>;
  private constructor(readonly child: ChildProcess, readonly name: string) {
    child.stdout?.on('data', (d: Buffer) => { this.out = (this.out + d.toString()).slice(-20_000); });
    child.stderr?.on('data', (d: Buffer) => { this.out = (this.out + d.toString()).slice(-20_000); });
    this.exited = new Promise((res) => child.once('exit', (code) => res(code)));
  }

  static start(name: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Proc {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env }, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
    return new Proc(child, name);
  }

  get output(): string {
    return this.out;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM, then SIGKILL after 3 s; resolves when the process is gone. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(t);
  }
}

/** Polls fn until it returns a truthy value; the error names what was awaited and the log. */
export async function until<T>(what: string, fn: () => T | undefined | null | false, timeoutMs: number, log?: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${log ? `\n--- log ---\n${log().slice(-4000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Saves a captured mail as a fixture when ALERTLINE_SAVE_FIXTURES is set (never in CI). */
export function saveFixture(name: string, raw: Buffer): void {
  const dir = process.env.ALERTLINE_SAVE_FIXTURES;
  if (!dir) return;
  writeFileSync(join(dir, name), raw);
}
