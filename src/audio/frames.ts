/** Slicing G.711 audio into RTP-sized frames (pure). */
import type { G711Codec } from './prompt-audio.js';
import { silenceByte } from './g711.js';

/** 20 ms of 8 kHz audio at one byte per sample. */
export const FRAME_BYTES = 160;
export const FRAME_MS = 20;

/** Splits encoded audio into 160-byte frames; the last one is padded with the codec's silence. */
export function toFrames(encoded: Uint8Array, codec: G711Codec): Buffer[] {
  const count = Math.ceil(encoded.length / FRAME_BYTES);
  // One allocation; the frames are views into it (the last one's tail is already silence).
  const all = Buffer.alloc(count * FRAME_BYTES, silenceByte(codec));
  all.set(encoded);
  const frames: Buffer[] = new Array(count);
  for (let i = 0; i < count; i++) frames[i] = all.subarray(i * FRAME_BYTES, (i + 1) * FRAME_BYTES);
  return frames;
}

/** Encoded silence of the given length (rounded to whole samples at 8 kHz). */
export function g711Silence(ms: number, codec: G711Codec): Buffer {
  return Buffer.alloc(Math.round((ms * 8000) / 1000), silenceByte(codec));
}
