// The pieces of Zabbix's webhook runtime the Alertline media type uses, for running
// contrib/zabbix/alertline.js outside Zabbix: a synchronous HttpRequest (here over curl),
// Zabbix.log, the script wrapped in a function of `value` as Zabbix does. ES5 semantics are
// what Duktape gives; Node runs a superset, so the test also checks the script's syntax level.
// Usage: node zabbix-runtime.mjs SCRIPT < params.json  → prints {"ok":..., "result"|"error":...}
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import vm from 'node:vm';

const script = readFileSync(process.argv[2], 'utf8');
const value = readFileSync(0, 'utf8');

function HttpRequest() {
  this.headers = [];
  this.status = 0;
}
HttpRequest.prototype.addHeader = function (h) { this.headers.push(h); };
HttpRequest.prototype.post = function (url, body) {
  const args = ['-sS', '-X', 'POST', '--data-binary', '@-', '-w', '\n%{http_code}', url];
  for (const h of this.headers) args.push('-H', h);
  const out = execFileSync('curl', args, { input: body, encoding: 'utf8' });
  const i = out.lastIndexOf('\n');
  this.status = Number(out.slice(i + 1));
  return out.slice(0, i);
};
HttpRequest.prototype.getStatus = function () { return this.status; };

const logs = [];
const sandbox = { HttpRequest, Zabbix: { log: (level, msg) => logs.push([level, msg]) }, value, JSON };
try {
  const result = vm.runInNewContext(`(function (value) {\n${script}\n})(value)`, sandbox, { filename: 'alertline.js' });
  process.stdout.write(JSON.stringify({ ok: true, result, logs }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(e), logs }));
}
