import dgram from 'node:dgram';
import { isIP } from 'node:net';

/** An RTP socket on an even port and its RTCP socket on the next (odd) port (RFC 3550 §11). */
export interface PortPair {
  rtp: dgram.Socket;
  rtcp: dgram.Socket;
  port: number;
}

export interface PortRange {
  min: number;
  max: number;
}

function bindOne(type: 'udp4' | 'udp6', port: number, address: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type, reuseAddr: false });
    const onError = (err: Error) => {
      s.removeListener('listening', onListening);
      try {
        s.close();
      } catch {
        /* never bound */
      }
      reject(err);
    };
    const onListening = () => {
      s.removeListener('error', onError);
      resolve(s);
    };
    s.once('error', onError);
    s.once('listening', onListening);
    s.bind({ port, address, exclusive: true });
  });
}

const RETRYABLE = new Set(['EADDRINUSE', 'EACCES']);

/**
 * Binds the first free even/odd pair in the range, starting at a random even port (so calls don't
 * all fight over the first pair) and trying every pair in turn. Rejects with a clear error when
 * the range holds no pair, the address is not an IP, or every pair is busy.
 */
export async function bindPortPair(range: PortRange, localAddress: string, maxAttempts = 2000): Promise<PortPair> {
  const family = isIP(localAddress);
  if (family === 0) throw new Error(`RTP: local address is not an IP literal: ${JSON.stringify(localAddress)}`);
  const { min, max } = range;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max > 65535 || min > max) {
    throw new Error(`RTP: bad port range ${min}-${max}`);
  }
  const first = min % 2 === 0 ? min : min + 1;
  const pairs = first + 1 <= max ? Math.floor((max - first - 1) / 2) + 1 : 0;
  if (pairs <= 0) throw new Error(`RTP: port range ${min}-${max} holds no even RTP port with RTCP port after it`);
  const type = family === 6 ? 'udp6' : 'udp4';
  const start = Math.floor(Math.random() * pairs);
  const attempts = Math.min(pairs, maxAttempts);
  for (let i = 0; i < attempts; i++) {
    const port = first + 2 * ((start + i) % pairs);
    let rtp: dgram.Socket | undefined;
    try {
      rtp = await bindOne(type, port, localAddress);
      const rtcp = await bindOne(type, port + 1, localAddress);
      return { rtp, rtcp, port };
    } catch (err) {
      rtp?.close();
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (!RETRYABLE.has(code)) throw new Error(`RTP: cannot bind ${localAddress}:${port}: ${(err as Error).message}`);
    }
  }
  throw new Error(`RTP: no free port pair in ${min}-${max} on ${localAddress} (${attempts} tried)`);
}
