/**
 * smtp.allowFrom: IPv4 and IPv6 CIDR lists (node's BlockList), with IPv4-mapped IPv6 addresses
 * understood; and the key that per-client limits count by (an IPv4 address, or an IPv6 /64, the
 * block one host or one customer usually holds). No regular expressions: plain scans, linear.
 */
import { BlockList, isIP } from 'node:net';

/** Longest address text looked at (an IPv6 address with a zone id fits easily). */
const MAX_ADDRESS = 100;

export class ClientNetworks {
  private readonly list = new BlockList();
  private readonly empty: boolean;

  constructor(cidrs: string[]) {
    for (const c of cidrs) {
      const text = c.trim();
      const slash = text.indexOf('/');
      const addr = slash < 0 ? text : text.slice(0, slash);
      const bitsText = slash < 0 ? undefined : text.slice(slash + 1);
      const type = isIP(addr);
      if (!type) throw new Error(`smtp.allowFrom: invalid address ${JSON.stringify(c)}`);
      const family = type === 4 ? 'ipv4' : 'ipv6';
      const max = type === 4 ? 32 : 128;
      const bits = bitsText === undefined ? max : Number(bitsText);
      if (bitsText !== undefined && (bitsText.length === 0 || bitsText.length > 3 || !isDigits(bitsText))) {
        throw new Error(`smtp.allowFrom: invalid prefix length in ${JSON.stringify(c)}`);
      }
      if (!Number.isInteger(bits) || bits < 0 || bits > max) throw new Error(`smtp.allowFrom: invalid prefix length in ${JSON.stringify(c)}`);
      this.list.addSubnet(addr, bits, family);
    }
    this.empty = cidrs.length === 0;
  }

  allows(address: string | undefined): boolean {
    if (!address || this.empty) return false;
    const a = normalizeAddress(address);
    const type = a ? isIP(a) : 0;
    if (!type) return false;
    return this.list.check(a!, type === 4 ? 'ipv4' : 'ipv6');
  }
}

/**
 * The address without brackets or zone id, IPv4-mapped IPv6 as plain IPv4; null if it is not an
 * IP address at all.
 */
export function normalizeAddress(address: string): string | null {
  if (address.length > MAX_ADDRESS) return null;
  let a = address;
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (a.length > 7 && a.slice(0, 7).toLowerCase() === '::ffff:' && isIP(a.slice(7)) === 4) a = a.slice(7);
  return isIP(a) ? a : null;
}

/**
 * What per-client limits count by: the IPv4 address itself, or the /64 an IPv6 address is in
 * (one host can use any address of its /64, so counting single addresses would be no limit).
 */
export function clientKey(address: string | undefined): string {
  const a = address ? normalizeAddress(address) : null;
  if (!a) return `?${(address ?? '').slice(0, MAX_ADDRESS)}`;
  if (isIP(a) === 4) return a;
  const groups = expandIPv6(a);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : a;
}

/** The eight 16-bit groups of a valid IPv6 address, as lower-case hex without leading zeros. */
function expandIPv6(a: string): string[] | null {
  let tail: string[] = [];
  // An embedded IPv4 tail (::1.2.3.4) becomes two groups.
  const lastColon = a.lastIndexOf(':');
  let head = a;
  if (a.indexOf('.', lastColon) >= 0) {
    const v4 = a.slice(lastColon + 1).split('.').map(Number);
    tail = [((v4[0]! << 8) | v4[1]!).toString(16), ((v4[2]! << 8) | v4[3]!).toString(16)];
    // Keep a '::' that ends right before the IPv4 part; drop a single separating ':'.
    head = a.slice(0, a.endsWith('::', lastColon + 1) ? lastColon + 1 : lastColon);
  }
  const gap = head.indexOf('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':'));
  let groups: string[];
  if (gap >= 0) {
    const left = parse(head.slice(0, gap));
    const right = parse(head.slice(gap + 2));
    const fill = 8 - tail.length - left.length - right.length;
    if (fill < 0) return null;
    groups = [...left, ...new Array<string>(fill).fill('0'), ...right, ...tail];
  } else {
    groups = [...parse(head), ...tail];
  }
  if (groups.length !== 8) return null;
  return groups.map((g) => parseInt(g, 16).toString(16));
}

function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
