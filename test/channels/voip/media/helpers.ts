import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/** A UDP socket on loopback that records every datagram with its arrival time. */
export class Receiver {
  readonly packets: { data: Buffer; at: number; from: dgram.RemoteInfo }[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (data, from) => {
      this.packets.push({ data, at: performance.now(), from });
      this.waiters = this.waiters.filter((w) => {
        if (this.packets.length >= w.n) w.resolve();
        return this.packets.length < w.n;
      });
    });
  }
  static async open(address = '127.0.0.1', port = 0): Promise<Receiver> {
    const s = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, address, () => resolve());
    });
    return new Receiver(s);
  }
  get port(): number {
    return this.socket.address().port;
  }
  /** Resolves once `n` datagrams have arrived; rejects after timeoutMs. */
  waitFor(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.packets.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`timed out waiting for ${n} datagrams (got ${this.packets.length})`)), timeoutMs);
      this.waiters.push({ n, resolve: () => (clearTimeout(t), resolve()) });
    });
  }
  send(buf: Buffer, port: number, address = '127.0.0.1'): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(buf, port, address, (err) => (err ? reject(err) : resolve())));
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/**
 * Bundles the media worker from its TypeScript source into a temporary .mjs (vitest runs the
 * sources, and a worker thread cannot load .ts), so tests exercise the worker-thread pacer.
 */
export function buildWorker(): { script: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'alertline-media-worker-'));
  const script = join(dir, 'media-worker.mjs');
  buildSync({
    entryPoints: [fileURLToPath(new URL('../../../../src/channels/voip/rtp/media-worker.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: script,
    logLevel: 'silent',
  });
  return { script, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port range unlikely to be used by other tests running in parallel on this machine. */
export function portRange(): { min: number; max: number } {
  const min = 20000 + 2 * Math.floor(Math.random() * 10000);
  return { min, max: min + 199 };
}
