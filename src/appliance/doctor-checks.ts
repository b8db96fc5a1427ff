/**
 * `alertline doctor`: one check per thing that must work for an alert to reach a person, each a
 * PASS / FAIL / WARN / SKIP line with a hint that says what to do. The checks only look: nothing
 * is sent, no call is placed, and files created to test writability are removed again.
 *
 * Order matters: later checks use what earlier ones found (the effective configuration — the file
 * plus the settings kept in the database —, whether a daemon is running and owns the modem).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createServer, connect, isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { snapshotIsLive, type LiveStatus } from '../store/daemon-status.js';
import type { Config } from '../config/schema.js';
import { openStoresAt } from '../store/index.js';
import { silentLogger, type Logger } from '../util/log.js';
import { prepareDirectory } from '../config/dirs.js';
import { reachChecks, type Person } from './doctor-reach.js';

export type CheckStatus = 'pass' | 'fail' | 'warn' | 'skip';

export interface CheckResult {
  /** Short stable id: config, config-permissions, data-dir, smtp-port, tts, audio-cache, relay, modem, sip. */
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about it (for fail and warn). */
  hint?: string;
}

export interface DoctorReport {
  ok: boolean;
  configPath: string | null;
  checks: CheckResult[];
}

/** What the daemon's last snapshot says, when one is running on the same data dir. */
export interface LiveDaemon {
  pid: number;
  status: LiveStatus;
}

export interface DoctorEnv {
  config: Config;
  configPath: string | null;
  /** Set when a daemon is running on this data dir (fresh snapshot, pid alive). */
  daemon: LiveDaemon | null;
  logger: Logger;
}

/** A check of an enabled channel's peer (modem, SIP registrar); injected so the CLI and tests choose. */
export type ChannelProbe = (env: DoctorEnv) => Promise<CheckResult[]>;

export interface DoctorOptions {
  /** --config (else $ALERTLINE_CONFIG, /etc/alertline/alertline.yaml, config/alertline.yaml). */
  configPath?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Bound for each check (default 60 s; TTS warm-up on a Pi takes a few seconds). */
  checkTimeoutMs?: number;
  probes?: {
    tts?: (env: DoctorEnv) => Promise<CheckResult[]>;
    relay?: (env: DoctorEnv) => Promise<CheckResult[]>;
    modem?: ChannelProbe;
    sip?: ChannelProbe;
  };
}


export function pass(name: string, detail: string): CheckResult {
  return { name, status: 'pass', detail };
}
export function fail(name: string, detail: string, hint: string): CheckResult {
  return { name, status: 'fail', detail, hint };
}
export function warn(name: string, detail: string, hint: string): CheckResult {
  return { name, status: 'warn', detail, hint };
}
export function skip(name: string, detail: string): CheckResult {
  return { name, status: 'skip', detail };
}

function errCode(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? '';
}

function errText(e: unknown): string {
  const code = errCode(e);
  const msg = e instanceof Error ? e.message : String(e);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, rej) => (t = setTimeout(() => rej(new Error(`${what}: no result within ${Math.round(ms / 1000)} s`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

// ---------------------------------------------------------------- config

export function checkConfig(configPath: string | undefined, env: NodeJS.ProcessEnv): { result: CheckResult; loaded: LoadedConfig | null } {
  try {
    const loaded = loadConfig(configPath, env);
    const where = loaded.path ? resolve(loaded.path) : 'no config file found: built-in defaults';
    return { result: pass('config', where), loaded };
  } catch (e) {
    return {
      result: fail('config', (e as Error).message, 'fix the key named above; config/alertline.example.yaml documents every key'),
      loaded: null,
    };
  }
}

export function checkConfigPermissions(loaded: LoadedConfig): CheckResult {
  if (!loaded.path) return skip('config-permissions', 'no config file');
  if (loaded.warnings.length) {
    return warn('config-permissions', loaded.warnings.join('; '), `chown root:alertline ${resolve(loaded.path)} && chmod 640 ${resolve(loaded.path)}`);
  }
  const st = statSync(loaded.path);
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
  return pass('config-permissions', st.mode & 0o004 ? `mode ${mode}: world-readable, but holds no secrets` : `mode ${mode}: not readable by others`);
}

// ---------------------------------------------------------------- data dir and database

export async function checkDataDir(config: Config): Promise<{ results: CheckResult[]; effective: Config; daemon: LiveDaemon | null; people: Person[] | null }> {
  const dir = resolve(config.dataDir);
  const results: CheckResult[] = [];
  let effective = config;
  let daemon: LiveDaemon | null = null;
  let people: Person[] | null = null;
  try {
    prepareDirectory(dir); // not mkdirSync recursive: that spins forever under /proc
    const probe = join(dir, `.doctor-${process.pid}-${randomBytes(4).toString('hex')}`);
    const fd = openSync(probe, 'wx', 0o600);
    try {
      writeSync(fd, 'alertline doctor\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
      unlinkSync(probe);
    }
  } catch (e) {
    const code = errCode(e);
    const hint = code === 'EACCES' || code === 'EPERM'
      ? `the daemon's user must own it: chown -R alertline:alertline ${dir} (under systemd, StateDirectory= does this for /var/lib/alertline)`
      : code === 'ENOSPC' ? 'the disk is full: free space' : code === 'EROFS' ? 'the file system is read-only' : `dataDir must be a writable directory (now: ${dir})`;
    results.push(fail('data-dir', `${dir} is not writable: ${errText(e)}`, hint));
    return { results, effective, daemon, people };
  }
  const owner = process.getuid?.() === 0 ? ` (checked as root; directory owner uid ${statSync(dir).uid})` : '';
  try {
    const stores = await openStoresAt(config.store, dir);
    try {
      await stores.ping();
      const list = await stores.users.list();
      const users = list.length;
      people = [];
      const consoleLogins = new Set((await stores.webUsers.list()).map((w) => w.userEmail?.toLowerCase()).filter(Boolean));
      for (const u of list) people.push({ email: u.email, phone: u.phone, sip: u.sip, xmpp: u.xmpp, console: consoleLogins.has(u.email.toLowerCase()), group: u.group, order: await stores.users.effectiveOrder(u) });
      effective = await stores.settings.effective(config);
      const snap = await stores.daemonStatus.read();
      if (snapshotIsLive(snap, Date.now())) daemon = { pid: snap.pid, status: snap.status };
      results.push(pass('data-dir', `${dir} writable; database open, ${users} user${users === 1 ? '' : 's'}${owner}`));
      if (users === 0) results.push(warn('users', 'no users yet: an alert would reach nobody', 'alertline users add <email> --phone +E164 (see alertline users --help)'));
    } finally {
      await stores.close();
    }
  } catch (e) {
    results.push(fail('data-dir', `${dir} is writable but the database does not open: ${errText(e)}`, 'check the file alertline.db there (permissions, disk space; restore a backup if it is corrupt)'));
  }
  return { results, effective, daemon, people };
}

export function checkAudioCache(config: Config): CheckResult {
  const dir = resolve(config.audioCacheDir);
  try {
    prepareDirectory(dir); // not mkdirSync recursive: that spins forever under /proc
    const probe = join(dir, `.doctor-${process.pid}-${randomBytes(4).toString('hex')}`);
    const fd = openSync(probe, 'wx', 0o600);
    closeSync(fd);
    unlinkSync(probe);
    return pass('audio-cache', `${dir} writable`);
  } catch (e) {
    return fail('audio-cache', `${dir} is not writable: ${errText(e)}`, `audioCacheDir must be writable by the daemon's user (chown -R alertline:alertline ${dir})`);
  }
}

// ---------------------------------------------------------------- SMTP port

/** Reads the first line a server sends after connecting, or null when nothing listens there. */
export function readGreeting(host: string, port: number, timeoutMs = 5000): Promise<{ line: string } | { refused: string }> {
  return new Promise((res) => {
    const s = connect({ host, port });
    let buf = '';
    let done = false;
    const finish = (v: { line: string } | { refused: string }) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      res(v);
    };
    const t = setTimeout(() => finish({ line: buf.split(/\r?\n/)[0] ?? '' }), timeoutMs);
    s.setEncoding('latin1');
    s.on('data', (d: string) => {
      buf += d;
      if (buf.length > 512 || /\r?\n/.test(buf)) {
        s.write('QUIT\r\n');
        finish({ line: buf.split(/\r?\n/)[0]!.slice(0, 200) });
      }
    });
    s.on('error', (e) => finish({ refused: errCode(e) || e.message }));
    s.on('close', () => finish(buf ? { line: buf.split(/\r?\n/)[0]! } : { refused: 'closed without a greeting' }));
  });
}

function tryBind(host: string, port: number): Promise<string | null> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', (e) => res(errCode(e) || e.message));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => res(null)));
  });
}

export async function checkSmtpPort(config: Config, daemon: LiveDaemon | null): Promise<CheckResult> {
  const { host, port } = config.smtp;
  const where = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  if (port === 0) return pass('smtp-port', 'smtp.port 0: any free port is taken at start');
  const probeHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const g = await readGreeting(probeHost, port);
  if ('line' in g) {
    if (/^220[ -].*Alertline/.test(g.line)) {
      return pass('smtp-port', `${where}: the Alertline daemon is listening${daemon ? ` (pid ${daemon.pid})` : ''}`);
    }
    return fail('smtp-port', `${where} is taken by another program (greets: ${JSON.stringify(g.line)})`,
      `stop that program (a local MTA such as exim4 or postfix: systemctl disable --now exim4) or set smtp.port to a free port`);
  }
  const bindErr = await tryBind(host, port);
  if (bindErr === null) return pass('smtp-port', `${where} is free and can be bound`);
  if (bindErr === 'EACCES' && port < 1024) {
    return warn('smtp-port', `${where}: this user may not bind ports below 1024`,
      'the systemd unit grants CAP_NET_BIND_SERVICE, so the service can; run the service and then doctor again to see it answer');
  }
  if (bindErr === 'EADDRNOTAVAIL') return fail('smtp-port', `${where}: ${host} is not an address of this machine`, 'set smtp.host to one of this machine\'s addresses, 0.0.0.0 or ::');
  if (bindErr === 'EADDRINUSE') return fail('smtp-port', `${where} is in use`, 'find the program with: ss -ltnp | grep :' + port);
  return fail('smtp-port', `${where} cannot be bound: ${bindErr}`, 'check smtp.host and smtp.port');
}

// ---------------------------------------------------------------- TTS

/** Synthesizes a word with the configured engine into a throw-away cache (never root-owned files in the real one). */
export async function checkTts(env: DoctorEnv): Promise<CheckResult[]> {
  const voice = env.config.voice;
  const scratch = mkdtempSync(join(tmpdir(), 'alertline-doctor-tts-'));
  try {
    const { SpeechService } = await import('../audio/speech-service.js');
    const service = await SpeechService.create({ voice, cacheDir: scratch, logger: silentLogger });
    try {
      const w = await service.speechWav('Alertline test.', voice.lang);
      if (!(w.durationMs > 100) || w.samples.length === 0) {
        return [fail('tts', `${voice.engine} produced ${w.durationMs} ms of audio for a test sentence`, 'check voice.engine / voice.command; try: alertline say "test" --out /tmp/t.wav')];
      }
      return [pass('tts', `${voice.engine}, lang ${voice.lang}: ${(w.durationMs / 1000).toFixed(1)} s of speech at ${w.sampleRate} Hz`)];
    } finally {
      await service.close();
    }
  } catch (e) {
    return [fail('tts', `${voice.engine} (lang ${voice.lang}): ${errText(e)}`,
      voice.engine === 'command' ? 'run voice.command by hand to see why it fails' : 'check voice.lang (e.g. en, es, de, pt-br); try: alertline say "test"')];
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- mail relay

function relayHint(code: string, host: string, port: number): string {
  switch (code) {
    case 'EAUTH':
      return 'the relay refused channels.mail.user / password: check them (an app password if the provider needs one)';
    case 'ETLS':
      return 'TLS failed: check channels.mail.secure (465 = true), requireTLS (587 = STARTTLS), and the relay certificate';
    case 'EDNS':
      return `the name ${host} does not resolve: check channels.mail.host and DNS`;
    case 'ETIMEDOUT':
    case 'ECONNREFUSED':
    case 'ECONNECTION':
    case 'ESOCKET':
      return `nothing answers SMTP at ${host}:${port}: check channels.mail.host/port and any firewall between here and there`;
    default:
      return 'check the channels.mail settings';
  }
}

export async function checkRelay(env: DoctorEnv): Promise<CheckResult[]> {
  const m = env.config.channels.mail;
  if (!m.enabled) return [skip('relay', 'skipped (disabled)')];
  const { MailChannel } = await import('../channels/mail/mail-channel.js');
  const ch = new MailChannel(m, { hostname: env.config.smtp.hostname, logger: silentLogger });
  const where = `${m.host}:${m.port}`;
  try {
    await ch.verify();
    return [pass('relay', `${where} accepts connections${m.secure ? ' over TLS' : m.requireTLS ? ' with STARTTLS' : ''}${m.user ? ` and authentication as ${m.user}` : ' (no authentication configured)'}`)];
  } catch (e) {
    const inner = (e as { code?: string }).code ?? '';
    const sys = /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ENETUNREACH/.exec((e as Error).message)?.[0];
    const code = sys === 'ENOTFOUND' ? 'EDNS' : sys ?? inner;
    return [fail('relay', `${where}: ${(e as Error).message.split('\n')[0]}`, relayHint(code, m.host, m.port))];
  } finally {
    await ch.stop().catch(() => {});
  }
}

// ---------------------------------------------------------------- all together

export async function runDoctor(opts: DoctorOptions = {}): Promise<DoctorReport> {
  const env = opts.env ?? process.env;
  const logger = opts.logger ?? silentLogger;
  const limit = opts.checkTimeoutMs ?? 60_000;
  const checks: CheckResult[] = [];
  const cfg = checkConfig(opts.configPath, env);
  checks.push(cfg.result);
  if (!cfg.loaded) {
    for (const n of ['data-dir', 'smtp-port', 'tts', 'relay', 'modem', 'sip']) checks.push(skip(n, 'skipped (config invalid)'));
    return { ok: false, configPath: null, checks };
  }
  const loaded = cfg.loaded;
  checks.push(checkConfigPermissions(loaded));
  const data = await checkDataDir(loaded.config);
  checks.push(...data.results);
  checks.push(...reachChecks(data.effective, data.people));
  const denv: DoctorEnv = { config: data.effective, configPath: loaded.path, daemon: data.daemon, logger };
  checks.push(checkAudioCache(denv.config));
  const guarded = async (name: string, fn: () => Promise<CheckResult[]>): Promise<CheckResult[]> => {
    try {
      return await withTimeout(fn(), limit, name);
    } catch (e) {
      return [fail(name, errText(e), 'this check did not finish; see the message')];
    }
  };
  checks.push(...(await guarded('smtp-port', async () => [await checkSmtpPort(denv.config, denv.daemon)])));
  checks.push(...(await guarded('tts', () => (opts.probes?.tts ?? checkTts)(denv))));
  checks.push(...(await guarded('relay', () => (opts.probes?.relay ?? checkRelay)(denv))));
  const c = denv.config.channels;
  if (c.gsm.enabled || c.sms.enabled) {
    const probe = opts.probes?.modem;
    checks.push(...(probe ? await guarded('modem', () => probe(denv)) : [fail('modem', 'no modem check available in this build', 'report this: the modem probe is not wired in')]));
  } else checks.push(skip('modem', 'skipped (disabled)'));
  if (c.voip.enabled) {
    const probe = opts.probes?.sip;
    checks.push(...(probe ? await guarded('sip', () => probe(denv)) : [fail('sip', 'no SIP check available in this build', 'report this: the SIP probe is not wired in')]));
  } else checks.push(skip('sip', 'skipped (disabled)'));
  if (c.xmpp.enabled) {
    const live = denv.daemon ? { pid: denv.daemon.pid, ...((denv.daemon.status.channels as Record<string, object | undefined>).xmpp ?? {}) } : null;
    checks.push(...(await guarded('xmpp', async () => {
      const r = await (await import('../channels/xmpp/doctor.js')).checkXmpp(c.xmpp, live);
      return [r.status === 'pass' ? pass('xmpp', r.detail) : fail('xmpp', r.detail, r.hint ?? '')];
    })));
  } else checks.push(skip('xmpp', 'skipped (disabled)'));
  return { ok: !checks.some((x) => x.status === 'fail'), configPath: loaded.path, checks };
}

const LABEL: Record<CheckStatus, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skip: 'SKIP' };

export function formatDoctorReport(r: DoctorReport): string {
  const width = Math.max(...r.checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of r.checks) {
    lines.push(`${LABEL[c.status]}  ${c.name.padEnd(width)}  ${c.detail}`);
    if (c.hint && (c.status === 'fail' || c.status === 'warn')) lines.push(`${' '.repeat(6 + width + 2)}hint: ${c.hint}`);
  }
  const failed = r.checks.filter((c) => c.status === 'fail').length;
  lines.push(failed ? `${failed} check${failed === 1 ? '' : 's'} failed` : 'all checks passed');
  return lines.join('\n');
}
