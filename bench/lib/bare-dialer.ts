/**
 * The baseline for bench/latency: the floor any design pays on this machine. A bare smtp-server
 * that stores nothing; right after answering 250 to a message it writes the dial for the
 * recipient: `ATD<number>;\r` to the modem pty (recipient g<number>@...) or one UDP INVITE to
 * sipp (recipient v<user>@...). Prints its SMTP port.
 * Usage: node dist/bench/lib/bare-dialer.js PTY SIPP_PORT
 */
import dgram from 'node:dgram';
import { SerialPort } from 'serialport';
import { SMTPServer } from 'smtp-server';

const [ptyPath, sippPortArg] = process.argv.slice(2);
const sippPort = Number(sippPortArg);
const serial = new SerialPort({ path: ptyPath!, baudRate: 115200 });
const udp = dgram.createSocket('udp4');
let n = 0;

function invite(user: string): Buffer {
  const k = ++n;
  return Buffer.from([
    `INVITE sip:${user}@alertline.test SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKbare${process.pid}x${k}`,
    'Max-Forwards: 70',
    `From: <sip:bare@alertline.test>;tag=bare${k}`,
    `To: <sip:${user}@alertline.test>`,
    `Call-ID: bare-${process.pid}-${k}@127.0.0.1`,
    'CSeq: 1 INVITE',
    'Content-Length: 0',
    '', '',
  ].join('\r\n'));
}

const server = new SMTPServer({
  authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], disableReverseLookup: true, logger: false,
  onData(stream, session, cb) {
    const to = session.envelope.rcptTo[0]?.address ?? '';
    stream.on('data', () => {});
    stream.on('end', () => {
      cb(null, 'OK');
      const m = /^([gv])([^@]+)@/.exec(to);
      if (!m) return;
      if (m[1] === 'g') serial.write(`ATD${m[2]};\r`);
      else udp.send(invite(m[2]!), sippPort, '127.0.0.1');
    });
  },
});
serial.on('open', () => {
  server.listen(0, '127.0.0.1', () => {
    const a = (server as unknown as { server: { address(): { port: number } } }).server.address();
    process.stdout.write(`${a.port}\n`);
  });
});
serial.on('data', () => {}); // the simulator's answers
process.on('SIGTERM', () => server.close(() => serial.close(() => process.exit(0))));
