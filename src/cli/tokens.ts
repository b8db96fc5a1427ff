/** alertline tokens create <name> --scope read|write|ingest (prints the token once) | list | revoke <name> */
import type { Command } from 'commander';
import { withStores, printJson, table, fmtTime, CliError, type GlobalOpts } from './context.js';
import { validateScope } from '../store/tokens.js';
import { hashToken, newToken } from '../http/auth.js';

export function registerTokens(program: Command, g: () => GlobalOpts): void {
  const tokens = program.command('tokens').description('API tokens (Authorization: Bearer) for webhooks, scripts and the HTTP API');
  tokens.command('create <name>').description('create a token and print it once (only its SHA-256 is stored)')
    .requiredOption('--scope <scope>', 'read (GET), ingest (alerts and heartbeats in) or write (everything)')
    .option('--json', 'machine-readable output')
    .action(async (name: string, f: { scope: string; json?: boolean }) => {
      const scope = validateScope(f.scope);
      const token = newToken();
      const info = await withStores(g(), ({ stores }) => stores.tokens.add(name, scope, hashToken(token)));
      if (f.json) return printJson({ name: info.name, scope: info.scope, token });
      process.stdout.write(`${token}\n`);
      process.stderr.write(`token ${info.name} (scope ${info.scope}) created; it is shown only now: keep it in the monitor's configuration\n`);
    });
  tokens.command('list').description('tokens (names and scopes; the tokens themselves are not stored)').option('--json', 'machine-readable output')
    .action(async (f: { json?: boolean }) => {
      const list = await withStores(g(), ({ stores }) => stores.tokens.list());
      if (f.json) return printJson(list);
      if (!list.length) return console.log('no tokens (create one with: alertline tokens create NAME --scope ingest)');
      console.log(table(list.map((t) => [t.name, t.scope, fmtTime(t.createdAt), fmtTime(t.lastUsedAt) || 'never']), ['NAME', 'SCOPE', 'CREATED', 'LAST USED']));
    });
  tokens.command('revoke <name>').description('revoke a token (at once, also for a running daemon)').action(async (name: string) => {
    const ok = await withStores(g(), ({ stores }) => stores.tokens.revoke(name));
    if (!ok) throw new CliError(`no token ${name}`, 1);
    console.log(`revoked ${name}`);
  });
}
