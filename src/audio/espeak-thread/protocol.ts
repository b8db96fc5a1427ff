/** Messages between EspeakThreadEngine (main thread) and its worker (worker.ts). */

export interface SynthJob {
  id: number;
  text: string;
  lang: string;
  rate: number;
}

export type FromSpeechWorker =
  | { kind: 'ready'; voices: string[]; languages: string[] }
  | { kind: 'failed-start'; error: string }
  | { kind: 'done'; id: number; samples: ArrayBuffer; sampleRate: number }
  | { kind: 'error'; id: number; error: string };
