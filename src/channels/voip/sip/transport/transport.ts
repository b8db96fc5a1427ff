/**
 * The transport layer contract (RFC 3261 §18). UDP, TCP and TLS (§26) implement it; the layers
 * above do not know which one they use.
 */
import type { SipMessage } from '../syntax/message.js';

export interface Endpoint {
  address: string;
  port: number;
  /** The name this address was resolved from (a URI's host, the configured server): TLS verifies it. */
  host?: string;
}

export type TransportProtocol = 'UDP' | 'TCP' | 'TLS';

export type MessageHandler = (msg: SipMessage, source: Endpoint) => void;

export interface SipTransport {
  readonly protocol: TransportProtocol;
  /** Reliable transports don't need retransmissions (timers A/E are not started). */
  readonly reliable: boolean;
  /** Address and port we listen on (what goes in Via sent-by and Contact unless learned). */
  readonly local: Endpoint;
  /**
   * Stream transports without a listening port (TLS as a client): opens, or reuses, the connection
   * to `dest` before a request is built, so that Via and Contact can name the connection's local
   * end. `fresh` is true when a new connection was opened. Rejects when it cannot be opened (the
   * error says why: refused, certificate not trusted).
   */
  prepare?(dest: Endpoint): Promise<{ local: Endpoint; fresh: boolean }>;
  /** Sends one serialized message; rejects on a transport error (ICMP unreachable, refused). */
  send(data: Buffer, dest: Endpoint): Promise<void>;
  /** Installs the single receiver of parsed messages. */
  onMessage(handler: MessageHandler): void;
  close(): Promise<void>;
}

export function endpointKey(e: Endpoint): string {
  return `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}`;
}
