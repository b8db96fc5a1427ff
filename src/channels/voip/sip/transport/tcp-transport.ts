/**
 * SIP over TCP (RFC 3261 §18.3): messages framed by Content-Length. Outgoing connections are
 * reused per destination; connections the peer opens to our listening port are kept so that
 * responses and in-dialog requests can travel back over them.
 *
 * The listening port is open to anyone on the network (issue 19), so connections others open
 * are limited: a few per client address, a global cap that never counts the connections we open
 * ourselves (to the PBX), a short deadline for the first complete message and an idle timeout
 * after the last one. A stranger can fill neither the table nor the time.
 */
import net from 'node:net';
import type { Logger } from '../../../../util/log.js';
import { safeTimeout } from '../../../../util/timers.js';
import { parseMessage } from '../syntax/parse.js';
import { StreamFramer } from '../syntax/stream-framer.js';
import { endpointKey, type Endpoint, type MessageHandler, type SipTransport } from './transport.js';

const CONNECT_TIMEOUT_MS = 10_000;

export interface TcpLimits {
  /** Connections others open to us, held at once. */
  maxInbound: number;
  /** Of those, from one client address. */
  maxPerAddress: number;
  /** An inbound connection must have delivered a complete message within this time. */
  firstMessageMs: number;
  /** An inbound connection with no complete message for this long is closed. */
  idleMs: number;
  /** Largest body accepted on any connection (what a UDP datagram could carry; SDP is far smaller). */
  maxBodyBytes: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = { maxInbound: 128, maxPerAddress: 8, firstMessageMs: 5_000, idleMs: 60_000, maxBodyBytes: 65_535 };

export class TcpTransport implements SipTransport {
  readonly protocol = 'TCP' as const;
  readonly reliable = true;
  private handler: MessageHandler = () => {};
  private readonly conns = new Map<string, Promise<net.Socket>>();
  private readonly inbound = new Set<net.Socket>();
  private readonly perAddress = new Map<string, number>();
  private closed = false;

  private constructor(
    private readonly server: net.Server,
    readonly local: Endpoint,
    private readonly logger: Logger,
    private readonly limits: TcpLimits,
  ) {
    server.on('connection', (sock) => this.accept(sock));
  }

  static async open(opts: { address: string; port: number; logger: Logger; limits?: Partial<TcpLimits> }): Promise<TcpTransport> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address() as net.AddressInfo;
    return new TcpTransport(server, { address: a.address, port: a.port }, opts.logger, { ...DEFAULT_TCP_LIMITS, ...opts.limits });
  }

  /** Connections others opened to us, now (status and tests). */
  get inboundCount(): number {
    return this.inbound.size;
  }

  private accept(sock: net.Socket): void {
    const address = sock.remoteAddress ?? '';
    const fromThere = this.perAddress.get(address) ?? 0;
    if (this.closed || this.inbound.size >= this.limits.maxInbound || fromThere >= this.limits.maxPerAddress) {
      this.logger.debug('sip.tcp.refused', { peer: address, inbound: this.inbound.size, fromAddress: fromThere });
      sock.destroy();
      return;
    }
    this.inbound.add(sock);
    this.perAddress.set(address, fromThere + 1);
    let timer = safeTimeout(() => expire('no complete message'), this.limits.firstMessageMs);
    const expire = (why: string) => {
      this.logger.debug('sip.tcp.timeout', { peer: address, why });
      sock.destroy();
    };
    const release = () => {
      clearTimeout(timer);
      if (!this.inbound.delete(sock)) return;
      const n = (this.perAddress.get(address) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, n);
    };
    sock.on('close', release);
    this.adopt(sock, { address, port: sock.remotePort ?? 0 }, () => {
      clearTimeout(timer);
      timer = safeTimeout(() => expire('idle'), this.limits.idleMs);
    });
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  /** Reads framed messages from a connection; `onMessage` is told of each complete one. */
  private adopt(sock: net.Socket, remote: Endpoint, onMessage: () => void = () => {}): void {
    const key = endpointKey(remote);
    this.conns.set(key, Promise.resolve(sock));
    const framer = new StreamFramer(this.limits.maxBodyBytes);
    sock.setKeepAlive(true, 30_000);
    sock.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = framer.push(chunk);
      } catch (e) {
        this.logger.warn('sip.tcp.bad_stream', { peer: key, error: (e as Error).message });
        sock.destroy();
        return;
      }
      if (frames.length > 0) onMessage();
      for (const f of frames) {
        let msg;
        try {
          msg = parseMessage(f, { stream: true });
        } catch (e) {
          this.logger.warn('sip.tcp.bad_message', { peer: key, error: (e as Error).message });
          continue;
        }
        try {
          this.handler(msg, remote);
        } catch (e) {
          this.logger.error('sip.handler_failed', { error: (e as Error).message });
        }
      }
    });
    const forget = () => {
      void this.conns.get(key)?.then((s) => {
        if (s === sock) this.conns.delete(key);
      });
    };
    sock.on('close', forget);
    sock.on('error', (err) => {
      this.logger.debug('sip.tcp.error', { peer: key, error: err.message });
    });
  }

  private connection(dest: Endpoint): Promise<net.Socket> {
    const key = endpointKey(dest);
    const existing = this.conns.get(key);
    if (existing) return existing;
    const p = new Promise<net.Socket>((resolve, reject) => {
      const sock = net.connect({ host: dest.address, port: dest.port, localAddress: this.local.address });
      const timer = setTimeout(() => sock.destroy(new Error(`TCP connect to ${key} timed out`)), CONNECT_TIMEOUT_MS);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(sock);
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        this.conns.delete(key);
        reject(err);
      });
    });
    this.conns.set(key, p);
    p.then((sock) => this.adopt(sock, dest)).catch(() => {});
    return p;
  }

  async send(data: Buffer, dest: Endpoint): Promise<void> {
    if (this.closed) throw new Error('transport closed');
    const sock = await this.connection(dest);
    if (sock.destroyed) {
      this.conns.delete(endpointKey(dest));
      return this.send(data, dest);
    }
    await new Promise<void>((resolve, reject) => sock.write(data, (err) => (err ? reject(err) : resolve())));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const socks = await Promise.allSettled([...this.conns.values()]);
    for (const s of socks) if (s.status === 'fulfilled') s.value.destroy();
    for (const s of this.inbound) s.destroy();
    this.conns.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
