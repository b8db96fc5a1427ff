import { spawnSync } from 'node:child_process';
const cases = {
  node: ['-e', '0'],
  commander: ['--input-type=module', '-e', "await import('commander')"],
  yaml: ['-e', "require('yaml')"],
  zod: ['--input-type=module', '-e', "await import('zod')"],
  schema: ['--input-type=module', '-e', "await import('./dist/src/config/schema.js')"],
  load: ['--input-type=module', '-e', "await import('./dist/src/config/load.js')"],
  sqlite: ['-e', "require('better-sqlite3')"],
  store: ['--input-type=module', '-e', "await import('./dist/src/store/index.js')"],
  crypto: ['-e', "require('node:crypto')"],
  help: ['bin/alertline.js', '--help'],
  list: ['bin/alertline.js', '--config', '/tmp/tmp.gwFuOynPpt/c.yaml', 'users', 'list'],
};
const res = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = 0; i < 15; i++) for (const [k, a] of Object.entries(cases)) { const t = performance.now(); spawnSync(process.execPath, a, { stdio: 'ignore' }); res[k].push(performance.now() - t); }
const med = (x) => x.sort((a, b) => a - b)[x.length >> 1];
const base = med(res.node);
for (const [k, v] of Object.entries(res)) console.log(k.padEnd(10), med(v).toFixed(0).padStart(5), '+' + (med(v) - base).toFixed(0));
