/**
 * Where a response goes (RFC 3261 §18.2.2 with RFC 3581 rport): to the source of the request
 * when the top Via carries rport, else to `received` (or sent-by host) at the sent-by port.
 * On a stream transport the response goes back over the connection the request came on, which
 * the transport finds by the source endpoint.
 */
import type { Via } from '../syntax/via.js';
import { bareHost } from '../syntax/uri.js';
import type { Endpoint } from './transport.js';

export function responseDestination(topVia: Via, source: Endpoint, reliable: boolean): Endpoint {
  if (reliable) return source;
  const received = topVia.params.get('received') ?? undefined;
  const rport = topVia.params.get('rport');
  if (rport !== undefined) {
    return { address: received ?? source.address, port: rport ? Number(rport) : source.port };
  }
  // §18.2.1: the server adds `received` whenever sent-by differs from the packet source, so the
  // address is always the source; the port is the sent-by port.
  return { address: received ?? source.address, port: topVia.port ?? (topVia.transport === 'TLS' ? 5061 : 5060) };
}

/**
 * Server side of §18.2.1 / RFC 3581: stamps `received` when the sent-by host differs from the
 * packet's source, and fills an empty `rport` with the source port.
 */
export function stampReceived(topVia: Via, source: Endpoint): Via {
  const params = new Map(topVia.params);
  if (bareHost(topVia.host) !== source.address) params.set('received', source.address);
  if (params.has('rport')) {
    params.set('rport', String(source.port));
    params.set('received', source.address);
  }
  return { ...topVia, params };
}
