/**
 * How the daemon builds each channel from the configuration. The gsm and sms channels share one
 * modem (opened when the first of them starts, closed when the last stops); the call channels share
 * one speech service.
 */
import type { AckSink, Channel, ChannelName, InboundSink } from './channel.js';
import type { ChannelFactory } from './manager.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../util/log.js';
import type { PromptAudio } from '../audio/prompt-audio.js';
import { MailChannel } from './mail/mail-channel.js';
import { Sim900Modem, GsmCallChannel, SmsChannel } from './gsm/index.js';
import { VoipChannel } from './voip/voip-channel.js';
import { XmppChannel } from './xmpp/xmpp-channel.js';

export interface FactoryDeps {
  logger: Logger;
  ackSink: AckSink;
  /** Replies and call-backs reaching a channel (the daemon reads them with the core's grammar). */
  inbound?: InboundSink;
  /** The shared speech service, created on first use. */
  audio: () => Promise<PromptAudio>;
}

type WithLifecycle<T> = T & { start?(): Promise<void>; stop?(): Promise<void>; status?(): unknown };

export function channelFactories(deps: FactoryDeps): Partial<Record<ChannelName, ChannelFactory>> {
  let modem: { m: Sim900Modem; users: number; port: string } | null = null;

  const acquireModem = async (cfg: Config): Promise<Sim900Modem> => {
    if (modem && modem.port !== cfg.channels.gsm.port) {
      deps.logger.warn('gsm.port_changed', { from: modem.port, to: cfg.channels.gsm.port, note: 'restart the daemon to use the new port' });
    }
    if (!modem) {
      const m = new Sim900Modem({ config: cfg.channels.gsm, logger: deps.logger.child({ channel: 'modem' }), ackSink: deps.ackSink });
      modem = { m, users: 0, port: cfg.channels.gsm.port };
      await m.start();
    }
    modem.users++;
    return modem.m;
  };
  const releaseModem = async () => {
    if (!modem) return;
    if (--modem.users <= 0) {
      const m = modem.m;
      modem = null;
      await m.stop();
    }
  };
  const withModem = <T extends Channel>(ch: T, m: Sim900Modem): WithLifecycle<T> =>
    Object.assign(ch, { stop: releaseModem, status: () => m.status() });

  return {
    mail: async (cfg) => new MailChannel(cfg.channels.mail, { hostname: cfg.smtp.hostname, logger: deps.logger.child({ channel: 'mail' }) }),
    gsm: async (cfg) => {
      const audio = await deps.audio();
      const m = await acquireModem(cfg);
      return withModem(new GsmCallChannel({ modem: m, audio, voice: cfg.voice, gsm: cfg.channels.gsm, logger: deps.logger.child({ channel: 'gsm' }) }), m);
    },
    sms: async (cfg) => {
      const m = await acquireModem(cfg);
      return withModem(new SmsChannel({ modem: m, sms: cfg.channels.sms, logger: deps.logger.child({ channel: 'sms' }) }), m);
    },
    voip: async (cfg) => {
      const audio = await deps.audio();
      return new VoipChannel({ config: cfg.channels.voip, voice: cfg.voice, audio, logger: deps.logger });
    },
    xmpp: async (cfg) => new XmppChannel({
      config: cfg.channels.xmpp, logger: deps.logger.child({ channel: 'xmpp' }),
      inbound: deps.inbound ?? { message: async () => null, callBack: async () => null },
    }),
  };
}
