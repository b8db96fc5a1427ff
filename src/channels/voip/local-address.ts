/**
 * The local IP address the OS would use to reach `dest` (a connected UDP socket sends nothing).
 * Used for Via/Contact/SDP when the transport is bound to the wildcard address.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { Endpoint } from './sip/transport/transport.js';

export async function localAddressToward(dest: Endpoint): Promise<string> {
  const sock = dgram.createSocket(isIP(dest.address) === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.connect(dest.port, dest.address, () => resolve());
    });
    return sock.address().address;
  } finally {
    sock.close();
  }
}
