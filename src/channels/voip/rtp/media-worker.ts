/**
 * Media worker: owns the RTP/RTCP sockets of every session of the process and paces them on its
 * own event loop, so SMTP parsing, SQLite writes or TTS on the main thread cannot delay packets.
 * Entry point for worker_threads (compiled to media-worker.js); see session.ts.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { Fields, Logger } from '../../../util/log.js';
import { FrameTicker } from './ticker.js';
import { RtpStream, FRAME_BYTES } from './stream.js';
import type { FromWorker, ToWorker, WorkerData } from './worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('media-worker.js must run in a worker thread');

const data = (workerData ?? {}) as WorkerData;
const ticker = new FrameTicker({ spinMs: data.spinMs });

// Linux nice values are per thread: raising this thread's priority (needs CAP_SYS_NICE or root;
// otherwise it stays as it is) lets packets go out on time while the main thread is busy, without
// favouring SMTP parsing or speech synthesis.
let priorityNote: string | undefined;
if (data.priority !== undefined) {
  try {
    setPriority(data.priority);
    priorityNote = `thread nice ${data.priority}`;
  } catch (err) {
    priorityNote = `thread nice unchanged (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
}
const streams = new Map<number, RtpStream>();
const plays = new Map<string, number>(); // "sid:req" -> stream queue id

const post = (m: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer ?? []);

function workerLogger(sid: number, base: Fields = {}): Logger {
  const emit = (level: 'debug' | 'info' | 'warn' | 'error') => (event: string, fields: Fields = {}) =>
    post({ t: 'log', sid, level, event, fields: { ...base, ...fields } });
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error'), child: (f) => workerLogger(sid, { ...base, ...f }) };
}

async function handle(m: ToWorker): Promise<void> {
  switch (m.t) {
    case 'open': {
      try {
        const stream = await RtpStream.open({
          portRange: m.portRange,
          localAddress: m.localAddress,
          logger: workerLogger(m.sid),
          ticker,
          rtcpIntervalMs: m.rtcpIntervalMs,
          maxBurst: m.maxBurst,
          counters: new Uint32Array(m.counters),
          onDtmf: (digit) => post({ t: 'dtmf', sid: m.sid, digit }),
        });
        streams.set(m.sid, stream);
        post({ t: 'opened', sid: m.sid, port: stream.localPort });
        if (priorityNote) {
          post({ t: 'log', sid: m.sid, level: 'debug', event: 'rtp.worker_priority', fields: { note: priorityNote } });
          priorityNote = undefined;
        }
      } catch (err) {
        post({ t: 'open-failed', sid: m.sid, message: (err as Error).message });
      }
      return;
    }
    case 'remote':
      streams.get(m.sid)?.setRemote(m.remote);
      return;
    case 'play': {
      const stream = streams.get(m.sid);
      if (!stream) {
        post({ t: 'played', sid: m.sid, req: m.req, result: 'aborted' });
        return;
      }
      try {
        const frames: Buffer[] = [];
        if (m.frames) {
          const all = Buffer.from(m.frames);
          for (let o = 0; o < all.length; o += FRAME_BYTES) frames.push(all.subarray(o, o + FRAME_BYTES));
        }
        const { id, result } = stream.enqueue(m.frames ? frames : { silenceFrames: m.silenceFrames }, m.marker);
        const key = `${m.sid}:${m.req}`;
        plays.set(key, id);
        const r = await result;
        plays.delete(key);
        post({ t: 'played', sid: m.sid, req: m.req, result: r });
      } catch (err) {
        post({ t: 'play-failed', sid: m.sid, req: m.req, message: (err as Error).message });
      }
      return;
    }
    case 'abort': {
      const id = plays.get(`${m.sid}:${m.req}`);
      if (id !== undefined) streams.get(m.sid)?.abort(id);
      return;
    }
    case 'close': {
      const stream = streams.get(m.sid);
      streams.delete(m.sid);
      await stream?.close();
      post({ t: 'closed', sid: m.sid });
      return;
    }
  }
}

port.on('message', (m: ToWorker) => {
  handle(m).catch((err) => post({ t: 'log', sid: 'sid' in m ? m.sid : 0, level: 'error', event: 'rtp.worker_error', fields: { error: (err as Error).message } }));
});
