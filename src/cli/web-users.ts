/** alertline web-users add <login> --role admin|responder|viewer --password-stdin [--user EMAIL] | list | remove <login> */
import type { Command } from 'commander';
import { withStores, printJson, table, fmtTime, CliError, type GlobalOpts } from './context.js';
import { validateLogin, validateRole } from '../store/web-users.js';
import { checkPassword, hashPassword } from '../http/web-auth.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new CliError('--password-stdin: pipe the password in (echo … | alertline web-users add …); it is not read from a terminal', 2);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    size += (c as Buffer).length;
    if (size > 4096) throw new CliError('--password-stdin: more than 4 KB on standard input', 2);
  }
  // One line: the trailing newline of `echo` is not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export function registerWebUsers(program: Command, g: () => GlobalOpts): void {
  const w = program.command('web-users').description('logins for the web console (viewer reads, responder acts on alerts, admin manages)');
  w.command('add <login>').description('add a console login; the password is read from standard input and stored as a scrypt hash')
    .requiredOption('--role <role>', 'admin, responder or viewer')
    .option('--password-stdin', 'read the password from standard input (required: passwords never go on the command line)')
    .option('--user <email>', 'the person (alertline users) this login is: alerts for them also ring on their console')
    .action(async (login: string, f: { role: string; passwordStdin?: boolean; user?: string }) => {
      const name = validateLogin(login);
      const role = validateRole(f.role);
      if (!f.passwordStdin) throw new CliError('give --password-stdin and pipe the password in', 2);
      const pw = await readStdin();
      const bad = checkPassword(pw);
      if (bad) throw new CliError(bad, 2);
      const hash = await hashPassword(pw);
      const u = await withStores(g(), ({ stores }) => stores.webUsers.add(name, role, hash, f.user?.trim() || null));
      console.log(`added web user ${u.login} (${u.role}${u.userEmail ? `, is ${u.userEmail}` : ''})`);
    });
  w.command('list').description('console logins and their roles').option('--json', 'machine-readable output')
    .action(async (f: { json?: boolean }) => {
      const list = await withStores(g(), ({ stores }) => stores.webUsers.list());
      if (f.json) return printJson(list);
      if (!list.length) return console.log('no web users (the daemon prints a one-time setup link; or: alertline web-users add NAME --role admin --password-stdin)');
      console.log(table(list.map((u) => [u.login, u.role, u.userEmail ?? '', fmtTime(u.lastLoginAt) || 'never']), ['LOGIN', 'ROLE', 'USER', 'LAST LOGIN']));
    });
  w.command('remove <login>').description('remove a console login (its sessions end at once)').action(async (login: string) => {
    const ok = await withStores(g(), ({ stores }) => stores.webUsers.remove(login));
    if (!ok) throw new CliError(`no web user ${login}`, 1);
    console.log(`removed ${login}`);
  });
}
