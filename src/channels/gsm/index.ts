/**
 * The GSM modem and its two channels: what the factory list, the daemon and the CLI import.
 *
 * Wiring (src/channels/factories.ts):
 *   const modem = new SharedModem(new Sim900Modem({ config: cfg.channels.gsm, logger, inbound }));
 *   const gsm = new GsmCallChannel({ modem, audio, voice: cfg.voice, gsm: cfg.channels.gsm, logger });
 *   const sms = new SmsChannel({ modem, sms: cfg.channels.sms, logger });
 *   await gsm.start(); await sms.start();       // the first start opens the modem (never throws)
 *   ...
 *   await sms.stop(); await gsm.stop();         // the last stop closes it
 * `alertline status` / `doctor` read channel.status() (a ModemStatus: state, registration,
 * signal, operator, lastError).
 */
export { Sim900Modem } from './sim900-modem.js';
export type { ModemEvent, ModemLink, ModemState, ModemStatus, Sim900ModemOptions } from './sim900-modem.js';
export { SharedModem } from './modem/shared-modem.js';
export { ModemOperations } from './modem/operations.js';
export type { SendPduResult, DialOptions } from './modem/operations.js';
export { GsmCallChannel, mapDialFinal } from './gsm-call-channel.js';
export type { GsmCallChannelOptions } from './gsm-call-channel.js';
export { SmsChannel, encodeAlertSms } from './sms-channel.js';
export type { SmsChannelOptions } from './sms-channel.js';
export { AtEngine, AtError, defaultOpenPort, SMS_SEND_TIMEOUT } from './at-engine.js';
export type { AtResponse, CommandOptions, OpenPort, SerialPortLike } from './at-engine.js';
export { parseSmsReply, SMS_ACK_HINT } from './sms-reply.js';
export { classifyCmsError } from './cms-errors.js';
