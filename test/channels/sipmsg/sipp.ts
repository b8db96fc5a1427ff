/** sipp (Debian sip-tester) sending a scenario from this folder to a target on loopback. */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** Runs `scenario` as a UAC from ip:port to `target` once; resolves with the exit code and what sipp logged. */
export function sippClient(
  scenario: string,
  opts: { target: string; port: number; ip?: string; dir?: string; vars?: Record<string, string | number>; timeoutS?: number },
): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'alertline-sipp-uac-'));
  const args = [
    opts.target,
    '-sf', join(opts.dir ?? HERE, scenario),
    '-i', opts.ip ?? '127.0.0.1',
    '-p', String(opts.port),
    '-t', 'u1',
    '-m', '1',
    '-nostdin',
    '-timeout', `${opts.timeoutS ?? 10}s`,
    '-timeout_error',
    '-trace_err', '-error_file', join(dir, 'errors.log'),
    '-trace_msg', '-message_file', join(dir, 'messages.log'),
  ];
  for (const [k, v] of Object.entries(opts.vars ?? {})) args.push('-set', k, String(v));
  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20000)));
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-20000)));
  return new Promise((resolve) => {
    child.on('exit', (code) => {
      const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').slice(-12000) : '');
      const full = `${output}\n--- errors ---\n${read('errors.log')}\n--- messages ---\n${read('messages.log')}`;
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, output: full });
    });
  });
}

/**
 * sipp checks a scenario's response codes when it loads it, and refuses a -set variable used
 * once: values are written into a copy of the scenario instead (`[$name]` replaced). Returns
 * the copy's folder; the caller removes it.
 */
export function scenarioCopy(name: string, values: Record<string, string | number>): string {
  const dir = mkdtempSync(join(tmpdir(), 'alertline-sipmsg-'));
  let xml = readFileSync(join(HERE, name), 'utf8');
  for (const [k, v] of Object.entries(values)) xml = xml.split(`[$${k}]`).join(String(v));
  writeFileSync(join(dir, name), xml);
  return dir;
}
