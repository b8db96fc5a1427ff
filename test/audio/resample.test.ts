import { describe, expect, it } from 'vitest';
import { resample } from '../../src/audio/resample.js';

function tone(freq: number, rate: number, seconds: number, amplitude = 16000): Int16Array {
  const n = Math.round(rate * seconds);
  return Int16Array.from({ length: n }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate)));
}

/** RMS level in dB of the middle of a signal (edges carry the filter's start-up). */
function levelDb(x: Int16Array): number {
  const a = Math.floor(x.length * 0.2);
  const b = Math.floor(x.length * 0.8);
  let sum = 0;
  for (let i = a; i < b; i++) sum += x[i]! * x[i]!;
  return 10 * Math.log10(sum / (b - a));
}

function gainDb(freq: number, from: number, to: number): number {
  const input = tone(freq, from, 1);
  return levelDb(resample(input, from, to)) - levelDb(input);
}

describe('resampler', () => {
  it('produces the right number of samples', () => {
    expect(resample(new Int16Array(22050), 22050, 8000).length).toBe(8000);
    expect(resample(new Int16Array(44100), 44100, 8000).length).toBe(8000);
    expect(resample(new Int16Array(8000), 8000, 16000).length).toBe(16000);
  });

  it('attenuates a 5 kHz tone at 22 050 Hz by at least 40 dB on the way to 8 kHz', () => {
    expect(gainDb(5000, 22050, 8000)).toBeLessThan(-40);
  });

  it('passes 1 kHz within 0.5 dB (and 300 Hz and 3 kHz too)', () => {
    for (const f of [300, 1000, 3000]) expect(Math.abs(gainDb(f, 22050, 8000))).toBeLessThan(0.5);
  });

  it('works from other common engine rates', () => {
    for (const from of [11025, 16000, 24000, 44100, 48000]) {
      expect(Math.abs(gainDb(1000, from, 8000))).toBeLessThan(0.5);
      expect(gainDb(4500, from, 8000)).toBeLessThan(-40);
    }
  });

  it('handles rates with no small common factor (direct kernel evaluation)', () => {
    expect(Math.abs(gainDb(1000, 22051, 8000))).toBeLessThan(0.5);
    expect(gainDb(5000, 22051, 8000)).toBeLessThan(-40);
  });

  it('upsamples without imaging a 1 kHz tone', () => {
    expect(Math.abs(gainDb(1000, 8000, 16000))).toBeLessThan(0.5);
  });

  it('keeps the tone at its frequency (zero crossings of 1 kHz at 8 kHz)', () => {
    const out = resample(tone(1000, 22050, 1), 22050, 8000);
    let crossings = 0;
    for (let i = 1000; i < 7000; i++) if ((out[i - 1]! < 0) !== (out[i]! < 0)) crossings++;
    expect(crossings).toBeGreaterThanOrEqual(1498);
    expect(crossings).toBeLessThanOrEqual(1502); // 6000 samples = 0.75 s = 750 periods = 1500 crossings
  });

  it('rejects nonsense rates and copies equal rates', () => {
    expect(() => resample(new Int16Array(10), 0, 8000)).toThrow(/rate/);
    expect(() => resample(new Int16Array(10), 22050, NaN)).toThrow(/rate/);
    const x = Int16Array.from([1, 2, 3]);
    const y = resample(x, 8000, 8000);
    expect([...y]).toEqual([1, 2, 3]);
    expect(y).not.toBe(x);
  });

  it('clips instead of wrapping on full-scale input', () => {
    const square = Int16Array.from({ length: 2205 }, (_, i) => (Math.floor(i / 20) % 2 ? 32767 : -32768));
    const out = resample(square, 22050, 8000);
    // Gibbs overshoot must saturate, never wrap around to the opposite sign.
    for (let i = 10; i < out.length - 10; i++) {
      const srcIndex = Math.round((i * 22050) / 8000);
      const expectedSign = Math.floor(srcIndex / 20) % 2 ? 1 : -1;
      if (srcIndex % 20 > 4 && srcIndex % 20 < 16) expect(Math.sign(out[i]!)).toBe(expectedSign);
    }
  });
});
