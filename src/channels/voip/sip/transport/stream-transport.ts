/**
 * What SIP over TCP and SIP over TLS share (RFC 3261 §18.3, §26): messages framed by
 * Content-Length on a byte stream, one connection per destination reused for every message to
 * it, a connection dropped by the peer or the network forgotten so the next message opens a new
 * one. The subclasses say how a connection is opened (plain TCP, or a TLS handshake with
 * certificate verification) and whether others may connect to us.
 */
import type net from 'node:net';
import type { Logger } from '../../../../util/log.js';
import { parseMessage } from '../syntax/parse.js';
import { StreamFramer } from '../syntax/stream-framer.js';
import { endpointKey, type Endpoint, type MessageHandler, type SipTransport, type TransportProtocol } from './transport.js';

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

export abstract class StreamTransport implements SipTransport {
  abstract readonly protocol: Exclude<TransportProtocol, 'UDP'>;
  readonly reliable = true;
  abstract readonly local: Endpoint;
  private handler: MessageHandler = () => {};
  protected readonly conns = new Map<string, Promise<net.Socket>>();
  protected closed = false;
  private readonly closeListeners = new Set<(remote: Endpoint, error: Error) => void>();

  protected constructor(
    protected readonly logger: Logger,
    protected readonly limits: TcpLimits,
  ) {}

  /** `tcp` or `tls`: the middle word of this transport's log events. */
  protected get tag(): string {
    return this.protocol.toLowerCase();
  }

  /** Opens a connection to `dest`; resolves once messages can be written (connected, handshake done). */
  protected abstract dial(dest: Endpoint): Promise<net.Socket>;

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  /**
   * Told whenever a connection ends (the peer closed it, the network failed, we closed it), with
   * an error saying which connection and why: requests waiting for an answer over it will get none.
   */
  onConnectionClosed(fn: (remote: Endpoint, error: Error) => void): () => void {
    this.closeListeners.add(fn);
    return () => this.closeListeners.delete(fn);
  }

  /** Reads framed messages from a connection; `onMessage` is told of each complete one. */
  protected adopt(sock: net.Socket, remote: Endpoint, onMessage: () => void = () => {}): void {
    const key = endpointKey(remote);
    this.conns.set(key, Promise.resolve(sock));
    const framer = new StreamFramer(this.limits.maxBodyBytes);
    sock.setKeepAlive(true, 30_000);
    sock.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = framer.push(chunk);
      } catch (e) {
        this.logger.warn(`sip.${this.tag}.bad_stream`, { peer: key, error: (e as Error).message });
        sock.destroy();
        return;
      }
      if (frames.length > 0) onMessage();
      for (const f of frames) {
        let msg;
        try {
          msg = parseMessage(f, { stream: true });
        } catch (e) {
          this.logger.warn(`sip.${this.tag}.bad_message`, { peer: key, error: (e as Error).message });
          continue;
        }
        try {
          this.handler(msg, remote);
        } catch (e) {
          this.logger.error('sip.handler_failed', { error: (e as Error).message });
        }
      }
    });
    let lastError: NodeJS.ErrnoException | undefined;
    sock.on('close', () => {
      void this.conns.get(key)?.then((s) => {
        if (s === sock) this.conns.delete(key);
      });
      const where = remote.host && remote.host !== remote.address ? `${remote.host} (${key})` : key;
      const why = lastError ? `${lastError.message}${lastError.code && !lastError.message.includes(lastError.code) ? ` (${lastError.code})` : ''}` : 'closed by the peer';
      const error = new Error(`${this.protocol} connection to ${where} lost: ${why}`);
      for (const fn of this.closeListeners) fn(remote, error);
    });
    sock.on('error', (err) => {
      lastError = err;
      this.logger.debug(`sip.${this.tag}.error`, { peer: key, error: err.message });
    });
  }

  /** The connection to `dest`: the one open now, or a new one. */
  protected connection(dest: Endpoint): Promise<net.Socket> {
    const key = endpointKey(dest);
    const existing = this.conns.get(key);
    if (existing) return existing;
    const p = this.dial(dest);
    this.conns.set(key, p);
    p.then(
      (sock) => this.adopt(sock, dest),
      () => {
        if (this.conns.get(key) === p) this.conns.delete(key);
      },
    );
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

  /** Destroys every connection this transport holds. */
  protected async closeConnections(): Promise<void> {
    const socks = await Promise.allSettled([...this.conns.values()]);
    for (const s of socks) if (s.status === 'fulfilled') s.value.destroy();
    this.conns.clear();
  }

  abstract close(): Promise<void>;
}
