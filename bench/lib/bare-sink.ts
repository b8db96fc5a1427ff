/** The ceiling for bench/ingest: smtp-server that reads DATA and answers 250 without parsing or storing. Prints its port. */
import { SMTPServer } from 'smtp-server';

const server = new SMTPServer({
  authOptional: true, disabledCommands: ['STARTTLS', 'AUTH'], disableReverseLookup: true, logger: false, size: 1024 * 1024, maxClients: 1000,
  onData(stream, _s, cb) {
    stream.on('data', () => {});
    stream.on('end', () => cb(null, 'OK'));
  },
});
server.listen(0, '127.0.0.1', () => {
  const a = (server as unknown as { server: { address(): { port: number } } }).server.address();
  process.stdout.write(`${a.port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
