/**
 * bench/cli: what one command costs at the prompt. Runs, interleaved in the same loop so machine
 * noise hits them alike:
 *   node -e 0                       (the floor: starting Node itself)
 *   alertline --help
 *   alertline users list            (against a temp data dir with one user)
 *   the same from dist/src          (ALERTLINE_NO_BUNDLE=1: the tree without the bundle, for comparison)
 * and prints the median wall time, the median peak RSS (from /usr/bin/time when installed) and
 * the ratio to bare node. Goal: ≤ 2×.
 * Usage: npm run bench:cli  (or node dist/bench/cli.js [runs=21])
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/alertline.js');
const RUNS = Math.max(3, Number(process.argv[2] ?? 21) || 21);
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

interface Case {
  name: string;
  args: string[];
  /** Only for comparison (the unbundled dist/src tree): not held to the goal. */
  reference?: boolean;
  env?: NodeJS.ProcessEnv;
  ms: number[];
  rssKb: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One run: wall time measured here; peak RSS from /usr/bin/time -f %M (kB) on the last stderr line. */
function once(args: string[], env: NodeJS.ProcessEnv): { ms: number; rssKb: number | null } {
  const [cmd, argv] = TIME ? [TIME, ['-f', 'ALERTLINE_BENCH_RSS %M', process.execPath, ...args]] : [process.execPath, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const m = /ALERTLINE_BENCH_RSS (\d+)/.exec(r.stderr);
  return { ms, rssKb: m ? Number(m[1]) : null };
}

const tmp = mkdtempSync(join(tmpdir(), 'alertline-bench-cli-'));
try {
  const conf = join(tmp, 'alertline.yaml');
  writeFileSync(conf, `dataDir: ${join(tmp, 'data')}\naudioCacheDir: ${join(tmp, 'audio')}\n`);
  const env = { ...process.env, ALERTLINE_CONFIG: '' };
  once([BIN, '--config', conf, 'users', 'add', 'bench@example.com', '--name', 'Bench', '--phone', '+34600111222'], env);

  const cases: Case[] = [
    { name: 'node -e 0', args: ['-e', '0'], ms: [], rssKb: [] },
    { name: 'alertline --help', args: [BIN, '--help'], ms: [], rssKb: [] },
    { name: 'alertline users list', args: [BIN, '--config', conf, 'users', 'list'], ms: [], rssKb: [] },
    // The same command from dist/src, one file per module (what bin ran before the bundle).
    { name: 'users list, dist/src', args: [BIN, '--config', conf, 'users', 'list'], ms: [], rssKb: [], reference: true, env: { ...env, ALERTLINE_NO_BUNDLE: '1' } },
  ];
  for (const c of cases) once(c.args, c.env ?? env); // warm the file cache
  for (let i = 0; i < RUNS; i++) {
    for (const c of cases) {
      const r = once(c.args, c.env ?? env);
      c.ms.push(r.ms);
      if (r.rssKb !== null) c.rssKb.push(r.rssKb);
    }
  }

  const base = median(cases[0]!.ms);
  const baseRss = cases[0]!.rssKb.length ? median(cases[0]!.rssKb) : null;
  console.log(`bench/cli: ${RUNS} runs each, interleaved; node ${process.version}; peak RSS ${TIME ? 'from /usr/bin/time' : 'unavailable (no /usr/bin/time)'}`);
  console.log(`${'command'.padEnd(24)} ${'median'.padStart(9)} ${'ratio'.padStart(6)} ${'peak RSS'.padStart(9)} ${'ratio'.padStart(6)}`);
  for (const c of cases) {
    const ms = median(c.ms);
    const rss = c.rssKb.length ? median(c.rssKb) : null;
    console.log([
      c.name.padEnd(24),
      `${ms.toFixed(0)} ms`.padStart(9),
      `${(ms / base).toFixed(2)}×`.padStart(6),
      (rss !== null ? `${(rss / 1024).toFixed(0)} MB` : '-').padStart(9),
      (rss !== null && baseRss ? `${(rss / baseRss).toFixed(2)}×` : '-').padStart(6),
    ].join(' '));
  }
  const worst = Math.max(...cases.slice(1).filter((c) => !c.reference).map((c) => median(c.ms) / base));
  console.log(`goal ≤ 2.00× bare node: ${worst <= 2 ? 'met' : 'NOT met'} (worst ${worst.toFixed(2)}×)`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
