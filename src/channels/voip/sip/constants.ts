/**
 * What Alertline's SIP UA says about itself, defined once and used by every request and
 * response it builds (issue 10).
 */

/** User-Agent in requests, Server in responses. */
export const USER_AGENT = 'Alertline';

/** Methods we accept (RFC 3261 §20.5 Allow): we place calls and answer what arrives inside them; MESSAGE is the sipmsg channel's (RFC 3428). */
export const ALLOWED_METHODS: readonly string[] = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'NOTIFY', 'MESSAGE'];
export const ALLOW = ALLOWED_METHODS.join(', ');

/** Methods we know but do not accept (405 instead of 501). */
export const KNOWN_METHODS: ReadonlySet<string> = new Set([...ALLOWED_METHODS, 'REGISTER', 'SUBSCRIBE', 'REFER', 'MESSAGE', 'UPDATE', 'PRACK', 'PUBLISH']);

/** Body types we understand (RFC 3261 §20.1 Accept, in answers to OPTIONS). */
export const ACCEPT = 'application/sdp, application/dtmf-relay, application/dtmf';

/** §8.1.1.6: Max-Forwards of every request we originate. */
export const MAX_FORWARDS = 70;
