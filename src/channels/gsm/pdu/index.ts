/**
 * SMS PDU codec (3GPP TS 23.040 TPDUs, TS 23.038 alphabets). Pure: values in, values out.
 * This file is the module's public face; the AT engine and SIM900 driver import from here.
 */
export { PduError } from './errors.js';
export type { SmsEncoding } from './dcs.js';
export type { ConcatInfo } from './udh.js';
export { normalizePhone } from './address.js';
export { sanitizeSmsText } from './text-sanitizer.js';
export { encodeSmsSubmit, decodeSmsSubmit } from './submit.js';
export type { SubmitPart, EncodedSms, SubmitOptions, DecodedSubmit } from './submit.js';
export { encodeSmsDeliver, decodeSmsDeliver } from './deliver.js';
export type { DecodedDeliver, DeliverOptions } from './deliver.js';
export { reassemble, reassembleAll } from './reassemble.js';
export type { ReassembledMessage } from './reassemble.js';
export { isGsm7Text } from './gsm7-alphabet.js';
