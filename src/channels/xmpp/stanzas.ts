/**
 * The stanzas the xmpp channel writes and reads, as values: an alert as a chat message that
 * expires with the alert, and what a person's message back says. No sockets here.
 */
import { xml, type Element } from '@xmpp/client';
import { validateXmpp } from '../../store/user-fields.js';

export const NS = {
  streams: 'http://etherx.jabber.org/streams',
  tls: 'urn:ietf:params:xml:ns:xmpp-tls',
  hints: 'urn:xmpp:hints',
  amp: 'http://jabber.org/protocol/amp',
  ping: 'urn:xmpp:ping',
} as const;

/** Longest body read from a message back: reply codes are a few characters. */
export const MAX_REPLY_CHARS = 1024;
/** Longest alert body sent (a chat page is read on a phone). */
export const MAX_ALERT_CHARS = 4000;

export interface AlertMessage {
  to: string;
  id: string;
  body: string;
  /** The instant after which nobody should be shown this page. */
  expiresAt: number;
}

/** XEP-0082 date-time, UTC, whole seconds. */
export function xmppDateTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * A chat message carrying the page, with the two ways a server can be told not to hand it out
 * later: XEP-0079 (drop at expire-at) and XEP-0334 (no offline store, no archive).
 */
export function alertStanza(m: AlertMessage): Element {
  return xml('message', { type: 'chat', to: m.to, id: m.id },
    xml('body', {}, m.body),
    xml('amp', { xmlns: NS.amp },
      xml('rule', { condition: 'expire-at', action: 'drop', value: xmppDateTime(m.expiresAt) })),
    xml('no-store', { xmlns: NS.hints }),
    xml('no-permanent-store', { xmlns: NS.hints }));
}

export function chatStanza(to: string, body: string): Element {
  return xml('message', { type: 'chat', to }, xml('body', {}, body));
}

export interface Incoming {
  /** The sender's bare address, lower-cased (what users.xmpp holds). */
  from: string;
  /** The full address to answer to. */
  replyTo: string;
  body: string;
}

/** A person's chat or normal message with a body; null for anything else (errors, chat states, groupchat, the server). */
export function readIncoming(el: Element, ownBare: string): Incoming | null {
  if (!el.is('message')) return null;
  const type = el.attrs.type ?? 'normal';
  if (type !== 'chat' && type !== 'normal') return null;
  const from = el.attrs.from;
  if (!from || from.length > 3071) return null;
  const body = el.getChildText('body');
  if (body === null) return null;
  let bare: string;
  try {
    bare = validateXmpp(from.split('/')[0]!);
  } catch {
    return null;
  }
  if (bare === ownBare) return null;
  return { from: bare, replyTo: from, body: body.slice(0, MAX_REPLY_CHARS) };
}

/** A bounced message (type error): its id and the condition, for the log. */
export function readBounce(el: Element): { id: string; from: string; condition: string } | null {
  if (!el.is('message') || el.attrs.type !== 'error') return null;
  const err = el.getChild('error');
  const cond = err?.children.find((c): c is Element => typeof c !== 'string' && c.name !== 'text');
  return { id: el.attrs.id ?? '', from: el.attrs.from ?? '', condition: cond?.name ?? 'unknown' };
}

/** The wait before reconnect try `attempt` (1, 2, ...): doubling from min, capped at max, jittered into [d/2, d]. */
export function reconnectDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const exp = Math.min(30, Math.max(0, attempt - 1));
  const d = Math.min(maxMs, minMs * 2 ** exp);
  return Math.round(d / 2 + random() * (d / 2));
}

/** host:port of the client port: the configured server, else the JID's domain on 5222. */
export function serverAddress(server: string, domain: string): { host: string; port: number } {
  const s = server.trim();
  if (!s) return { host: domain, port: 5222 };
  const m = /^\[([0-9A-Fa-f:.]{2,45})\](?::(\d{1,5}))?$/.exec(s) ?? /^([^:[\]\s]{1,253})(?::(\d{1,5}))?$/.exec(s);
  const port = m?.[2] ? Number(m[2]) : 5222;
  if (!m || port < 1 || port > 65535) throw new Error(`channels.xmpp.server: write host:port, e.g. xmpp.example.org:5222 (got ${JSON.stringify(s.slice(0, 80))})`);
  return { host: m[1]!, port };
}
