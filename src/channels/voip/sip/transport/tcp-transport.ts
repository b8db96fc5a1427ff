/**
 * SIP over TCP (RFC 3261 §18.3): messages framed by Content-Length. Outgoing connections are
 * reused per destination; connections the peer opens to our listening port are kept so that
 * responses and in-dialog requests can travel back over them.
 */
import net from 'node:net';
import type { Logger } from '../../../../util/log.js';
import { parseMessage } from '../syntax/parse.js';
import { StreamFramer } from '../syntax/stream-framer.js';
import { endpointKey, type Endpoint, type MessageHandler, type SipTransport } from './transport.js';

const MAX_CONNECTIONS = 64;
const CONNECT_TIMEOUT_MS = 10_000;

export class TcpTransport implements SipTransport {
  readonly protocol = 'TCP' as const;
  readonly reliable = true;
  private handler: MessageHandler = () => {};
  private readonly conns = new Map<string, Promise<net.Socket>>();
  private closed = false;

  private constructor(
    private readonly server: net.Server,
    readonly local: Endpoint,
    private readonly logger: Logger,
  ) {
    server.on('connection', (sock) => {
      if (this.closed || this.conns.size >= MAX_CONNECTIONS) {
        sock.destroy();
        return;
      }
      this.adopt(sock, { address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 });
    });
  }

  static async open(opts: { address: string; port: number; logger: Logger }): Promise<TcpTransport> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address() as net.AddressInfo;
    return new TcpTransport(server, { address: a.address, port: a.port }, opts.logger);
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  private adopt(sock: net.Socket, remote: Endpoint): void {
    const key = endpointKey(remote);
    this.conns.set(key, Promise.resolve(sock));
    const framer = new StreamFramer();
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
    this.conns.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
