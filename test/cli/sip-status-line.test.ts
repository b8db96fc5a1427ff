/** The `sip:` line of `alertline status`: one server as before; a pool names every server, the active one and why the others are down. */
import { describe, expect, it } from 'vitest';
import { sipLine } from '../../src/cli/status.js';

const now = Date.UTC(2026, 0, 1, 12);

describe('alertline status: the sip line', () => {
  it('one server: state, server, transport and expiry, as before the pool', () => {
    expect(sipLine({ server: 'pbx:5060', transport: 'udp', registration: { state: 'registered', expiresAt: now + 90_000 }, pool: { servers: [{ server: 'pbx:5060', state: 'up', active: true }] } }, now)).toBe(
      'registered at pbx:5060 (udp), expires in 90 s',
    );
    expect(sipLine({ server: 'pbx:5060', transport: 'tls', registration: { state: 'failed', reason: '403 Forbidden' } }, now)).toBe('failed at pbx:5060 (tls): 403 Forbidden');
  });

  it('a pool after a failover: the active server, the down one with how long and why, the counts', () => {
    const line = sipLine(
      {
        server: 'pbx2:5060',
        transport: 'udp',
        registration: { state: 'registered', expiresAt: now + 1800_000 },
        pool: {
          servers: [
            { server: 'pbx1:5060', state: 'down', active: false, reason: 'no answer (transaction timeout)', since: now - 42_000 },
            { server: 'pbx2:5060', state: 'up', active: true },
            { server: 'pbx3:5060', state: 'unknown', active: false },
          ],
          counts: { failovers: 1, failbacks: 0 },
        },
      },
      now,
    );
    expect(line).toBe('registered at pbx2:5060 (udp), expires in 1800 s; servers: pbx1:5060 down for 42 s (no answer (transaction timeout)), pbx2:5060 active, pbx3:5060 unknown; 1 failover(s), 0 failback(s)');
  });
});
