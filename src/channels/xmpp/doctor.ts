/**
 * doctor's xmpp check: with a daemon running, its live report (the daemon holds the session);
 * otherwise one real login the way the daemon does it (STARTTLS, certificate, SASL), then logout.
 */
import type { XmppConfig } from '../../config/schema.js';
import { silentLogger } from '../../util/log.js';
import { XmppChannel } from './xmpp-channel.js';

export interface XmppCheck { status: 'pass' | 'fail'; detail: string; hint?: string }

const HINT = 'check channels.xmpp.jid, password and server (host:port of the client port, usually 5222); the server must offer STARTTLS with a certificate for the JID\'s domain (channels.xmpp.ca for a private CA)';

export async function checkXmpp(cfg: XmppConfig, live: { pid: number; running?: boolean; healthy?: boolean; detail?: string } | null): Promise<XmppCheck> {
  if (live) {
    const who = `daemon pid ${live.pid}`;
    if (!live.running) return { status: 'fail', detail: `${who} has not started the xmpp channel${live.detail ? `: ${live.detail}` : ''}`, hint: HINT };
    return live.healthy ? { status: 'pass', detail: `${who} reports: ${live.detail ?? 'connected'}` } : { status: 'fail', detail: `${who} reports: ${live.detail ?? 'not connected'}`, hint: HINT };
  }
  let ch: XmppChannel;
  try {
    ch = new XmppChannel({ config: cfg, logger: silentLogger, inbound: { message: async () => null, callBack: async () => null } });
    await ch.start();
  } catch (e) {
    return { status: 'fail', detail: (e as Error).message, hint: HINT };
  }
  try {
    return { status: 'pass', detail: ch.health().detail };
  } finally {
    await ch.stop().catch(() => {});
  }
}
