/**
 * The GSM modem: what the daemon and the CLI import.
 *
 * Wiring (daemon):
 *   const modem = new Sim900Modem({ config: cfg.channels.gsm, logger, ackSink });
 *   await modem.start();                       // never throws; state shows in modem.status()
 *   const gsm = new GsmCallChannel({ modem, audio, voice: cfg.voice, gsm: cfg.channels.gsm, logger });
 *   const sms = new SmsChannel({ modem, sms: cfg.channels.sms, logger });
 *   ...
 *   await modem.stop();
 * `alertline status` / `doctor` read modem.status() (state, registration, signal, operator, lastError).
 */
export { Sim900Modem } from './sim900-modem.js';
export type { ModemLink, ModemState, ModemStatus, Sim900ModemOptions } from './sim900-modem.js';
export { GsmCallChannel, mapDialFinal } from './gsm-call-channel.js';
export type { GsmCallChannelOptions } from './gsm-call-channel.js';
export { SmsChannel, encodeAlertSms } from './sms-channel.js';
export type { SmsChannelOptions } from './sms-channel.js';
export { AtEngine, AtError, defaultOpenPort, SMS_SEND_TIMEOUT } from './at-engine.js';
export type { AtResponse, CommandOptions, OpenPort, SerialPortLike } from './at-engine.js';
export { parseSmsReply, SMS_ACK_HINT } from './sms-reply.js';
export { classifyCmsError } from './cms-errors.js';
