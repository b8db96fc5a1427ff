/** The xmpp channel's pure parts: reconnect waits, the server address, what counts as a reply. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { xml } from '@xmpp/client';
import { alertStanza, readBounce, readIncoming, reconnectDelay, serverAddress, xmppDateTime, MAX_REPLY_CHARS } from '../../../src/channels/xmpp/stanzas.js';

describe('reconnectDelay', () => {
  it('doubles from min, never exceeds max, never drops below half of the step (jitter)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
      const d = reconnectDelay(attempt, 1000, 60_000, () => r);
      const step = Math.min(60_000, 1000 * 2 ** Math.min(30, attempt - 1));
      return d >= step / 2 && d <= step && d <= 60_000;
    }));
    expect([1, 2, 3, 4, 7, 8].map((a) => reconnectDelay(a, 1000, 60_000, () => 0.999999))).toEqual([1000, 2000, 4000, 8000, 60_000, 60_000]);
    expect(reconnectDelay(1, 1000, 60_000, () => 0)).toBe(500);
  });
});

describe('serverAddress', () => {
  it('defaults to the domain on 5222 and reads host:port, [v6]:port', () => {
    expect(serverAddress('', 'example.org')).toEqual({ host: 'example.org', port: 5222 });
    expect(serverAddress('xmpp.example.org:5223', 'example.org')).toEqual({ host: 'xmpp.example.org', port: 5223 });
    expect(serverAddress('[::1]:5222', 'x')).toEqual({ host: '::1', port: 5222 });
    expect(serverAddress('10.0.0.5', 'x')).toEqual({ host: '10.0.0.5', port: 5222 });
    expect(() => serverAddress('host:99999', 'x')).toThrow(/channels\.xmpp\.server/);
    expect(() => serverAddress('a b:1', 'x')).toThrow(/channels\.xmpp\.server/);
  });
});

describe('alertStanza', () => {
  it('is a chat message with an AMP drop rule at the expiry and the no-store hints', () => {
    const s = alertStanza({ to: 'ana@example.org', id: 'x1', body: 'PROBLEM #1 <disk> & more', expiresAt: Date.UTC(2026, 11, 1, 3, 37, 12, 900) }).toString();
    expect(s).toBe("<message type=\"chat\" to=\"ana@example.org\" id=\"x1\"><body>PROBLEM #1 &lt;disk&gt; &amp; more</body>"
      + "<amp xmlns=\"http://jabber.org/protocol/amp\"><rule condition=\"expire-at\" action=\"drop\" value=\"2026-12-01T03:37:12Z\"/></amp>"
      + "<no-store xmlns=\"urn:xmpp:hints\"/><no-permanent-store xmlns=\"urn:xmpp:hints\"/></message>");
    expect(xmppDateTime(0)).toBe('1970-01-01T00:00:00Z');
  });
});

describe('readIncoming', () => {
  const msg = (attrs: Record<string, string>, ...children: ReturnType<typeof xml>[]) => xml('message', attrs, ...children);
  const own = 'alertline@example.org';
  it('takes chat and normal messages with a body from a person, bare and lower-cased, bounded', () => {
    expect(readIncoming(msg({ type: 'chat', from: 'Ana@Example.org/phone' }, xml('body', {}, '1')), own)).toEqual({ from: 'ana@example.org', replyTo: 'Ana@Example.org/phone', body: '1' });
    expect(readIncoming(msg({ from: 'ana@example.org' }, xml('body', {}, 'ack 3')), own)?.body).toBe('ack 3');
    expect(readIncoming(msg({ type: 'chat', from: 'ana@example.org' }, xml('body', {}, 'x'.repeat(100_000))), own)?.body.length).toBe(MAX_REPLY_CHARS);
  });
  it('ignores errors, groupchat, headlines, chat states, the server itself and our own account', () => {
    for (const el of [
      msg({ type: 'error', from: 'ana@example.org' }, xml('body', {}, '1')),
      msg({ type: 'groupchat', from: 'room@muc.example.org/ana' }, xml('body', {}, '1')),
      msg({ type: 'headline', from: 'ana@example.org' }, xml('body', {}, '1')),
      msg({ type: 'chat', from: 'ana@example.org' }, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' })),
      msg({ type: 'chat', from: 'example.org' }, xml('body', {}, '1')),
      msg({ type: 'chat', from: 'alertline@example.org/other' }, xml('body', {}, '1')),
      msg({ type: 'chat' }, xml('body', {}, '1')),
      xml('presence', { from: 'ana@example.org' }),
    ]) expect(readIncoming(el, own)).toBeNull();
  });
  it('reads a bounce for the log', () => {
    const el = msg({ type: 'error', id: 'alertline-1-2-ab', from: 'nobody@example.org' }, xml('error', { type: 'cancel' }, xml('service-unavailable', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })));
    expect(readBounce(el)).toEqual({ id: 'alertline-1-2-ab', from: 'nobody@example.org', condition: 'service-unavailable' });
  });
});
