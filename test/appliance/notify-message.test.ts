import { describe, expect, it } from 'vitest';
import {
  encodeNotifyMessage, notifyAssignments, parseNotifyMessage, sanitizeStatus, watchdogInterval, NotifyFormatError, MAX_STATUS_LENGTH,
} from '../../src/appliance/notify-message.js';

describe('sd_notify message format', () => {
  it('encodes assignments newline-separated, state flag first and STATUS last (sd_notify(3))', () => {
    expect(encodeNotifyMessage({ STATUS: 'SMTP 127.0.0.1:25', READY: '1' })).toBe('READY=1\nSTATUS=SMTP 127.0.0.1:25');
    expect(notifyAssignments({ WATCHDOG: '1' })).toEqual(['WATCHDOG=1']);
    expect(notifyAssignments({ STOPPING: '1', STATUS: 'bye' })).toEqual(['STOPPING=1', 'STATUS=bye']);
    expect(notifyAssignments({ WATCHDOG: 'trigger' })).toEqual(['WATCHDOG=trigger']);
  });

  it('a STATUS text from the outside world cannot add an assignment of its own', () => {
    const hostile = 'relay said: 421 bye\nREADY=1\r\nSTOPPING=1\u0000x';
    const msg = encodeNotifyMessage({ STATUS: hostile });
    expect(msg.split('\n')).toHaveLength(1);
    expect(parseNotifyMessage(msg)).toEqual({ STATUS: 'relay said: 421 bye READY=1 STOPPING=1 x' });
  });

  it('cuts long status lines to one readable line', () => {
    const s = sanitizeStatus('é'.repeat(500));
    expect(Array.from(s)).toHaveLength(MAX_STATUS_LENGTH);
    expect(s.endsWith('…')).toBe(true);
    expect(sanitizeStatus('  a\t\tb  ')).toBe('a b');
  });

  it('refuses malformed values and unknown keys instead of sending them', () => {
    expect(() => notifyAssignments({ READY: '0' })).toThrow(NotifyFormatError);
    expect(() => notifyAssignments({ MAINPID: '12; rm' })).toThrow(/decimal/);
    expect(() => notifyAssignments({ WATCHDOG: 'yes' })).toThrow(/WATCHDOG/);
    expect(() => notifyAssignments({})).toThrow(/empty/);
    expect(() => notifyAssignments({ READY: '1', FDSTORE: '1' } as never)).toThrow(/unknown notification key/);
  });

  it('parses datagrams back, and rejects lines that are not assignments', () => {
    expect(parseNotifyMessage('READY=1\nSTATUS=a=b\n')).toEqual({ READY: '1', STATUS: 'a=b' });
    expect(() => parseNotifyMessage('READY')).toThrow(NotifyFormatError);
    expect(() => parseNotifyMessage('=1')).toThrow(NotifyFormatError);
  });
});

describe('watchdog interval from the environment systemd sets', () => {
  it('is half of WATCHDOG_USEC', () => {
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000' }, 42)).toEqual({ intervalMs: 15000 });
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42)).toEqual({ intervalMs: 15000 });
  });

  it('is off when unset or meant for another process', () => {
    expect(watchdogInterval({}, 42)).toEqual({ intervalMs: null });
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '41' }, 42)).toEqual({ intervalMs: null });
  });

  it('reports garbage rather than throwing', () => {
    expect(watchdogInterval({ WATCHDOG_USEC: '30s' }, 42).problem).toMatch(/not a number/);
    expect(watchdogInterval({ WATCHDOG_USEC: '1000', }, 42).problem).toMatch(/too short/);
    expect(watchdogInterval({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: 'x' }, 42).problem).toMatch(/not a pid/);
    expect(watchdogInterval({ WATCHDOG_USEC: '9'.repeat(19) }, 42).intervalMs).toBe(2 ** 31 - 1);
  });
});
