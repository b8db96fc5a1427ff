/**
 * The `console` channel (kind text): an alert shown in the web console of the person it is for,
 * with an audible alarm there, acknowledged on the page. It reaches a person when one of their
 * logins (web-users --user EMAIL) has the console open: "delivered" names the logins it was
 * shown to. With nobody logged in as them the step ends "no-answer" (not a failure of the
 * channel: the walk moves on to the next channel, and a later round tries the console again).
 */
import type { ConsoleConfig } from '../../config/schema.js';
import type { Logger } from '../../util/log.js';
import { shortText } from '../../compose/texts.js';
import { outcome, type Channel, type ChannelHealth, type DeliveryJob, type Outcome, type Recipient, type RetryRule } from '../channel.js';
import type { ConsolePresence } from './presence.js';

export interface ConsoleStatus {
  screens: number;
  shown: number;
  nobodyThere: number;
}

export class ConsoleChannel implements Channel {
  readonly name = 'console' as const;
  readonly kind = 'text' as const;
  readonly capacity = 50;
  readonly retry: RetryRule;
  private shown = 0;
  private nobodyThere = 0;

  constructor(private readonly opts: { config: ConsoleConfig; presence: ConsolePresence; logger: Logger }) {
    this.retry = { retries: 0, backoffMs: 0 };
  }

  address(recipient: Recipient): string | null {
    return recipient.email || null;
  }

  health(): ChannelHealth {
    const n = this.opts.presence.size;
    return { healthy: true, detail: `${n} console screen${n === 1 ? '' : 's'} open` };
  }

  status(): ConsoleStatus {
    return { screens: this.opts.presence.size, shown: this.shown, nobodyThere: this.nobodyThere };
  }

  async deliver(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    if (signal.aborted) return outcome('failed', 'aborted before showing', true);
    const a = job.alert;
    const logins = this.opts.presence.page(job.recipient.email, {
      alertId: a.id, attemptId: job.attemptId, kind: a.kind, subject: a.subject, severity: a.severity ?? null, host: a.host ?? null,
      text: shortText(a, job.recipient.lang),
    });
    if (!logins.length) {
      this.nobodyThere++;
      return outcome('no-answer', `nobody is logged in to the console as ${job.recipient.email}`, false);
    }
    this.shown++;
    this.opts.logger.info('console.shown', { alert: a.id, attempt: job.attemptId, logins });
    return outcome('delivered', `shown on the console to ${logins.join(', ')}`, false, { logins });
  }
}
