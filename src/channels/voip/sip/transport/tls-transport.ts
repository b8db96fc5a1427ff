/**
 * SIP over TLS (RFC 3261 §26, §18.3 framing): Alertline opens TLS connections to the registrar /
 * proxy (and to any other hop a dialog routes through), verifies the server certificate against
 * the configured CA (or Node's roots) and the server's name (SNI and identity check, RFC 5922),
 * and reuses each connection for every message to that destination. It does not listen: a
 * registrar reaches it over the connection it registered on (the flow of RFC 5626 §3), which is
 * why Via and Contact name that connection's local end (see `prepare`). A connection that drops
 * is forgotten; the next message opens a new one (the voip channel re-registers at once, so the
 * registrar learns the new flow).
 *
 * Each connection carries a double-CRLF keep-alive every 30 s (RFC 5626 §4.4.1; a registrar
 * closes connections idle longer than its lifetime, Kamailio's default is 120 s). Framing and
 * limits are the TCP transport's (StreamTransport). Keys, passphrases and certificate contents
 * are never logged.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import tls from 'node:tls';
import type net from 'node:net';
import type { Logger } from '../../../../util/log.js';
import { DEFAULT_TCP_LIMITS, StreamTransport, type TcpLimits } from './stream-transport.js';
import { endpointKey, type Endpoint } from './transport.js';

const CONNECT_TIMEOUT_MS = 10_000;
/** RFC 5626 §4.4.1 double-CRLF keep-alive on each connection we opened: registrars close idle ones. */
export const KEEPALIVE_MS = 30_000;
const PING = Buffer.from('\r\n\r\n');

/** TLS settings, with file contents already read. */
export interface TlsSettings {
  /** PEM CA certificate(s) the server certificate must chain to; none = Node's bundled roots. */
  ca?: Buffer;
  /** false accepts any certificate (lab setups only; logged as a warning at every connection). */
  rejectUnauthorized: boolean;
  /** Client certificate and key (PEM) for servers that ask for one (mutual TLS). */
  cert?: Buffer;
  key?: Buffer;
}

/** `voip.tls` as written in the configuration: file paths. */
export interface TlsFileSettings {
  ca?: string;
  rejectUnauthorized: boolean;
  cert?: string;
  key?: string;
}

/** Reads the files `voip.tls` names. An error names the key and the path, never the contents. */
export async function loadTlsSettings(files: TlsFileSettings): Promise<TlsSettings> {
  const read = async (key: string, path: string | undefined): Promise<Buffer | undefined> => {
    if (path === undefined || path === '') return undefined;
    try {
      return await readFile(path);
    } catch (e) {
      throw new Error(`voip.tls.${key}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  if (Boolean(files.cert) !== Boolean(files.key)) throw new Error('voip.tls: give both cert and key (a client certificate needs its key), or neither');
  const [ca, cert, key] = await Promise.all([read('ca', files.ca), read('cert', files.cert), read('key', files.key)]);
  return { rejectUnauthorized: files.rejectUnauthorized, ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** OpenSSL verification results and Node's identity check: the server's certificate was not accepted. */
function isCertificateError(code: string | undefined): boolean {
  return code !== undefined && /CERT|SIGNATURE|ISSUER|SELF_SIGNED|ALTNAME|UNABLE_TO_GET|CHAIN/.test(code);
}

export class TlsTransport extends StreamTransport {
  readonly protocol = 'TLS' as const;
  private lastLocal: Endpoint;

  private constructor(
    private readonly bindAddress: string,
    private readonly settings: TlsSettings,
    logger: Logger,
    limits: TcpLimits,
    private readonly keepAliveMs: number,
  ) {
    super(logger, limits);
    this.lastLocal = { address: bindAddress, port: 0 };
  }

  /**
   * A TLS transport whose connections leave from `address` (a wildcard lets the OS choose).
   * Nothing is bound until the first connection.
   */
  static async open(opts: { address: string; logger: Logger; tls: TlsSettings; limits?: Partial<TcpLimits>; keepAliveMs?: number }): Promise<TlsTransport> {
    if (!opts.tls.rejectUnauthorized) {
      opts.logger.warn('sip.tls.verification_off', { hint: 'voip.tls.rejectUnauthorized is false: any server certificate is accepted' });
    }
    return new TlsTransport(opts.address, opts.tls, opts.logger, { ...DEFAULT_TCP_LIMITS, ...opts.limits }, opts.keepAliveMs ?? KEEPALIVE_MS);
  }

  /** The local end of the most recent connection (port 0 before the first one). */
  get local(): Endpoint {
    return this.lastLocal;
  }

  async prepare(dest: Endpoint): Promise<{ local: Endpoint; fresh: boolean }> {
    if (this.closed) throw new Error('transport closed');
    const key = endpointKey(dest);
    let fresh = !this.conns.has(key);
    let sock = await this.connection(dest);
    if (sock.destroyed) {
      this.conns.delete(key);
      fresh = true;
      sock = await this.connection(dest);
    }
    return { local: { address: sock.localAddress ?? this.bindAddress, port: sock.localPort ?? 0 }, fresh };
  }

  protected dial(dest: Endpoint): Promise<net.Socket> {
    const key = endpointKey(dest);
    const name = dest.host && dest.host !== '' ? dest.host : dest.address;
    const where = name === dest.address ? key : `${name} (${key})`;
    const wildcard = this.bindAddress === '0.0.0.0' || this.bindAddress === '::' || this.bindAddress === '';
    return new Promise<net.Socket>((resolve, reject) => {
      const sock = tls.connect({
        host: dest.address,
        port: dest.port,
        // SNI carries a name, never an address (RFC 6066 §3); the identity check uses it too.
        ...(isIP(name) ? {} : { servername: name }),
        checkServerIdentity: (_host, cert) => tls.checkServerIdentity(name, cert),
        ...(wildcard ? {} : { localAddress: this.bindAddress }),
        rejectUnauthorized: this.settings.rejectUnauthorized,
        minVersion: 'TLSv1.2',
        ...(this.settings.ca ? { ca: this.settings.ca } : {}),
        ...(this.settings.cert && this.settings.key ? { cert: this.settings.cert, key: this.settings.key } : {}),
      });
      const timer = setTimeout(() => sock.destroy(new Error('timed out')), CONNECT_TIMEOUT_MS);
      sock.once('secureConnect', () => {
        clearTimeout(timer);
        sock.off('error', failed);
        if (!sock.authorized) {
          this.logger.warn('sip.tls.unverified', { peer: where, reason: String(sock.authorizationError ?? 'unknown') });
        }
        this.lastLocal = { address: sock.localAddress ?? this.bindAddress, port: sock.localPort ?? 0 };
        if (this.keepAliveMs > 0) {
          const ping = setInterval(() => {
            if (!sock.destroyed && sock.writable) sock.write(PING);
          }, this.keepAliveMs);
          ping.unref();
          sock.once('close', () => clearInterval(ping));
        }
        this.logger.info('sip.tls.connected', {
          peer: where,
          local: endpointKey(this.lastLocal),
          protocol: sock.getProtocol() ?? '',
          cipher: sock.getCipher()?.name ?? '',
          verified: sock.authorized,
        });
        resolve(sock);
      });
      const failed = (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const error = isCertificateError(err.code)
          ? new Error(`TLS to ${where}: server certificate not accepted: ${err.message} (${err.code})`)
          : new Error(`TLS to ${where}: ${err.message}${err.code && !err.message.includes(err.code) ? ` (${err.code})` : ''}`);
        this.logger.warn('sip.tls.connect_failed', { peer: where, error: error.message });
        reject(error);
      };
      sock.once('error', failed);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.closeConnections();
  }
}
