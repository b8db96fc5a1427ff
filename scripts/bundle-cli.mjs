// Build step after tsc: the command line as one CommonJS file, dist/cli/alertline.cjs, that
// bin/alertline.js runs through a V8 code cache. Loading ~100 small modules (yaml alone is 84
// files) and compiling them at every command cost more than the command's own work; one file
// with cached bytecode starts in a fraction of that. dist/src stays as tsc wrote it (the
// fallback when the bundle is missing or older, and the files modules look up beside themselves).
//
// What is bundled: our own dist/src code and the pure-JS packages that are slow to load. Native
// addons, WASM and everything else stay in node_modules (required at run time). Inside the bundle
// each of our modules keeps the import.meta.url it has in dist/src, so what it finds beside itself
// (the RTP media worker, assets) is found there: dist/src stays as tsc wrote it and is needed.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';

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

// import.meta in a module of dist/src → what it would be in dist/src, computed from the bundle's
// own location at run time (so a moved or installed tree still agrees with itself).
const ownFiles = {
  name: 'own-import-meta',
  setup(b) {
    b.onLoad({ filter: /[\\/]dist[\\/]src[\\/].*\.js$/ }, (a) => {
      const rel = JSON.stringify(relative(OUT, a.path).split(sep).join('/'));
      const url = `new URL(${rel}, __alertlineFileUrl).href`;
      const contents = readFileSync(a.path, 'utf8')
        .replace(/\bimport\.meta\.url\b/g, url)
        .replace(/\bimport\.meta\.dirname\b/g, `require('node:path').dirname(require('node:url').fileURLToPath(${url}))`)
        .replace(/\bimport\.meta\.filename\b/g, `require('node:url').fileURLToPath(${url})`);
      return { contents, loader: 'js' };
    });
  },
};

rmSync(OUT, { recursive: true, force: true });
await build({
  bundle: true,
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  legalComments: 'none',
  // Smaller text is less to read and check at every start; names are kept (errors are told apart by name).
  minify: true,
  keepNames: true,
  plugins: [externals, ownFiles],
  entryPoints: [join(ROOT, 'dist/src/cli/main.js')],
  outfile: join(OUT, 'alertline.cjs'),
  format: 'cjs',
  banner: { js: "const __alertlineFileUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// An import() left in the bundle loads a package file at run time (the espeak-ng module). Code
// run by vm.Script has no module loader of its own for import() (and none at all once it comes
// from the code cache), so each such call goes through the one bin/alertline.js provides.
const bundleFile = join(OUT, 'alertline.cjs');
const code = readFileSync(bundleFile, 'utf8');
writeFileSync(bundleFile, code.replace(/(?<![\w$.])import\(/g, 'globalThis.__alertlineImport('));

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
