/** smtp.allowFrom: IPv4 and IPv6 CIDR lists (node's BlockList), with IPv4-mapped IPv6 addresses understood. */
import { BlockList, isIP } from 'node:net';

export class ClientNetworks {
  private readonly list = new BlockList();
  private readonly empty: boolean;

  constructor(cidrs: string[]) {
    for (const c of cidrs) {
      const [addr, bitsText] = c.trim().split('/');
      const type = isIP(addr ?? '');
      if (!type) throw new Error(`smtp.allowFrom: invalid address ${JSON.stringify(c)}`);
      const family = type === 4 ? 'ipv4' : 'ipv6';
      const max = type === 4 ? 32 : 128;
      const bits = bitsText === undefined ? max : Number(bitsText);
      if (!Number.isInteger(bits) || bits < 0 || bits > max || (bitsText !== undefined && !/^\d+$/.test(bitsText))) {
        throw new Error(`smtp.allowFrom: invalid prefix length in ${JSON.stringify(c)}`);
      }
      this.list.addSubnet(addr!, bits, family);
    }
    this.empty = cidrs.length === 0;
  }

  allows(address: string | undefined): boolean {
    if (!address || this.empty) return false;
    let a = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
    if (mapped) a = mapped[1]!;
    const type = isIP(a);
    if (!type) return false;
    return this.list.check(a, type === 4 ? 'ipv4' : 'ipv6');
  }
}
