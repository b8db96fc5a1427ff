/**
 * Entry point of the speech worker thread (compiled to worker.js; see engine.ts): one warm
 * espeak-ng WASM engine, the same one the main thread would run, synthesizing the jobs it is sent
 * one at a time and transferring the samples back.
 */
import { parentPort } from 'node:worker_threads';
import { EspeakWasmEngine } from '../espeak-engine.js';
import type { FromSpeechWorker, SynthJob } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('espeak-thread/worker.js runs as a worker thread');
const send = (m: FromSpeechWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

EspeakWasmEngine.create().then(
  (engine) => {
    port.on('message', (job: SynthJob) => {
      engine.synthesize(job.text, { lang: job.lang, rate: job.rate }).then(
        (s) => {
          const samples = s.samples.buffer.byteLength === s.samples.byteLength ? s.samples.buffer as ArrayBuffer : s.samples.slice().buffer as ArrayBuffer;
          send({ kind: 'done', id: job.id, samples, sampleRate: s.sampleRate }, [samples]);
        },
        (e: unknown) => send({ kind: 'error', id: job.id, error: e instanceof Error ? e.message : String(e) }),
      );
    });
    send({ kind: 'ready', voices: engine.listLanguages(), languages: engine.languageTags() });
  },
  (e: unknown) => send({ kind: 'failed-start', error: e instanceof Error ? e.message : String(e) }),
);
