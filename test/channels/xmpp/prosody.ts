/**
 * A real Prosody for the xmpp tests: a temp config on loopback, a free c2s port, a test CA and a
 * server certificate for the test domain (openssl), accounts with plain passwords registered
 * with prosodyctl, the server in the foreground (`prosody -F`) as a child process.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../../helpers/env.js';
import { freePort } from '../../helpers/cli.js';

export const DOMAIN = 'alerts.test';

export interface ProsodyOptions {
  accounts: Record<string, string>;
  /** false: a server without certificate or STARTTLS that allows PLAIN in clear (for the refusal test). */
  tls?: boolean;
  /** Load mod_smacks (XEP-0198 stream management: the server acknowledges stanzas). */
  smacks?: boolean;
  /** false: no mod_offline (the server keeps nothing for offline users and says so). */
  offline?: boolean;
}

export { freePort };

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

/** A CA and a server certificate for DOMAIN signed by it; a second, unrelated CA. */
export function makeCerts(dir: string): { ca: string; otherCa: string; key: string; cert: string } {
  mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Alertline Test CA'], dir);
  openssl(['req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other-ca.pem', '-days', '2', '-subj', '/CN=Some Other CA'], dir);
  openssl(['req', ...ec, '-keyout', `${DOMAIN}.key`, '-out', 'server.csr', '-subj', `/CN=${DOMAIN}`], dir);
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=DNS:${DOMAIN}\n`);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${DOMAIN}.crt`, '-days', '2', '-extfile', 'ext.cnf'], dir);
  return { ca: join(dir, 'ca.pem'), otherCa: join(dir, 'other-ca.pem'), key: join(dir, `${DOMAIN}.key`), cert: join(dir, `${DOMAIN}.crt`) };
}

export class Prosody {
  private proc: ChildProcess | null = null;
  private log = '';
  private constructor(readonly dir: string, readonly port: number, readonly configPath: string, readonly certs: ReturnType<typeof makeCerts> | null, private readonly cleanupDir: () => void) {}

  static async create(o: ProsodyOptions): Promise<Prosody> {
    const { dir, cleanup } = tempDir('alertline-prosody-');
    const tls = o.tls !== false;
    const certs = tls ? makeCerts(join(dir, 'certs')) : null;
    const port = await freePort();
    const lua = (s: string) => JSON.stringify(s);
    const cfg = [
      `pidfile = ${lua(join(dir, 'prosody.pid'))}`,
      `data_path = ${lua(join(dir, 'data'))}`,
      'run_as_root = true',
      'log = { { levels = { min = "info" }, to = "console" } }',
      'interfaces = { "127.0.0.1" }',
      `c2s_ports = { ${port} }`,
      'c2s_direct_tls_ports = { }', 'legacy_ssl_ports = { }', 's2s_ports = { }', 'http_ports = { }', 'https_ports = { }',
      `c2s_require_encryption = ${tls}`,
      `allow_unencrypted_plain_auth = ${!tls}`,
      'authentication = "internal_plain"',
      `modules_enabled = { "roster"; "saslauth"; ${tls ? '"tls"; ' : ''}"disco"; "ping"; ${o.offline === false ? '' : '"offline"; '}"posix"${o.smacks ? '; "smacks"' : ''} }`,
      `modules_disabled = { "s2s"${o.offline === false ? '; "offline"' : ''} }`,
      `certificates = ${lua(certs ? join(dir, 'certs') : join(dir, 'no-certs'))}`,
      `VirtualHost ${lua(DOMAIN)}`,
      certs ? `  ssl = { key = ${lua(certs.key)}; certificate = ${lua(certs.cert)} }` : '',
      '',
    ].join('\n');
    mkdirSync(join(dir, 'data'), { recursive: true });
    const configPath = join(dir, 'prosody.cfg.lua');
    writeFileSync(configPath, cfg);
    for (const [user, pass] of Object.entries(o.accounts)) {
      execFileSync('prosodyctl', ['--config', configPath, 'register', user, DOMAIN, pass], { stdio: 'pipe' });
    }
    const p = new Prosody(dir, port, configPath, certs, cleanup);
    await p.start();
    return p;
  }

  /** Starts the server (again) and waits until its c2s port accepts connections. */
  async start(): Promise<void> {
    const proc = spawn('prosody', ['--config', this.configPath, '-F'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const add = (d: Buffer) => { this.log = (this.log + d.toString()).slice(-20_000); };
    proc.stdout!.on('data', add);
    proc.stderr!.on('data', add);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`prosody exited ${proc.exitCode}:\n${this.log}`);
      if (await accepts(this.port)) return;
      if (Date.now() > deadline) throw new Error(`prosody did not listen on ${this.port}:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM (a clean shutdown: Prosody closes every stream) and wait for the exit. */
  async kill(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => { clearTimeout(t); resolve(); });
      proc.kill('SIGTERM');
    });
  }

  get output(): string {
    return this.log;
  }

  /** Messages Prosody holds in offline storage for a user (its internal storage files). */
  offlineStore(user: string): string {
    try {
      return readFileSync(join(this.dir, 'data', DOMAIN.replace(/\./g, '%2e'), 'offline', `${user}.list`), 'utf8');
    } catch {
      return '';
    }
  }

  async close(): Promise<void> {
    await this.kill();
    this.cleanupDir();
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
