/** Validation of user fields, shared by the CLI (exit 2 with a clear message) and the store. */
import { CHANNEL_NAMES, type ChannelName } from '../config/channel-names.js';

export class ValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function validateEmail(v: string): string {
  const s = v.trim();
  if (s.length > 254 || !EMAIL.test(s) || s.split('@')[0]!.length > 64) {
    throw new ValidationError(`invalid e-mail address ${JSON.stringify(v)}`);
  }
  return s.toLowerCase();
}

/** E.164: "+" then 8 to 15 digits, first digit not 0. Spaces, dashes, dots and parentheses are removed. */
export function validatePhone(v: string): string {
  const s = v.replace(/[\s().-]/g, '');
  if (!/^\+[1-9]\d{7,14}$/.test(s)) {
    throw new ValidationError(`invalid phone number ${JSON.stringify(v)}: write it in E.164 form, e.g. +34600123456`);
  }
  return s;
}

/** A SIP extension (digits, *, #, letters, dots, dashes) or a sip:/sips: URI. */
export function validateSip(v: string): string {
  const s = v.trim();
  if (/^[A-Za-z0-9*#._+-]{1,32}$/.test(s)) return s;
  if (/^sips?:[A-Za-z0-9*#._+!~'()&=$,;?/%-]+@[A-Za-z0-9.-]+(:\d{1,5})?(;[A-Za-z0-9=._-]+)*$/.test(s)) return s;
  throw new ValidationError(`invalid SIP target ${JSON.stringify(v)}: give an extension (e.g. 201) or a URI (sip:201@pbx.example.com)`);
}

export function validateLang(v: string): string {
  const s = v.trim();
  if (!/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(s)) throw new ValidationError(`invalid language ${JSON.stringify(v)} (e.g. en, es, pt-br)`);
  return s;
}

export function validateGroup(v: string): string {
  const s = v.trim().toLowerCase();
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(s)) throw new ValidationError(`invalid group name ${JSON.stringify(v)} (letters, digits, . _ -)`);
  return s;
}

export function validateChannel(v: string): ChannelName {
  const s = v.trim().toLowerCase();
  if (!(CHANNEL_NAMES as readonly string[]).includes(s)) {
    throw new ValidationError(`unknown channel ${JSON.stringify(v)} (one of ${CHANNEL_NAMES.join(', ')})`);
  }
  return s as ChannelName;
}

export function validateChannelOrder(v: string | string[]): ChannelName[] {
  const list = (Array.isArray(v) ? v : v.split(',')).map((x) => x.trim()).filter(Boolean);
  if (!list.length) throw new ValidationError('channel order is empty');
  const out = list.map(validateChannel);
  const dup = out.find((c, i) => out.indexOf(c) !== i);
  if (dup) throw new ValidationError(`channel ${dup} is listed twice`);
  return out;
}

/** Characters RFC 7622 forbids in a localpart (plus whitespace and controls). */
const JID_LOCAL = /^[^\s"&'/:<>@\u0000-\u001f\u007f]{1,64}$/u;
const JID_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

/**
 * A bare XMPP address (RFC 7622): localpart@domain, no resource. Lower-cased (nodeprep and the
 * domain are case-insensitive), so the address a reply comes from compares equal to the stored one.
 */
export function validateXmpp(v: string): string {
  const s = v.trim();
  const bad = () => new ValidationError(`invalid XMPP address ${JSON.stringify(v.slice(0, 80))}: give a bare JID, e.g. alice@example.org`);
  if (s.length > 3071 || s.includes('/')) throw bad();
  const at = s.indexOf('@');
  if (at <= 0 || s.indexOf('@', at + 1) !== -1) throw bad();
  const local = s.slice(0, at);
  const domain = s.slice(at + 1).replace(/\.$/, '');
  if (!JID_LOCAL.test(local) || domain.length < 1 || domain.length > 253) throw bad();
  if (!domain.split('.').every((l) => JID_LABEL.test(l))) throw bad();
  return `${local}@${domain}`.toLowerCase();
}
