/** Turns a SIP URI (or a configured "host:port") into a socket endpoint. A records only, no SRV. */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isSipUri, parseHostPort, parseUri, bareHost } from '../syntax/uri.js';
import type { Endpoint } from '../transport/transport.js';

export type Resolver = (host: string) => Promise<string>;

export const dnsResolver: Resolver = async (host) => {
  if (isIP(host)) return host;
  const r = await lookup(host);
  return r.address;
};

export async function resolveUri(uri: string, resolver: Resolver = dnsResolver): Promise<Endpoint> {
  const u = parseUri(uri);
  if (!isSipUri(u)) throw new Error(`cannot route to a ${u.scheme}: URI`);
  const maddr = u.params.get('maddr');
  const host = maddr ? maddr : bareHost(u.host);
  // §26.2 / §19.1.2: sips: and transport=tls default to 5061.
  const secure = u.scheme === 'sips' || u.params.get('transport')?.toLowerCase() === 'tls';
  return { address: await resolver(host), port: u.port ?? (secure ? 5061 : 5060), host };
}

/** "pbx.example.com:5060", "192.0.2.1", "[2001:db8::1]:5070"; without a port, `defaultPort` (5061 for TLS). */
export async function resolveServer(server: string, resolver: Resolver = dnsResolver, defaultPort = 5060): Promise<Endpoint> {
  const hp = parseHostPort(server.trim());
  const host = bareHost(hp.host);
  return { address: await resolver(host), port: hp.port ?? defaultPort, host };
}
