/** A raw SMTP client over a TCP socket, for tests that need exact control of the session. */
import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  code: number;
  lines: string[];
  text: string;
}

export class RawSmtp {
  private buf = '';
  private waiters: ((r: Reply | null) => void)[] = [];
  private replies: Reply[] = [];
  closed = false;

  private constructor(public socket: net.Socket | tls.TLSSocket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket | tls.TLSSocket) {
    socket.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      this.parse();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawSmtp> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, host, () => resolve(new RawSmtp(s)));
      s.once('error', reject);
    });
  }

  private parse() {
    let lines: string[] = [];
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i < 0) break;
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      lines.push(line);
      if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
        const r = { code: Number(line.slice(0, 3)), lines, text: lines.join('\n') };
        lines = [];
        const w = this.waiters.shift();
        if (w) w(r);
        else this.replies.push(r);
      }
    }
    if (lines.length) this.buf = lines.map((l) => l + '\r\n').join('') + this.buf;
  }

  /** Next complete reply (null if the connection closed first). */
  read(timeoutMs = 10_000): Promise<Reply | null> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timeout waiting for SMTP reply')), timeoutMs);
      this.waiters.push((x) => {
        clearTimeout(t);
        resolve(x);
      });
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async cmd(line: string): Promise<Reply | null> {
    this.write(line + '\r\n');
    return this.read();
  }

  async starttls(): Promise<void> {
    const plain = this.socket as net.Socket;
    plain.removeAllListeners('data');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false });
    await new Promise<void>((res, rej) => {
      secure.once('secureConnect', () => res());
      secure.once('error', rej);
    });
    this.socket = secure;
    this.buf = '';
    this.attach(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A full session: greeting, EHLO, MAIL, RCPT..., DATA, message, returns the final reply. */
export async function sendRaw(port: number, opts: { from?: string; to: string[]; data: Buffer | string; ehlo?: string }): Promise<{ rcpt: Reply[]; final: Reply | null }> {
  const c = await RawSmtp.connect(port);
  try {
    const greet = await c.read();
    if (greet?.code !== 220) return { rcpt: [], final: greet };
    await c.cmd(`EHLO ${opts.ehlo ?? 'test.example'}`);
    const mf = await c.cmd(`MAIL FROM:<${opts.from ?? 'zabbix@monitor.example'}>`);
    if (mf?.code !== 250) return { rcpt: [], final: mf };
    const rcpt: Reply[] = [];
    for (const t of opts.to) rcpt.push((await c.cmd(`RCPT TO:<${t}>`))!);
    if (!rcpt.some((r) => r.code === 250)) return { rcpt, final: await c.cmd('DATA') };
    const d = await c.cmd('DATA');
    if (d?.code !== 354) return { rcpt, final: d };
    const body = Buffer.isBuffer(opts.data) ? opts.data : Buffer.from(opts.data);
    c.write(Buffer.concat([dotStuff(body), Buffer.from('.\r\n')]));
    const final = await c.read();
    await c.cmd('QUIT').catch(() => null);
    return { rcpt, final };
  } finally {
    c.close();
  }
}

export function dotStuff(body: Buffer): Buffer {
  let s = body.toString('latin1');
  if (!s.endsWith('\r\n')) s += '\r\n';
  s = s.replace(/^\./gm, '..');
  return Buffer.from(s, 'latin1');
}

/**
 * One SMTP client sending distinct problems ("Problem: <label> <tag>-<i>") on one session until
 * stopped or refused; `accepted` gets every subject that was answered 250.
 */
export async function floodClient(port: number, tag: string, accepted: Set<string>, stop: { now: boolean }, label = 'flood'): Promise<void> {
  let c: RawSmtp;
  try {
    c = await RawSmtp.connect(port);
    await c.read();
    await c.cmd('EHLO flood');
  } catch {
    return;
  }
  for (let i = 0; !stop.now; i++) {
    try {
      const subject = `Problem: ${label} ${tag}-${i}`;
      if ((await c.cmd('MAIL FROM:<zabbix@monitor.example>'))?.code !== 250) break;
      if ((await c.cmd('RCPT TO:<oncall@alerts.example>'))?.code !== 250) break;
      if ((await c.cmd('DATA'))?.code !== 354) break;
      c.write(Buffer.concat([dotStuff(Buffer.from(`From: zabbix@monitor.example\r\nSubject: ${subject}\r\n\r\nHost: h${tag}\r\n`)), Buffer.from('.\r\n')]));
      const r = await c.read(5000);
      if (r?.code === 250) accepted.add(subject);
      else break;
    } catch {
      break;
    }
  }
  c.close();
}
