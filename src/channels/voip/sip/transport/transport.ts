/**
 * The transport layer contract (RFC 3261 §18). UDP and TCP implement it today; TLS can be added
 * as another implementation without touching the layers above.
 */
import type { SipMessage } from '../syntax/message.js';

export interface Endpoint {
  address: string;
  port: number;
}

export type TransportProtocol = 'UDP' | 'TCP' | 'TLS';

export type MessageHandler = (msg: SipMessage, source: Endpoint) => void;

export interface SipTransport {
  readonly protocol: TransportProtocol;
  /** Reliable transports don't need retransmissions (timers A/E are not started). */
  readonly reliable: boolean;
  /** Address and port we listen on (what goes in Via sent-by and Contact unless learned). */
  readonly local: Endpoint;
  /** Sends one serialized message; rejects on a transport error (ICMP unreachable, refused). */
  send(data: Buffer, dest: Endpoint): Promise<void>;
  /** Installs the single receiver of parsed messages. */
  onMessage(handler: MessageHandler): void;
  close(): Promise<void>;
}

export function endpointKey(e: Endpoint): string {
  return `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}`;
}
