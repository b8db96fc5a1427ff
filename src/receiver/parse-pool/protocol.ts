/** Messages between the parse pool (pool.ts) and its workers (worker.ts). */
import type { ParsedAlert } from '../../core/model.js';

/** A mail to parse: a copy of its raw bytes, transferred (the pool keeps the original). */
export interface ParseJob {
  id: number;
  buf: ArrayBuffer;
  length: number;
}

/** The plain parsed fields, or the parser's error. */
export type ParseReply =
  | { id: number; ok: true; parsed: ParsedAlert }
  | { id: number; ok: false; error: string };
