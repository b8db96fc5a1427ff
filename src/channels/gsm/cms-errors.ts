/**
 * +CMS ERROR classification (pure): which SMS send failures are worth retrying.
 * Codes: 3GPP TS 27.005 §3.2.5 (300-511), RP-cause values of TS 24.011 Annex E (0-127),
 * TP-FCS values of TS 23.040 §9.2.3.22 (128-255). With AT+CMEE=2 the modem reports the text.
 */
import type { FinalResult } from './at-parser.js';

interface CmsInfo {
  text: string;
  transient: boolean;
}

const CMS: ReadonlyMap<number, CmsInfo> = new Map([
  [1, { text: 'unassigned (unallocated) number', transient: false }],
  [8, { text: 'operator determined barring', transient: false }],
  [10, { text: 'call barred', transient: false }],
  [21, { text: 'short message transfer rejected', transient: false }],
  [27, { text: 'destination out of service', transient: true }],
  [28, { text: 'unidentified subscriber', transient: false }],
  [29, { text: 'facility rejected', transient: false }],
  [30, { text: 'unknown subscriber', transient: false }],
  [38, { text: 'network out of order', transient: true }],
  [41, { text: 'temporary failure', transient: true }],
  [42, { text: 'congestion', transient: true }],
  [47, { text: 'resources unavailable, unspecified', transient: true }],
  [50, { text: 'requested facility not subscribed', transient: false }],
  [69, { text: 'requested facility not implemented', transient: false }],
  [81, { text: 'invalid short message transfer reference value', transient: true }],
  [95, { text: 'invalid message, unspecified', transient: false }],
  [96, { text: 'invalid mandatory information', transient: false }],
  [97, { text: 'message type non-existent or not implemented', transient: false }],
  [98, { text: 'message not compatible with short message protocol state', transient: true }],
  [99, { text: 'information element non-existent or not implemented', transient: false }],
  [111, { text: 'protocol error, unspecified', transient: true }],
  [127, { text: 'interworking, unspecified', transient: true }],
  [300, { text: 'ME failure', transient: true }],
  [301, { text: 'SMS service of ME reserved', transient: true }],
  [302, { text: 'operation not allowed', transient: false }],
  [303, { text: 'operation not supported', transient: false }],
  [304, { text: 'invalid PDU mode parameter', transient: false }],
  [305, { text: 'invalid text mode parameter', transient: false }],
  [310, { text: 'SIM not inserted', transient: false }],
  [311, { text: 'SIM PIN required', transient: false }],
  [312, { text: 'PH-SIM PIN required', transient: false }],
  [313, { text: 'SIM failure', transient: false }],
  [314, { text: 'SIM busy', transient: true }],
  [315, { text: 'SIM wrong', transient: false }],
  [316, { text: 'SIM PUK required', transient: false }],
  [320, { text: 'memory failure', transient: true }],
  [322, { text: 'memory full', transient: true }],
  [330, { text: 'SMSC address unknown', transient: false }],
  [331, { text: 'no network service', transient: true }],
  [332, { text: 'network timeout', transient: true }],
  [340, { text: 'no +CNMA acknowledgement expected', transient: false }],
  [500, { text: 'unknown error', transient: true }],
  [515, { text: 'please wait, init or command processing in progress', transient: true }], // SIM900
]);

const TRANSIENT_TEXT = /network timeout|no network service|network out of order|temporary|congestion|resources unavailable|me failure|sim busy|unknown error|please wait|memory (failure|full)|destination out of service|interworking/i;

export interface CmsClassification {
  transient: boolean;
  /** "+CMS ERROR: 38 (network out of order)" */
  reason: string;
}

/** Classifies a +CMS ERROR (or any other failing final code) for the retry decision. */
export function classifyCmsError(final: FinalResult): CmsClassification {
  if (final.code !== 'CMS ERROR') {
    // Plain ERROR from AT+CMGS is what SIM900 says while it is still starting: worth another go.
    return { transient: final.code === 'ERROR', reason: final.line };
  }
  if (final.errorCode !== undefined) {
    const info = CMS.get(final.errorCode);
    if (info) return { transient: info.transient, reason: `${final.line} (${info.text})` };
    // Unlisted RP-causes and TP-FCS values are refusals; unlisted 27.005/vendor codes are not.
    return { transient: final.errorCode >= 256, reason: final.line };
  }
  return { transient: TRANSIENT_TEXT.test(final.errorText ?? ''), reason: final.line };
}
