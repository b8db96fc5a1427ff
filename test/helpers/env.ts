/** Temp data dirs, fixtures, an in-process daemon, and an SMTP sink standing in for the relay. */
import { mkdtempSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { configSchema, type Config } from '../../src/config/schema.js';

export const FIXTURES = join(import.meta.dirname, '../fixtures/mail');

export function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES).filter((f) => f.endsWith('.eml')).sort();
}

export function tempDir(prefix = 'alertline-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A config for tests: loopback, port 0 (any free port), data in dir. */
export function testConfig(dir: string, over: Record<string, unknown> = {}): Config {
  const base = { dataDir: join(dir, 'data'), audioCacheDir: join(dir, 'audio'), logLevel: 'error', smtp: { host: '127.0.0.1', port: 0 }, http: { port: 0 } };
  return configSchema.parse(deepMerge(base, over));
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && a[k] && typeof a[k] === 'object' ? deepMerge(a[k] as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

export interface SinkMessage {
  from: string;
  to: string[];
  raw: Buffer;
}

/**
 * A real SMTP server on loopback that records what it receives. `respond` decides the reply per
 * message: return null to accept, or [code, text] to refuse.
 */
export async function startSink(opts: { respond?: (n: number, raw: Buffer) => [number, string] | null; auth?: { user: string; pass: string }; delayMs?: number } = {}) {
  const messages: SinkMessage[] = [];
  let count = 0;
  const server = new SMTPServer({
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS', ...(opts.auth ? [] : ['AUTH'])],
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, _s, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) return cb(null, { user: auth.username });
      const e = new Error('5.7.8 bad credentials') as Error & { responseCode: number };
      e.responseCode = 535;
      cb(e);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const n = ++count;
        const r = opts.respond?.(n, raw) ?? null;
        if (r) {
          const e = new Error(r[1]) as Error & { responseCode: number };
          e.responseCode = r[0];
          return cb(e);
        }
        const accept = () => {
          messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((x) => x.address), raw });
          cb(null, 'sink accepted');
        };
        if (opts.delayMs) setTimeout(accept, opts.delayMs);
        else accept();
      });
    },
  });
  // A sender killed mid-message (kill -9 tests) resets its connection: not the sink's failure.
  server.on('error', () => {});
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  const port = ((server as unknown as { server: { address(): { port: number } } }).server.address()).port;
  return {
    port,
    messages,
    get attempts() {
      return count;
    },
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}

export async function waitFor<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 10_000, stepMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('waitFor: condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

import { Daemon, type DaemonOptions } from '../../src/daemon.js';
import type { ChannelFactory } from '../../src/channels/manager.js';
import type { ChannelName } from '../../src/channels/channel.js';
import { silentLogger, type Logger } from '../../src/util/log.js';

/** An in-process daemon on a free loopback port with its own data dir. */
export async function startDaemon(over: Record<string, unknown> = {}, opts: { factories?: Partial<Record<ChannelName, ChannelFactory>>; realChannels?: boolean; users?: [string, Record<string, string>?][]; logger?: Logger; parsePool?: DaemonOptions['parsePool'] } = {}) {
  const tmp = tempDir();
  const config = testConfig(tmp.dir, over);
  // Users go in before the daemon starts listening (same database file).
  const { openStores } = await import('../../src/store/index.js');
  const s = openStores(config.dataDir);
  for (const [email, f] of opts.users ?? [['oncall@alerts.example', { phone: '+34600123456' }], ['guardia@alerts.example', { group: 'noc' }], ['second@alerts.example', { group: 'noc' }]]) {
    await s.users.add(email, f ?? {});
  }
  await s.close();
  const daemon = await Daemon.start({ config, logger: opts.logger ?? silentLogger, ...(opts.realChannels ? {} : { factories: opts.factories ?? {} }), ...(opts.parsePool ? { parsePool: opts.parsePool } : {}), pollIntervalMs: 100 });
  await daemon.channelsReady;
  return {
    daemon,
    config,
    port: daemon.smtpPort(),
    dir: tmp.dir,
    async stop() {
      await daemon.stop(0);
      tmp.cleanup();
    },
  };
}
