#!/usr/bin/env node
// The command line. `npm run build` (npm start builds too) compiles TypeScript into dist/src and
// bundles the CLI into one file, dist/cli/alertline.cjs (scripts/bundle-cli.mjs). That file runs
// here through a V8 code cache kept beside it, so a command does not pay for loading and
// compiling a hundred modules each time (on a Raspberry Pi that is most of a command's time).
// Without the bundle, or when dist/src is newer than it (tsc run alone), dist/src runs as is.
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const tree = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const bundle = fileURLToPath(new URL('../dist/cli/alertline.cjs', import.meta.url));

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return null;
  }
}

const treeTime = mtime(tree);
const bundleTime = mtime(bundle);
if (treeTime === null && bundleTime === null) {
  process.stderr.write('alertline: not built yet: run "npm run build" in the checkout (npm start builds too)\n');
  process.exit(1);
}

if (bundleTime !== null && (treeTime === null || bundleTime >= treeTime) && !process.env.ALERTLINE_NO_BUNDLE) {
  runBundle(bundle);
} else {
  // Node 22.1+ keeps compiled code between runs (in the OS temp dir); on Node 20 this is absent.
  module.enableCompileCache?.();
  await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
}

/** The command word of a command line (`users` in `alertline --config f users list`), or (none). */
function commandWord(args) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--config') i++;
    else if (!args[i].startsWith('-')) return args[i];
  }
  return '(none)';
}

/**
 * Runs the CommonJS bundle as Node would, with its bytecode from FILE.cache. The cache holds the
 * functions of every command that has run since the bundle was built (FILE.cache-commands lists
 * them): a command not in it yet adds itself once, after it ran. The daemon (`run`) starts once
 * and is left out.
 */
function runBundle(file) {
  const cacheFile = `${file}.cache`;
  const listFile = `${file}.cache-commands`;
  const word = commandWord(process.argv.slice(2));
  let cachedData;
  let listed = [];
  try {
    cachedData = readFileSync(cacheFile);
    listed = readFileSync(listFile, 'utf8').split('\n').filter(Boolean);
  } catch {
    cachedData = undefined;
  }
  const script = new vm.Script(module.wrap(readFileSync(file, 'utf8')), {
    filename: file,
    cachedData,
  });
  if (script.cachedDataRejected) listed = [];
  if (word !== 'run' && (!cachedData || script.cachedDataRejected || !listed.includes(word))) {
    // A cache that cannot be written (a read-only install) only costs speed; V8 checks it
    // against the source and its own version before use; renames keep half-written files out.
    process.once('exit', (code) => {
      // Only a command that ran (a typo or a usage error must not rewrite the cache each time).
      if (code !== 0) return;
      try {
        const tmp = `.${process.pid}.tmp`;
        writeFileSync(cacheFile + tmp, script.createCachedData());
        writeFileSync(listFile + tmp, [...listed, word].join('\n') + '\n');
        renameSync(cacheFile + tmp, cacheFile);
        renameSync(listFile + tmp, listFile);
      } catch {
        /* not writable: run without it */
      }
    });
  }
  // The bundle's import() of a package file (scripts/bundle-cli.mjs) resolves here, as an ES module would.
  globalThis.__alertlineImport = (specifier) => import(specifier);
  const mod = { exports: {}, id: file, filename: file, loaded: false, children: [], paths: [] };
  const require = module.createRequire(file);
  script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, dirname(file));
}
