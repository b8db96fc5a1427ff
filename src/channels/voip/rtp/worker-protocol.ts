/** Messages between RtpSession (main thread) and the media worker. */
import type { PortRange } from './port-pair.js';
import type { PlayResult, RemoteMedia } from './stream.js';

export type ToWorker =
  | {
      t: 'open';
      sid: number;
      portRange: PortRange;
      localAddress: string;
      rtcpIntervalMs?: number;
      maxBurst?: number;
      /** Shared counters (Counter indices). */
      counters: SharedArrayBuffer;
    }
  | { t: 'remote'; sid: number; remote: RemoteMedia }
  | { t: 'play'; sid: number; req: number; frames: ArrayBuffer | null; silenceFrames: number; marker: boolean }
  | { t: 'abort'; sid: number; req: number }
  | { t: 'close'; sid: number };

export type FromWorker =
  | { t: 'opened'; sid: number; port: number }
  | { t: 'open-failed'; sid: number; message: string }
  | { t: 'played'; sid: number; req: number; result: PlayResult }
  | { t: 'play-failed'; sid: number; req: number; message: string }
  | { t: 'dtmf'; sid: number; digit: string }
  | { t: 'log'; sid: number; level: 'debug' | 'info' | 'warn' | 'error'; event: string; fields: Record<string, unknown> }
  | { t: 'closed'; sid: number };

export interface WorkerData {
  /** FrameTicker spin window in ms. */
  spinMs?: number;
  /** Nice value for the worker thread (Linux: per thread), e.g. -10; undefined = leave as is. */
  priority?: number;
}
