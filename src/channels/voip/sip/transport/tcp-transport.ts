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
import { DEFAULT_TCP_LIMITS, StreamTransport, type TcpLimits } from './stream-transport.js';
import { endpointKey, type Endpoint } from './transport.js';

export { DEFAULT_TCP_LIMITS, type TcpLimits } from './stream-transport.js';

const CONNECT_TIMEOUT_MS = 10_000;

export class TcpTransport extends StreamTransport {
  readonly protocol = 'TCP' as const;
  private readonly inbound = new Set<net.Socket>();
  private readonly perAddress = new Map<string, number>();

  private constructor(
    private readonly server: net.Server,
    readonly local: Endpoint,
    logger: Logger,
    limits: TcpLimits,
  ) {
    super(logger, limits);
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

  protected dial(dest: Endpoint): Promise<net.Socket> {
    const key = endpointKey(dest);
    return new Promise<net.Socket>((resolve, reject) => {
      const sock = net.connect({ host: dest.address, port: dest.port, localAddress: this.local.address });
      const timer = setTimeout(() => sock.destroy(new Error(`TCP connect to ${key} timed out`)), CONNECT_TIMEOUT_MS);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(sock);
      });
      sock.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.closeConnections();
    for (const s of this.inbound) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
