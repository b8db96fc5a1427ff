/** SMTP load generator for benchmarks: C connections, each sending messages back to back; records accept latency. */
import net from 'node:net';

/**
 * Calls `reply` with each final SMTP reply line the server sends on `s` (its code and the line);
 * continuation lines of a multi-line reply (`250-...`) are skipped.
 */
export function onReplies(s: net.Socket, reply: (code: number, line: string) => void): void {
  let buf = '';
  s.on('data', (d) => {
    buf += d.toString('latin1');
    for (;;) {
      const i = buf.indexOf('\r\n');
      if (i < 0) break;
      const line = buf.slice(0, i);
      buf = buf.slice(i + 2);
      if (line[3] !== '-') reply(Number(line.slice(0, 3)), line);
    }
  });
}

export interface LoadResult {
  ok: number;
  failed: number;
  durationMs: number;
  latenciesMs: number[];
}

function session(port: number, count: () => boolean, body: Buffer, rcpt: string, lat: number[], res: { ok: number; failed: number }): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let stage = 0; // 0 greet, 1 ehlo, 2 mail, 3 rcpt, 4 data, 5 dot
    let t0 = 0;
    const send = (x: string | Buffer) => s.write(x);
    const next = () => {
      if (!count()) { stage = 9; send('QUIT\r\n'); return; }
      stage = 2;
      send('MAIL FROM:<zabbix@monitor.example>\r\n');
    };
    onReplies(s, (code) => {
      switch (stage) {
        case 0: stage = 1; send('EHLO load\r\n'); break;
        case 1: next(); break;
        case 2: if (code !== 250) { res.failed++; next(); break; } stage = 3; send(`RCPT TO:<${rcpt}>\r\n`); break;
        case 3: if (code !== 250) { res.failed++; send('RSET\r\n'); stage = 8; break; } stage = 4; send('DATA\r\n'); break;
        case 4: stage = 5; t0 = performance.now(); send(body); break;
        case 5: lat.push(performance.now() - t0); if (code === 250) res.ok++; else res.failed++; next(); break;
        case 8: next(); break;
        case 9: s.end(); break;
      }
    });
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
}

export async function runLoad(opts: { port: number; connections: number; messages: number; message: Buffer; rcpt: string }): Promise<LoadResult> {
  let left = opts.messages;
  const take = () => (left-- > 0);
  let text = opts.message.toString('latin1');
  if (!text.endsWith('\r\n')) text += '\r\n';
  const body = Buffer.from(text.replace(/^\./gm, '..') + '.\r\n', 'latin1');
  const lat: number[] = [];
  const res = { ok: 0, failed: 0 };
  const t = performance.now();
  await Promise.all(Array.from({ length: opts.connections }, () => session(opts.port, take, body, opts.rcpt, lat, res)));
  return { ...res, durationMs: performance.now() - t, latenciesMs: lat };
}

export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}
