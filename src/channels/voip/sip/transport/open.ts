/** Opens the SIP transport `voip.transport` names (udp, tcp, or tls with `voip.tls`). */
import type { VoipConfig } from '../../../../config/schema.js';
import type { Logger } from '../../../../util/log.js';
import { TcpTransport } from './tcp-transport.js';
import { loadTlsSettings, TlsTransport } from './tls-transport.js';
import type { SipTransport } from './transport.js';
import { UdpTransport } from './udp-transport.js';

export async function openSipTransport(
  cfg: Pick<VoipConfig, 'transport' | 'tls'>,
  open: { address: string; port: number; logger: Logger; keepAliveMs?: number },
): Promise<SipTransport> {
  switch (cfg.transport) {
    case 'tls':
      return TlsTransport.open({ address: open.address, logger: open.logger, tls: await loadTlsSettings(cfg.tls), ...(open.keepAliveMs !== undefined ? { keepAliveMs: open.keepAliveMs } : {}) });
    case 'tcp':
      return TcpTransport.open(open);
    default:
      return UdpTransport.open(open);
  }
}

/** Port of a server written without one: 5061 for SIP over TLS (RFC 3261 §26.2), else 5060. */
export function defaultServerPort(transport: string): number {
  return transport === 'tls' ? 5061 : 5060;
}
