/**
 * Sample-rate conversion with an anti-aliasing low-pass (pure): a Kaiser-windowed sinc evaluated
 * as a polyphase FIR. For a target of 8 kHz the passband runs to 3.4 kHz and the stopband starts
 * at 4 kHz (the output Nyquist frequency) with about 80 dB of attenuation.
 */

export interface ResampleOptions {
  /** Passband edge as a fraction of the lower of the two Nyquist frequencies (default 0.85). */
  passFraction?: number;
  /** Stopband attenuation in dB (default 80). */
  attenuationDb?: number;
}

interface Design {
  /** Up factor L and down factor M: output n sits at input position n * M / L. */
  up: number;
  down: number;
  /** Taps on each side of the centre, in input samples. */
  half: number;
  /** Cut-off (cycles per input sample) and window parameters. */
  cutoff: number;
  beta: number;
  width: number;
  /** L phases of 2*half taps, each normalized to unit DC gain; undefined when L is too large. */
  table?: Float64Array;
}

const MAX_TABLE_PHASES = 4096;
const designs = new Map<string, Design>();

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function design(fromRate: number, toRate: number, opts: ResampleOptions): Design {
  const passFraction = opts.passFraction ?? 0.85;
  const att = opts.attenuationDb ?? 80;
  const key = `${fromRate}:${toRate}:${passFraction}:${att}`;
  const cached = designs.get(key);
  if (cached) return cached;
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  const nyquist = Math.min(fromRate, toRate) / 2;
  const pass = nyquist * passFraction;
  const stop = nyquist;
  const cutoff = (pass + stop) / 2 / fromRate; // cycles per input sample
  const transition = (stop - pass) / fromRate; // cycles per input sample
  // Kaiser's formulas: beta from the attenuation, length from attenuation and transition width.
  const beta = att > 50 ? 0.1102 * (att - 8.7) : att >= 21 ? 0.5842 * (att - 21) ** 0.4 + 0.07886 * (att - 21) : 0;
  const taps = Math.ceil((att - 8) / (2.285 * 2 * Math.PI * transition)) + 1;
  const half = Math.max(2, Math.ceil(taps / 2));
  const d: Design = { up, down, half, cutoff, beta, width: half };
  if (up <= MAX_TABLE_PHASES) {
    const table = new Float64Array(up * 2 * half);
    for (let p = 0; p < up; p++) fillPhase(d, p / up, table, p * 2 * half);
    d.table = table;
  }
  if (designs.size > 32) designs.clear();
  designs.set(key, d);
  return d;
}

/**
 * Coefficients for an output that sits `frac` input samples after input index i; tap j applies to
 * input i - half + 1 + j. Normalized so that the phase's DC gain is exactly 1.
 */
function fillPhase(d: Design, frac: number, out: Float64Array, at: number): void {
  const { half, cutoff, beta, width } = d;
  const i0beta = besselI0(beta);
  let sum = 0;
  for (let j = 0; j < 2 * half; j++) {
    const t = frac + half - 1 - j; // distance from the output position, in input samples
    const r = t / width;
    let h = 0;
    if (Math.abs(r) < 1) {
      const x = 2 * cutoff * t;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      h = 2 * cutoff * sinc * (besselI0(beta * Math.sqrt(1 - r * r)) / i0beta);
    }
    out[at + j] = h;
    sum += h;
  }
  if (sum !== 0) for (let j = 0; j < 2 * half; j++) out[at + j]! /= sum;
}

/** Converts mono samples from one rate to another. Equal rates return a copy. */
export function resample(input: Int16Array, fromRate: number, toRate: number, opts: ResampleOptions = {}): Int16Array {
  for (const r of [fromRate, toRate]) {
    if (!Number.isInteger(r) || r < 1000 || r > 384000) throw new RangeError(`unsupported sample rate ${r}`);
  }
  if (fromRate === toRate) return input.slice();
  const d = design(fromRate, toRate, opts);
  const { up, down, half } = d;
  const n = Math.ceil((input.length * up) / down);
  const out = new Int16Array(n);
  const taps = 2 * half;
  const scratch = d.table ? undefined : new Float64Array(taps);
  const len = input.length;
  for (let k = 0; k < n; k++) {
    const pos = k * down; // input position times `up`
    const i = Math.floor(pos / up);
    const phase = pos - i * up;
    let coefs: Float64Array;
    let base: number;
    if (d.table) {
      coefs = d.table;
      base = phase * taps;
    } else {
      fillPhase(d, phase / up, scratch!, 0);
      coefs = scratch!;
      base = 0;
    }
    const first = i - half + 1;
    let acc = 0;
    const jStart = first < 0 ? -first : 0;
    const jEnd = Math.min(taps, len - first);
    for (let j = jStart; j < jEnd; j++) acc += input[first + j]! * coefs[base + j]!;
    const v = Math.round(acc);
    out[k] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}
