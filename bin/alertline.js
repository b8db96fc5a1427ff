#!/usr/bin/env node
// The command line. The TypeScript build lives in dist/ (npm run build; npm start builds too).
import { existsSync } from 'node:fs';
import module from 'node:module';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('alertline: not built yet: run "npm run build" in the checkout (npm start builds too)\n');
  process.exit(1);
}
// Node 22.1+ keeps compiled code between runs (in the OS temp dir); on Node 20 this is absent.
module.enableCompileCache?.();
await import(main.href);
