// Build step after tsc: the command line as one CommonJS file, dist/cli/alertline.cjs, that
// bin/alertline.js runs through a V8 code cache. Loading ~100 small modules (yaml alone is 84
// files) and compiling them at every command cost more than the command's own work; one file
// with cached bytecode starts in a fraction of that. dist/src stays as tsc wrote it (tests and
// the fallback when the bundle is missing use it).
//
// What is bundled: our own dist/src code and the pure-JS packages that are slow to load. Native
// addons, WASM and packages with their own worker files stay in node_modules (required at run
// time). Worker-thread entry files (dist/src/**/*-worker.js) are bundled beside alertline.cjs
// under their own names, because the code finds them with new URL('./x-worker.js', import.meta.url).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'dist/cli');
const BUNDLED = new Set(['yaml', 'zod', 'commander', 'luxon']);

function packageOf(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const externals = {
  name: 'externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (a) => (BUNDLED.has(packageOf(a.path)) ? undefined : { external: true }));
  },
};

function workerEntries(dir, found = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) workerEntries(p, found);
    else if (name.endsWith('-worker.js')) found.push(p);
  }
  return found;
}

const workers = workerEntries(join(ROOT, 'dist/src'));
const names = new Map();
for (const w of workers) {
  const n = basename(w);
  if (names.has(n)) throw new Error(`two worker files named ${n}: ${relative(ROOT, names.get(n))} and ${relative(ROOT, w)}`);
  names.set(n, w);
}

rmSync(OUT, { recursive: true, force: true });
const common = { bundle: true, platform: 'node', target: 'node20', logLevel: 'warning', plugins: [externals], legalComments: 'none' };
await build({
  ...common,
  entryPoints: [join(ROOT, 'dist/src/cli/main.js')],
  outfile: join(OUT, 'alertline.cjs'),
  format: 'cjs',
  // import.meta does not exist in CommonJS: the file's own URL and folder stand in for it, so
  // createRequire(import.meta.url) and new URL('./media-worker.js', import.meta.url) still work.
  define: { 'import.meta.url': '__alertlineFileUrl', 'import.meta.dirname': '__dirname' },
  banner: { js: "const __alertlineFileUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// An import() left in the bundle loads a package file at run time (the espeak-ng module). Code
// run by vm.Script has no module loader of its own for import() (and none at all once it comes
// from the code cache), so each such call goes through the one bin/alertline.js provides.
const bundleFile = join(OUT, 'alertline.cjs');
const code = readFileSync(bundleFile, 'utf8');
writeFileSync(bundleFile, code.replace(/(?<![\w$.])import\(/g, 'globalThis.__alertlineImport('));

if (workers.length) {
  await build({ ...common, entryPoints: workers, outdir: OUT, entryNames: '[name]', format: 'esm' });
}

// Warm the code cache with the commands people type most, against a throwaway config and data
// dir, so an install whose files are read-only at run time (scripts/install.sh) starts fast too.
// Other commands add themselves to the cache the first time they run where it is writable.
const warm = mkdtempSync(join(tmpdir(), 'alertline-warm-'));
try {
  const conf = join(warm, 'alertline.yaml');
  writeFileSync(conf, `dataDir: ${join(warm, 'data')}\naudioCacheDir: ${join(warm, 'audio')}\n`);
  const bin = join(ROOT, 'bin/alertline.js');
  for (const args of [['--help'], ['users', 'list'], ['alerts', 'list'], ['oncall'], ['config', 'check']]) {
    spawnSync(process.execPath, [bin, '--config', conf, ...args], { stdio: 'ignore', env: { ...process.env, ALERTLINE_CONFIG: conf } });
  }
} finally {
  rmSync(warm, { recursive: true, force: true });
}
