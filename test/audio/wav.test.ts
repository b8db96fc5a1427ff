import { describe, expect, it } from 'vitest';
import { appendChunk, encodeWavG711, encodeWavPcm16, parseWav, wavToMono16, WAVE_MULAW, WAVE_PCM } from '../../src/audio/wav.js';
import { toFrames, g711Silence } from '../../src/audio/frames.js';
import { isIntactEntry, sealEntry } from '../../src/audio/cache-entry.js';

describe('WAV', () => {
  it('writes a canonical 44-byte header for 16-bit mono PCM', () => {
    const wav = encodeWavPcm16(Int16Array.from([0, 1, -1, 32767]), 8000);
    expect(wav.length).toBe(44 + 8);
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    expect(wav.toString('ascii', 8, 16)).toBe('WAVEfmt ');
    expect(wav.readUInt32LE(16)).toBe(16);
    expect(wav.readUInt16LE(20)).toBe(1); // PCM
    expect(wav.readUInt16LE(22)).toBe(1); // mono
    expect(wav.readUInt32LE(24)).toBe(8000);
    expect(wav.readUInt32LE(28)).toBe(16000); // byte rate
    expect(wav.readUInt16LE(32)).toBe(2); // block align
    expect(wav.readUInt16LE(34)).toBe(16);
    expect(wav.toString('ascii', 36, 40)).toBe('data');
    expect(wav.readUInt32LE(40)).toBe(8);
    expect(wav.readInt16LE(44 + 6)).toBe(32767);
  });

  it('round-trips PCM and G.711 files', () => {
    const pcm = Int16Array.from({ length: 333 }, (_, i) => (i * 97) % 20000 - 10000);
    const p = parseWav(encodeWavPcm16(pcm, 16000));
    expect(p.format).toBe(WAVE_PCM);
    expect(p.sampleRate).toBe(16000);
    expect([...wavToMono16(p)]).toEqual([...pcm]);
    const g = parseWav(encodeWavG711(Buffer.from([0xff, 0x80, 0x00]), 'PCMU'));
    expect(g.format).toBe(WAVE_MULAW);
    expect([...g.data]).toEqual([0xff, 0x80, 0x00]);
    expect([...wavToMono16(g)]).toEqual([0, 32124, -32124]);
  });

  it('reads stereo, 8-bit and float files as mono 16-bit, and skips unknown chunks', () => {
    const h = (fmt: number, ch: number, bits: number, data: Buffer) => {
      const b = encodeWavPcm16(new Int16Array(0), 8000);
      b.writeUInt16LE(fmt, 20);
      b.writeUInt16LE(ch, 22);
      b.writeUInt16LE(bits, 34);
      const withList = Buffer.concat([b.subarray(0, 36), Buffer.from('LIST\x04\x00\x00\x00abcd', 'latin1'), b.subarray(36, 40), Buffer.alloc(4), data]);
      withList.writeUInt32LE(data.length, 36 + 12 + 4);
      withList.writeUInt32LE(withList.length - 8, 4);
      return withList;
    };
    const stereo = Buffer.alloc(8);
    stereo.writeInt16LE(1000, 0);
    stereo.writeInt16LE(3000, 2);
    stereo.writeInt16LE(-1000, 4);
    stereo.writeInt16LE(-3000, 6);
    expect([...wavToMono16(parseWav(h(1, 2, 16, stereo)))]).toEqual([2000, -2000]);
    expect([...wavToMono16(parseWav(h(1, 1, 8, Buffer.from([128, 255, 0]))))]).toEqual([0, 127 << 8, -32768]);
    const f = Buffer.alloc(8);
    f.writeFloatLE(0.5, 0);
    f.writeFloatLE(-2, 4); // out of range: clipped
    expect([...wavToMono16(parseWav(h(3, 1, 32, f)))]).toEqual([16384, -32767]);
  });

  it('accepts the unknown-length data chunk that programs write to a pipe', () => {
    const wav = encodeWavPcm16(Int16Array.from([5, 6, 7]), 22050);
    wav.writeUInt32LE(0xffffffff, 40);
    wav.writeUInt32LE(0xffffffff, 4);
    expect([...wavToMono16(parseWav(wav))]).toEqual([5, 6, 7]);
  });

  it('gives clear errors for hostile or broken input', () => {
    expect(() => parseWav(Buffer.from('hello world, not a wav'))).toThrow(/RIFF/);
    const wav = encodeWavPcm16(new Int16Array(100), 8000);
    expect(() => parseWav(wav.subarray(0, 100))).toThrow(/truncated/);
    const noFmt = Buffer.from(wav);
    noFmt.write('junk', 12, 'ascii');
    expect(() => parseWav(noFmt)).toThrow(/fmt/);
    const badRate = Buffer.from(wav);
    badRate.writeUInt32LE(0, 24);
    expect(() => parseWav(badRate)).toThrow(/rate/);
    const odd = Buffer.from(wav);
    odd.writeUInt16LE(12, 34);
    expect(() => wavToMono16(parseWav(odd))).toThrow(/unsupported/);
    const hugeChunk = Buffer.from(wav);
    hugeChunk.write('junk', 12, 'ascii');
    hugeChunk.writeUInt32LE(0x7ffffff0, 16);
    expect(() => parseWav(hugeChunk)).toThrow(/truncated/);
  });

  it('appendChunk keeps the file valid for readers that ignore it', () => {
    const wav = appendChunk(encodeWavPcm16(Int16Array.from([1, 2]), 8000), 'test', Buffer.from('xyz'));
    expect(wav.readUInt32LE(4)).toBe(wav.length - 8);
    const p = parseWav(wav);
    expect([...wavToMono16(p)]).toEqual([1, 2]);
    expect(p.extraChunks[0]!.id).toBe('test');
  });
});

describe('cache entry seal', () => {
  it('detects truncation and altered bytes', () => {
    const sealed = sealEntry(encodeWavPcm16(Int16Array.from({ length: 500 }, (_, i) => i), 8000));
    expect(isIntactEntry(sealed)).toBe(true);
    expect(isIntactEntry(sealed.subarray(0, sealed.length - 1))).toBe(false);
    expect(isIntactEntry(sealed.subarray(0, 600))).toBe(false);
    const flipped = Buffer.from(sealed);
    flipped[300]! ^= 1;
    expect(isIntactEntry(flipped)).toBe(false);
    expect(isIntactEntry(Buffer.alloc(0))).toBe(false);
  });
});

describe('frames', () => {
  it('cuts 160-byte frames and pads the last with the codec silence', () => {
    const frames = toFrames(Buffer.alloc(400, 0x11), 'PCMU');
    expect(frames.map((f) => f.length)).toEqual([160, 160, 160]);
    expect(frames[2]!.subarray(0, 80).every((b) => b === 0x11)).toBe(true);
    expect(frames[2]!.subarray(80).every((b) => b === 0xff)).toBe(true);
    const a = toFrames(Buffer.alloc(1, 0x11), 'PCMA');
    expect(a[0]!.subarray(1).every((b) => b === 0xd5)).toBe(true);
    expect(toFrames(Buffer.alloc(320), 'PCMA')).toHaveLength(2);
    expect(g711Silence(20, 'PCMA')).toEqual(Buffer.alloc(160, 0xd5));
  });
});
