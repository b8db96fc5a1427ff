/**
 * Plays a WAV file into the modem's audio input with gsm.audioCommand (an argv template whose
 * `{file}` is replaced; spawned without a shell). Every process started here is reaped: stop()
 * sends SIGTERM, then SIGKILL if it lingers, and resolves only once the process has exited.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface PlaybackResult {
  /** Exit code, or null when ended by a signal or never started. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the program could not be started (ENOENT, EACCES). */
  error?: string;
  /** True when stop() ended it. */
  stopped: boolean;
}

export interface Playback {
  readonly pid: number | undefined;
  /** Resolves when the process has exited (or failed to start). Never rejects. */
  readonly done: Promise<PlaybackResult>;
  /** Ends the playback and resolves once the process is reaped. */
  stop(): Promise<PlaybackResult>;
}

/** Builds the argv for one file; throws on an empty template. */
export function audioArgv(template: readonly string[], file: string): string[] {
  if (template.length === 0 || !template[0]) throw new Error('gsm.audioCommand is empty');
  return template.map((a) => a.split('{file}').join(file));
}

export function play(template: readonly string[], file: string, killGraceMs = 2000): Playback {
  const [cmd, ...args] = audioArgv(template, file);
  let child: ChildProcess;
  let stopped = false;
  let settle!: (r: PlaybackResult) => void;
  const done = new Promise<PlaybackResult>((resolve) => (settle = resolve));
  let finished = false;
  const finish = (r: Omit<PlaybackResult, 'stopped'>) => {
    if (finished) return;
    finished = true;
    settle({ ...r, stopped });
  };
  try {
    child = spawn(cmd!, args, { stdio: 'ignore', shell: false });
  } catch (e) {
    finish({ code: null, signal: null, error: (e as Error).message });
    return { pid: undefined, done, stop: () => done };
  }
  child.on('error', (e) => finish({ code: null, signal: null, error: e.message }));
  child.on('exit', (code, signal) => finish({ code, signal }));

  const stop = async (): Promise<PlaybackResult> => {
    if (finished) return done;
    stopped = true;
    child.kill('SIGTERM');
    const t = setTimeout(() => {
      if (!finished) child.kill('SIGKILL');
    }, killGraceMs);
    const r = await done;
    clearTimeout(t);
    return r;
  };
  return { pid: child.pid, done, stop };
}
