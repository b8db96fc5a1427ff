/**
 * bench/adversarial: every parser that sees outside input, timed on a hostile input of size n and
 * 10n. A linear parser shows a ratio near 10; anything much above is super-linear. Prints, never
 * asserts. Each area adds a file here exporting `cases` and is listed in AREAS.
 */
import type { AdversarialCase } from './types.js';

const AREAS: Record<string, () => Promise<{ cases: AdversarialCase[] }>> = {
  sdp: () => import('./sdp.js'),
  mail: () => import('./mail.js'),
  sip: () => import('./sip.js'),
  sipmsg: () => import('./sipmsg.js'),
  gsm: () => import('./gsm.js'),
  routing: () => import('./routing.js'),
  http: () => import('./http.js'),
};

function timeOnce(c: AdversarialCase, input: string | Buffer): number {
  const t0 = performance.now();
  try { c.run(input); } catch { /* a parser's own error is a fine answer */ }
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const only = process.argv[2];
  console.log('parser / hostile input'.padEnd(58), 'n'.padStart(8), 't(n) ms'.padStart(10), 't(10n) ms'.padStart(10), 'ratio'.padStart(7));
  for (const [area, load] of Object.entries(AREAS)) {
    if (only && only !== area) continue;
    const { cases } = await load();
    for (const c of cases) {
      const small = c.make(c.n);
      const big = c.make(c.n * 10);
      for (let i = 0; i < 3; i++) { timeOnce(c, small); timeOnce(c, big); }
      const ts: number[] = []; const tb: number[] = [];
      for (let i = 0; i < 7; i++) { ts.push(timeOnce(c, small)); tb.push(timeOnce(c, big)); }
      const a = median(ts); const b = median(tb);
      console.log(`${area}: ${c.name}`.slice(0, 58).padEnd(58), String(c.n).padStart(8), a.toFixed(3).padStart(10), b.toFixed(3).padStart(10), (b / Math.max(a, 1e-3)).toFixed(1).padStart(7));
    }
  }
}

await main();
