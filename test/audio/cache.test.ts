import { mkdtemp, readdir, readFile, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AudioCache } from '../../src/audio/audio-cache.js';
import { encodeWavPcm16, parseWav, wavToMono16 } from '../../src/audio/wav.js';
import { ManualClock } from '../../src/util/clock.js';

const wavOf = (n: number, v = 100) => encodeWavPcm16(new Int16Array(n).fill(v), 8000);
const key = (s: string) => AudioCache.keyOf({ text: s });

describe('audio cache', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'alertline-cache-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keys differ by every part and ignore part order', () => {
    const base = { engine: 'e', voice: 'v', lang: 'en', rate: 160, text: 't', format: 'pcmu' };
    const k = AudioCache.keyOf(base);
    expect(AudioCache.keyOf({ format: 'pcmu', text: 't', rate: 160, lang: 'en', voice: 'v', engine: 'e' })).toBe(k);
    for (const [p, v] of Object.entries({ engine: 'x', voice: 'x', lang: 'es', rate: 161, text: 'u', format: 'pcma' })) {
      expect(AudioCache.keyOf({ ...base, [p]: v })).not.toBe(k);
    }
  });

  it('returns the stored audio, byte-identical, from a fresh instance too', async () => {
    const c1 = await AudioCache.open({ dir, maxBytes: 1e6 });
    const put = await c1.put(key('a'), wavOf(100, 7));
    const c2 = await AudioCache.open({ dir, maxBytes: 1e6 });
    const got = await c2.get(key('a'));
    expect(got?.fromCache).toBe(true);
    expect(got!.wav.equals(put.wav)).toBe(true);
    expect(got!.path).toBe(put.path);
    expect([...wavToMono16(parseWav(await readFile(got!.path)))].every((s) => s === 7)).toBe(true);
    expect(c2.entryCount).toBe(1);
  });

  it('counts its lookups (the tts cache metric): found or not', async () => {
    const c = await AudioCache.open({ dir, maxBytes: 1e6 });
    expect(await c.get(key('missing'))).toBeUndefined();
    await c.put(key('b'), wavOf(50));
    await c.get(key('b'));
    await c.get(key('b'));
    expect(c.lookups).toEqual({ hits: 2, misses: 1 });
  });

  it('ignores a temp file left by a crash and re-creates the entry', async () => {
    const c = await AudioCache.open({ dir, maxBytes: 1e6 });
    const k = key('crash');
    // What a crash during put() leaves: a half-written temp file, no entry.
    await writeFile(join(dir, `.tmp-${k.slice(0, 16)}-999-abcdef`), wavOf(100).subarray(0, 60));
    expect(await c.get(k)).toBeUndefined();
    let made = 0;
    const e = await c.getOrCreate(k, async () => (made++, wavOf(50)));
    expect(made).toBe(1);
    expect(e.fromCache).toBe(false);
    expect((await c.get(k))?.fromCache).toBe(true);
    const reopened = await AudioCache.open({ dir, maxBytes: 1e6 });
    expect(reopened.entryCount).toBe(1);
  });

  it('removes stale temp files on open but leaves young ones (another process may be writing)', async () => {
    const old = join(dir, '.tmp-old-1-aa');
    const young = join(dir, '.tmp-young-1-bb');
    await writeFile(old, 'x');
    await writeFile(young, 'x');
    const longAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(old, longAgo, longAgo);
    await AudioCache.open({ dir, maxBytes: 1e6 });
    expect((await readdir(dir)).sort()).toEqual(['.tmp-young-1-bb']);
  });

  it('detects a truncated or damaged entry, deletes it and re-synthesizes', async () => {
    const c = await AudioCache.open({ dir, maxBytes: 1e6 });
    const k = key('trunc');
    const first = await c.put(k, wavOf(1000, 3));
    await truncate(first.path, 500);
    let made = 0;
    const again = await c.getOrCreate(k, async () => (made++, wavOf(1000, 3)));
    expect(made).toBe(1);
    expect(again.fromCache).toBe(false);
    expect(again.wav.equals(first.wav)).toBe(true);
    // Flip one sample byte in place: same length, wrong content.
    const bytes = await readFile(first.path);
    bytes[100]! ^= 0xff;
    await writeFile(first.path, bytes);
    expect(await c.get(k)).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
  });

  it('runs the producer once for concurrent requests of one key', async () => {
    const c = await AudioCache.open({ dir, maxBytes: 1e6 });
    let made = 0;
    const make = async () => {
      made++;
      await new Promise((r) => setTimeout(r, 50));
      return wavOf(10);
    };
    const all = await Promise.all(Array.from({ length: 8 }, () => c.getOrCreate(key('same'), make)));
    expect(made).toBe(1);
    expect(new Set(all.map((e) => e.wav.toString('hex'))).size).toBe(1);
  });

  it('evicts least recently used entries above the size cap', async () => {
    const clock = new ManualClock();
    const one = (await AudioCache.open({ dir, maxBytes: 1e9 })).put(key('probe'), wavOf(1000));
    const entrySize = (await one).wav.length;
    await rm(join(dir, `${key('probe')}.wav`));
    const c = await AudioCache.open({ dir, maxBytes: entrySize * 3, clock, graceMs: 1000 });
    for (const name of ['a', 'b', 'c']) {
      await c.put(key(name), wavOf(1000));
      clock.advance(5000);
    }
    await c.get(key('a')); // a becomes the most recently used
    clock.advance(5000);
    await c.put(key('d'), wavOf(1000));
    expect(await c.get(key('b'))).toBeUndefined(); // oldest use
    for (const name of ['a', 'c', 'd']) expect((await c.get(key(name)))?.fromCache).toBe(true);
    expect(c.sizeBytes).toBeLessThanOrEqual(entrySize * 3);
    // The order survives a restart (kept in mtimes, updated at most once a minute).
    clock.advance(61_000);
    await c.get(key('c'));
    clock.advance(61_000);
    await c.get(key('d'));
    clock.advance(61_000);
    const c2 = await AudioCache.open({ dir, maxBytes: entrySize * 2, clock, graceMs: 1000 });
    expect(c2.entryCount).toBe(2);
    expect(await c2.get(key('a'))).toBeUndefined();
  });

  it('keeps entries used within the grace period even over the cap', async () => {
    const c = await AudioCache.open({ dir, maxBytes: 100, graceMs: 60_000 });
    await c.put(key('x'), wavOf(1000));
    await c.put(key('y'), wavOf(1000));
    expect((await c.get(key('x')))?.fromCache).toBe(true);
    expect((await c.get(key('y')))?.fromCache).toBe(true);
  });
});
