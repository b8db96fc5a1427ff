import type { Command } from 'commander';
import { withStores, CliError, type GlobalOpts } from './context.js';
import { validateChannel } from '../store/user-fields.js';
import { admissionRules, admitInput } from '../core/admission.js';

export function testMail(to: string, now: Date): Buffer {
  const subject = 'Test alert from Alertline';
  return Buffer.from([
    'From: Alertline <alertline@localhost>', `To: <${to}>`, `Subject: ${subject}`, `Date: ${now.toUTCString()}`,
    `Message-ID: <test-${now.getTime()}@alertline>`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8', '',
    'This is a test alert queued with "alertline send-test". If you got it, this channel works.', '',
  ].join('\r\n'));
}

export function registerSendTest(program: Command, g: () => GlobalOpts): void {
  program.command('send-test <email>').description('queue a test alert for one user (the running daemon delivers it)')
    .option('--channel <c>', 'only this channel (voip|gsm|sms|mail)')
    .action(async (email: string, f: { channel?: string }) => {
      const channel = f.channel ? validateChannel(f.channel) : undefined;
      const id = await withStores(g(), async ({ stores, effective }) => {
        const user = await stores.users.get(email);
        if (!user) throw new CliError(`no user ${email}`, 1);
        const now = new Date();
        const raw = testMail(user.email, now);
        const cfg = await effective();
        if (channel && !cfg.channels[channel].enabled) console.error(`warning: channel ${channel} is disabled; the test will fail until it is enabled`);
        const [r] = await stores.alerts.admitBatch([admitInput({
          parsed: { kind: 'test', subject: 'Test alert from Alertline', text: 'This is a test alert.', problemKey: `test:${now.getTime()}`, monitor: 'alertline' },
          raw, rcpt: [user.email], recipients: [user], receivedAt: now.getTime(), mailFrom: 'alertline@localhost', client: 'cli',
          ...(channel ? { plan: [channel] } : {}),
        })], admissionRules({ ignore: [], dedupeWindowMs: 0, notifyResolved: false }));
        return r!.id;
      });
      console.log(`queued test alert ${id} for ${email}${channel ? ` on ${channel}` : ''}; follow it with: alertline alerts show ${id}`);
    });
}
