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
  return { address: await resolver(host), port: u.port ?? (u.scheme === 'sips' ? 5061 : 5060) };
}

/** "pbx.example.com:5060", "192.0.2.1", "[2001:db8::1]:5070" */
export async function resolveServer(server: string, resolver: Resolver = dnsResolver): Promise<Endpoint> {
  const hp = parseHostPort(server.trim());
  return { address: await resolver(bareHost(hp.host)), port: hp.port ?? 5060 };
}
