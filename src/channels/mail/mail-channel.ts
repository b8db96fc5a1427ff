/**
 * The mail channel: relays the original alert mail to the recipient through the configured SMTP
 * relay (nodemailer; STARTTLS or implicit TLS, AUTH). A 4xx reply, refused connection or timeout
 * is a retryable failure (the dispatcher retries with backoff); a 5xx is permanent, with the
 * server's reply recorded.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { Channel, ChannelHealth, DeliveryJob, Outcome, Recipient } from '../channel.js';
import { outcome, type RetryRule } from '../channel.js';
import type { MailChannelConfig } from '../../config/schema.js';
import type { Logger } from '../../util/log.js';
import { buildRelayedMail } from '../../compose/relayed-mail.js';

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

export function classifySmtpError(e: SmtpError): Outcome {
  const reply = (e.response ?? e.message ?? String(e)).replace(/\s+/g, ' ').trim().slice(0, 300);
  if (typeof e.responseCode === 'number') {
    if (e.responseCode >= 500) return outcome('rejected', `${e.command ? e.command + ': ' : ''}${reply}`, false);
    if (e.responseCode >= 400) return outcome('failed', `${e.command ? e.command + ': ' : ''}${reply}`, true);
  }
  // EAUTH without a code, bad config: permanent. Connection problems: transient.
  if (e.code === 'EAUTH') return outcome('rejected', `authentication failed: ${reply}`, false);
  if (e.code === 'EENVELOPE' || e.code === 'EMESSAGE') return outcome('rejected', reply, false);
  return outcome('failed', `${e.code ? e.code + ': ' : ''}${reply}`, true);
}

export class MailChannel implements Channel {
  readonly name = 'mail' as const;
  readonly kind = 'text' as const;
  /** Relay connections at once. */
  readonly capacity = 4;
  readonly retry: RetryRule;
  private transport: Transporter;
  private lastError: string | null = null;

  constructor(
    private readonly cfg: MailChannelConfig,
    private readonly opts: { hostname: string; logger: Logger },
  ) {
    this.retry = { retries: cfg.retries, backoffMs: cfg.retryBackoff };
    this.transport = nodemailer.createTransport({
      host: cfg.host,
      port: cfg.port,
      secure: cfg.secure,
      requireTLS: !cfg.secure && cfg.requireTLS,
      auth: cfg.user ? { user: cfg.user, pass: cfg.password } : undefined,
      connectionTimeout: cfg.timeout,
      greetingTimeout: cfg.timeout,
      socketTimeout: cfg.timeout,
      name: opts.hostname,
      tls: { rejectUnauthorized: cfg.tlsRejectUnauthorized },
      logger: false,
    } satisfies SMTPTransport.Options);
  }

  address(r: Recipient): string | null {
    return r.email || null;
  }

  health(): ChannelHealth {
    return this.lastError ? { healthy: true, detail: `relay ${this.cfg.host}:${this.cfg.port} (last error: ${this.lastError})` } : { healthy: true, detail: `relay ${this.cfg.host}:${this.cfg.port}` };
  }

  async deliver(job: DeliveryJob, signal: AbortSignal): Promise<Outcome> {
    if (signal.aborted) return outcome('failed', 'cancelled before sending', false);
    const raw = buildRelayedMail({
      raw: job.alert.raw, from: this.cfg.from, to: job.recipient.email, alertId: job.alert.id, hostname: this.opts.hostname,
      ...(job.alert.from ? { originalFrom: job.alert.from } : {}),
    });
    try {
      const info = await this.transport.sendMail({ envelope: { from: this.cfg.from, to: [job.recipient.email] }, raw });
      this.lastError = null;
      const accepted = info.accepted as unknown[];
      if (!accepted.length) return outcome('rejected', `relay refused ${job.recipient.email}: ${info.response}`, false);
      return outcome('delivered', String(info.response).slice(0, 300), false, { messageId: info.messageId });
    } catch (e) {
      const o = classifySmtpError(e as SmtpError);
      this.lastError = o.reason;
      return o;
    }
  }

  /** doctor: connect, STARTTLS/TLS and AUTH as configured, without sending. */
  async verify(): Promise<void> {
    await this.transport.verify();
  }

  async stop(): Promise<void> {
    this.transport.close();
  }
}
