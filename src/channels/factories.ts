/**
 * How the daemon builds each channel from the configuration. The gsm and sms channels share one
 * modem: one owner object (SharedModem) created once here and handed to both; the first channel
 * to start opens it, the last to stop closes it, and each channel reports its status itself. The
 * call channels share one speech service. The modem (serialport) and XMPP (@xmpp/client) code is
 * loaded only when those channels are enabled: an appliance without them does not hold it.
 */
import type { ChannelName, InboundSink } from './channel.js';
import type { ChannelFactory } from './manager.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../util/log.js';
import type { PromptAudio } from '../audio/prompt-audio.js';
import { MailChannel } from './mail/mail-channel.js';
import type { SharedModem } from './gsm/index.js';
import { VoipChannel } from './voip/voip-channel.js';
import { SipLine } from './voip/sip-line.js';
import { SipMessageChannel } from './sipmsg/sipmsg-channel.js';
import { ConsoleChannel } from './console/console-channel.js';
import { ConsolePresence } from './console/presence.js';

export interface FactoryDeps {
  logger: Logger;
  /**
   * Where messages from people arrive: SMS replies read from the modem (`message(..., 'sms')`)
   * and calls to the modem's number (`callBack(..., 'call-back')`). Core's reply grammar and
   * acknowledge() decide what they mean; a returned text is sent back by SMS. Without one, the
   * modem leaves the SIM's messages and incoming calls alone (doctor, tests of one channel).
   */
  inbound?: InboundSink;
  /** The shared speech service, created on first use. */
  audio: () => Promise<PromptAudio>;
  /** Who has the web console open (the HTTP server attaches screens); the console channel shows alerts there. */
  presence?: ConsolePresence;
}

export function channelFactories(deps: FactoryDeps): Partial<Record<ChannelName, ChannelFactory>> {
  const inbound = deps.inbound;
  let modem: { shared: SharedModem; port: string } | null = null;
  /** The voip channel's UA and registration, which the sipmsg channel sends and receives through. */
  const sipLine = new SipLine();

  /** The one modem owner for gsm and sms, created on first use with that configuration. */
  const sharedModem = async (cfg: Config): Promise<SharedModem> => {
    if (modem && modem.port !== cfg.channels.gsm.port) {
      deps.logger.warn('gsm.port_changed', { from: modem.port, to: cfg.channels.gsm.port, note: 'restart the daemon to use the new port' });
    }
    const { SharedModem, Sim900Modem } = await import('./gsm/index.js');
    if (!modem) {
      const m = new Sim900Modem({ config: cfg.channels.gsm, logger: deps.logger.child({ channel: 'modem' }), ...(inbound ? { inbound } : {}) });
      modem = { shared: new SharedModem(m), port: cfg.channels.gsm.port };
    }
    return modem.shared;
  };

  return {
    mail: async (cfg) => new MailChannel(cfg.channels.mail, { hostname: cfg.smtp.hostname, logger: deps.logger.child({ channel: 'mail' }) }),
    gsm: async (cfg) => {
      const audio = await deps.audio();
      const { GsmCallChannel } = await import('./gsm/index.js');
      return new GsmCallChannel({ modem: await sharedModem(cfg), audio, voice: cfg.voice, gsm: cfg.channels.gsm, logger: deps.logger.child({ channel: 'gsm' }) });
    },
    sms: async (cfg) => {
      const { SmsChannel } = await import('./gsm/index.js');
      return new SmsChannel({ modem: await sharedModem(cfg), sms: cfg.channels.sms, logger: deps.logger.child({ channel: 'sms' }) });
    },
    voip: async (cfg) => {
      const audio = await deps.audio();
      return new VoipChannel({ config: cfg.channels.voip, voice: cfg.voice, audio, logger: deps.logger, line: sipLine });
    },
    sipmsg: async (cfg) =>
      new SipMessageChannel({ config: cfg.channels.sipmsg, line: sipLine, logger: deps.logger, ...(deps.inbound ? { inbound: deps.inbound } : {}) }),
    console: async (cfg) => new ConsoleChannel({ config: cfg.channels.console, presence: deps.presence ?? new ConsolePresence(), logger: deps.logger.child({ channel: 'console' }) }),
    xmpp: async (cfg) => {
      const { XmppChannel } = await import('./xmpp/xmpp-channel.js');
      return new XmppChannel({
        config: cfg.channels.xmpp, logger: deps.logger.child({ channel: 'xmpp' }),
        inbound: deps.inbound ?? { message: async () => null, callBack: async () => null },
      });
    },
  };
}
