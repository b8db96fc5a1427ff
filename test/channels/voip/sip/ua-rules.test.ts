import { describe, expect, it } from 'vitest';
import { outcomeForFinal } from '../../../../src/channels/voip/call-outcome.js';
import { sipTarget } from '../../../../src/channels/voip/sip-target.js';
import { dialogRouting, type Dialog } from '../../../../src/channels/voip/sip/ua/dialog.js';
import { parseDtmfInfo } from '../../../../src/channels/voip/sip/ua/dtmf-info.js';
import { refreshDelayMs } from '../../../../src/channels/voip/sip/ua/registration.js';

describe('final responses to INVITE become outcomes (never "in progress")', () => {
  it.each([
    [486, 'Busy Here', 'busy', true],
    [600, 'Busy Everywhere', 'busy', true],
    [480, 'Temporarily Unavailable', 'no-answer', true],
    [408, 'Request Timeout', 'no-answer', true],
    [487, 'Request Terminated', 'no-answer', true],
    [603, 'Decline', 'rejected', false],
    [404, 'Not Found', 'rejected', false],
    [484, 'Address Incomplete', 'rejected', false],
    [410, 'Gone', 'rejected', false],
    [488, 'Not Acceptable Here', 'rejected', false],
    [403, 'Forbidden', 'failed', false],
    [407, 'Proxy Authentication Required', 'failed', false],
    [500, 'Server Internal Error', 'failed', true],
    [503, 'Service Unavailable', 'failed', true],
    [606, 'Not Acceptable', 'failed', true],
  ])('%i %s → %s', (status, reason, kind, retryable) => {
    const o = outcomeForFinal(status, reason);
    expect(o.kind).toBe(kind);
    expect(o.retryable).toBe(retryable);
    expect(o.reason).toContain(`${status} ${reason}`);
    if ([404, 484, 410].includes(status)) expect(o.reason).toMatch(/^unknown number/);
  });
});

describe('call target from the recipient sip field', () => {
  it('extension, user@host and full URIs', () => {
    expect(sipTarget('201', 'pbx.example.com')).toBe('sip:201@pbx.example.com');
    expect(sipTarget(' 201 ', 'pbx.example.com')).toBe('sip:201@pbx.example.com');
    expect(sipTarget('*97#', 'pbx')).toBe('sip:*97%23@pbx');
    expect(sipTarget('alice@example.org', 'pbx')).toBe('sip:alice@example.org');
    expect(sipTarget('sip:bob@10.0.0.7:5070;transport=tcp', 'pbx')).toBe('sip:bob@10.0.0.7:5070;transport=tcp');
  });

  it('refuses anything that could inject header text or is not a SIP URI', () => {
    for (const bad of ['', '201\r\nBYE sip:x SIP/2.0', '201 202', '<sip:a@b>', 'sip:a@b?Route=x', 'tel:+1555', 'a"b@c', 'bob@', 'sip:a@b c']) {
      expect(() => sipTarget(bad, 'pbx'), bad).toThrow();
    }
  });
});

describe('dialog routing (RFC 3261 §12.2.1.1, §16.12)', () => {
  const base: Dialog = {
    callId: 'c', localTag: 'l', remoteTag: 'r', localParty: '<sip:200@pbx>;tag=l', remoteParty: '<sip:201@pbx>;tag=r',
    remoteTarget: 'sip:201@10.0.0.9:5062', routeSet: [], localSeq: 2,
  };
  it('no route set: straight to the remote target (Contact)', () => {
    expect(dialogRouting(base)).toEqual({ requestUri: 'sip:201@10.0.0.9:5062', routes: [], nextHop: 'sip:201@10.0.0.9:5062' });
  });
  it('loose routing: Request-URI is the Contact, Route is the (reversed) Record-Route, next hop the first route', () => {
    const d = { ...base, routeSet: ['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>'] };
    expect(dialogRouting(d)).toEqual({ requestUri: 'sip:201@10.0.0.9:5062', routes: d.routeSet, nextHop: 'sip:p2.example.com;lr' });
  });
  it('strict router: it goes in the Request-URI and the Contact goes last in Route', () => {
    const d = { ...base, routeSet: ['<sip:strict.example.com>', '<sip:p1.example.com;lr>'] };
    expect(dialogRouting(d)).toEqual({
      requestUri: 'sip:strict.example.com',
      routes: ['<sip:p1.example.com;lr>', '<sip:201@10.0.0.9:5062>'],
      nextHop: 'sip:strict.example.com',
    });
  });
});

describe('SIP INFO keypresses', () => {
  it('application/dtmf-relay and application/dtmf', () => {
    expect(parseDtmfInfo('application/dtmf-relay', Buffer.from('Signal=1\r\nDuration=160\r\n'))).toBe('1');
    expect(parseDtmfInfo('Application/DTMF-Relay; charset=x', Buffer.from('Signal= #\nDuration=100'))).toBe('#');
    expect(parseDtmfInfo('application/dtmf', Buffer.from('2'))).toBe('2');
    expect(parseDtmfInfo('application/dtmf-relay', Buffer.from('Signal=12\r\n'))).toBeNull();
    expect(parseDtmfInfo('text/plain', Buffer.from('Signal=1'))).toBeNull();
    expect(parseDtmfInfo(undefined, Buffer.alloc(0))).toBeNull();
  });
});

describe('registration refresh timing', () => {
  it('refreshes at half the granted expiry, never sooner than 1 s', () => {
    expect(refreshDelayMs(3600)).toBe(1_800_000);
    expect(refreshDelayMs(60)).toBe(30_000);
    expect(refreshDelayMs(1)).toBe(1000);
  });
});
