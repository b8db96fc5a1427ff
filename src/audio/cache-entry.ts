/**
 * Format of one prompt-cache file (pure): an ordinary WAV file whose last RIFF chunk, "alck",
 * holds a magic and the SHA-256 of everything between the RIFF header and that chunk. Players
 * ignore the chunk; the cache uses it to refuse truncated or damaged files.
 */
import { createHash } from 'node:crypto';
import { appendChunk } from './wav.js';

const CHUNK_ID = 'alck';
const MAGIC = 'ALC1';
const BODY_LEN = 4 + 32;
const TRAILER_LEN = 8 + BODY_LEN;

/** Seals a WAV whose chunks run to the end of the buffer. */
export function sealEntry(wav: Buffer): Buffer {
  const digest = createHash('sha256').update(wav.subarray(12)).digest();
  return appendChunk(wav, CHUNK_ID, Buffer.concat([Buffer.from(MAGIC, 'ascii'), digest]));
}

/** True when the file is a complete, unaltered sealed entry. */
export function isIntactEntry(file: Buffer): boolean {
  if (file.length < 12 + TRAILER_LEN) return false;
  if (file.toString('ascii', 0, 4) !== 'RIFF' || file.readUInt32LE(4) !== file.length - 8) return false;
  const t = file.length - TRAILER_LEN;
  if (file.toString('ascii', t, t + 4) !== CHUNK_ID || file.readUInt32LE(t + 4) !== BODY_LEN) return false;
  if (file.toString('ascii', t + 8, t + 12) !== MAGIC) return false;
  const digest = createHash('sha256').update(file.subarray(12, t)).digest();
  return digest.equals(file.subarray(t + 12));
}
