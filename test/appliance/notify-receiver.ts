/**
 * A stand-in for systemd's end of NOTIFY_SOCKET: a unix datagram socket in a temp dir, read by a
 * perl one-liner (perl-base is Essential on Debian, so it is always there; Node cannot bind a unix
 * datagram socket). Like PID 1 it drops file descriptors passed with a message (perl's recv()
 * takes no control data, so the kernel closes them), which is what completes systemd-notify's
 * BARRIER=1 handshake. Each datagram becomes one hex line on perl's stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNotifyMessage } from '../../src/appliance/notify-message.js';

const PERL = `$|=1; socket(my $s, PF_UNIX, SOCK_DGRAM, 0) or die "socket: $!"; bind($s, pack_sockaddr_un($ARGV[0])) or die "bind: $!"; print "LISTENING\\n"; while (defined(recv($s, my $buf, 65536, 0))) { print unpack("H*", $buf), "\\n" }`;

export interface NotifyReceiver {
  socket: string;
  /** Every datagram so far, parsed, in arrival order (BARRIER=1 handshakes left out). */
  messages: Record<string, string>[];
  /** Raw texts, barriers included. */
  raw: string[];
  waitFor(pred: (m: Record<string, string>, index: number) => boolean, timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

export async function startNotifyReceiver(): Promise<NotifyReceiver> {
  const dir = mkdtempSync(join(tmpdir(), 'alertline-notify-'));
  const socket = join(dir, 'notify.sock');
  const child: ChildProcess = spawn('perl', ['-MSocket', '-e', PERL, socket], { stdio: ['ignore', 'pipe', 'pipe'] });
  const messages: Record<string, string>[] = [];
  const raw: string[] = [];
  const listeners = new Set<() => void>();
  let buf = '';
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'LISTENING') {
          resolve();
          continue;
        }
        const text = Buffer.from(line, 'hex').toString('utf8');
        raw.push(text);
        const m = parseNotifyMessage(text);
        if (!('BARRIER' in m)) messages.push(m);
        for (const l of listeners) l();
      }
    };
    child.stdout!.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`notify receiver exited ${code}: ${stderr}`)));
  });
  return {
    socket,
    messages,
    raw,
    waitFor(pred, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const i = messages.findIndex(pred);
          if (i >= 0) {
            listeners.delete(check);
            clearTimeout(t);
            resolve(i);
          }
        };
        const t = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`notification not received in time; got: ${JSON.stringify(messages)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
