/**
 * Where a response goes (RFC 3261 §18.2.2 with RFC 3581 rport). The address is always the one
 * the request's packet came from, which §18.2.1 has the server record as `received`; a
 * `received`, `rport` value or `maddr` the sender wrote in its own Via is never used, or anyone
 * could have us send (and retransmit) responses to a third party. With `rport` the port is the
 * packet's source port, without it the sent-by port. On a stream transport the response goes
 * back over the connection the request came on, which the transport finds by the source endpoint.
 */
import type { Via } from '../syntax/via.js';
import { bareHost } from '../syntax/uri.js';
import type { Endpoint } from './transport.js';

export function responseDestination(topVia: Via, source: Endpoint, reliable: boolean): Endpoint {
  if (reliable || topVia.params.has('rport')) return { address: source.address, port: source.port };
  return { address: source.address, port: topVia.port ?? (topVia.transport === 'TLS' ? 5061 : 5060) };
}

/**
 * Server side of §18.2.1 / RFC 3581: stamps `received` when the sent-by host differs from the
 * packet's source (replacing any value the sender wrote), and fills `rport` with the source port.
 */
export function stampReceived(topVia: Via, source: Endpoint): Via {
  const params = new Map(topVia.params);
  params.delete('received');
  if (bareHost(topVia.host) !== source.address) params.set('received', source.address);
  if (params.has('rport')) {
    params.set('rport', String(source.port));
    params.set('received', source.address);
  }
  return { ...topVia, params };
}
