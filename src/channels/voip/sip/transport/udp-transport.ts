/** SIP over UDP (RFC 3261 §18): one bound socket; each datagram is one message. */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from '../../../../util/log.js';
import { parseMessage } from '../syntax/parse.js';
import type { Endpoint, MessageHandler, SipTransport } from './transport.js';

const BAD_LOG_BURST = 20;
const BAD_LOG_WINDOW_MS = 60_000;

export class UdpTransport implements SipTransport {
  readonly protocol = 'UDP' as const;
  readonly reliable = false;
  private handler: MessageHandler = () => {};
  private closed = false;
  /** Bad-datagram log lines: at most BAD_LOG_BURST per BAD_LOG_WINDOW_MS, then one summary. */
  private badWindowStart = 0;
  private badInWindow = 0;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly local: Endpoint,
    private readonly logger: Logger,
  ) {
    socket.on('message', (data, rinfo) => this.receive(data, { address: rinfo.address, port: rinfo.port }));
    socket.on('error', (err) => logger.warn('sip.udp.error', { error: err.message }));
  }

  /** Binds to address:port (port 0 = any free port). */
  static async open(opts: { address: string; port: number; logger: Logger }): Promise<UdpTransport> {
    const socket = dgram.createSocket({ type: isIP(opts.address) === 6 ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.port, opts.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const a = socket.address();
    return new UdpTransport(socket, { address: a.address, port: a.port }, opts.logger);
  }

  onMessage(handler: MessageHandler): void {
    this.handler = handler;
  }

  private receive(data: Buffer, source: Endpoint): void {
    if (data.length <= 4 && /^[\r\n]*$/.test(data.toString('latin1'))) return; // keep-alive
    let msg;
    try {
      msg = parseMessage(data);
    } catch (e) {
      this.logBad(source, (e as Error).message);
      return;
    }
    try {
      this.handler(msg, source);
    } catch (e) {
      this.logger.error('sip.handler_failed', { error: (e as Error).message });
    }
  }

  /** A stranger can send bad datagrams at line rate; the log gets a sample of them, not all. */
  private logBad(source: Endpoint, error: string): void {
    const now = Date.now();
    if (now - this.badWindowStart >= BAD_LOG_WINDOW_MS) {
      const suppressed = this.badInWindow - BAD_LOG_BURST;
      if (suppressed > 0) this.logger.warn('sip.udp.bad_messages_suppressed', { count: suppressed, windowMs: BAD_LOG_WINDOW_MS });
      this.badWindowStart = now;
      this.badInWindow = 0;
    }
    if (++this.badInWindow <= BAD_LOG_BURST) this.logger.warn('sip.udp.bad_message', { from: `${source.address}:${source.port}`, error });
  }

  send(data: Buffer, dest: Endpoint): Promise<void> {
    if (this.closed) return Promise.reject(new Error('transport closed'));
    return new Promise((resolve, reject) => {
      this.socket.send(data, dest.port, dest.address, (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
