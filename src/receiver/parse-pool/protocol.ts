/** Messages between the parse pool (pool.ts) and its workers (worker.ts). */
import type { ParsedAlert } from '../../core/model.js';

/** A mail to parse: the raw bytes travel as a transferred ArrayBuffer (no copy). */
export interface ParseJob {
  id: number;
  buf: ArrayBuffer;
  length: number;
}

/** The result; the same ArrayBuffer is transferred back, so the raw mail is stored without a copy. */
export type ParseReply =
  | { id: number; ok: true; parsed: ParsedAlert; buf: ArrayBuffer }
  | { id: number; ok: false; error: string; buf: ArrayBuffer };
