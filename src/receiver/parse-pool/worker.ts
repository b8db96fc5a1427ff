/**
 * Entry point for a parse worker thread (compiled to worker.js; see pool.ts): parses each mail it is
 * sent with the same parseAlertMail as inline parsing and sends back the plain fields.
 */
import { parentPort } from 'node:worker_threads';
import { parseAlertMail } from '../parse-alert.js';
import type { ParseJob, ParseReply } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('parse-pool/worker.js runs as a worker thread');

port.on('message', (job: ParseJob) => {
  const raw = Buffer.from(job.buf, 0, job.length);
  parseAlertMail(raw).then(
    (parsed) => reply({ id: job.id, ok: true, parsed }),
    (e: unknown) => reply({ id: job.id, ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});

function reply(r: ParseReply): void {
  port!.postMessage(r);
}
