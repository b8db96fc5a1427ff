/**
 * What the health loop asks of the running daemon, and the one-line summary systemd shows.
 * Written against the few members of Daemon it needs, so it can be exercised without one.
 */
import type { HealthCheck } from './health-loop.js';
import type { LiveStatus } from '../store/daemon-status.js';

export interface SupervisedDaemon {
  stores: { ping(): Promise<void> };
  receiver: { address(): { address: string; port: number } | null };
  snapshot(): Promise<LiveStatus>;
}

export function daemonHealthChecks(d: SupervisedDaemon): HealthCheck[] {
  return [
    {
      name: 'database',
      async run() {
        // A round trip to the database: fails if the file was removed, locked past busy_timeout or is corrupt.
        await d.stores.ping();
        return null;
      },
    },
    {
      name: 'smtp',
      run() {
        return d.receiver.address() ? null : 'listener is not listening';
      },
    },
  ];
}

/** e.g. "SMTP 0.0.0.0:25; 2 open deliveries, 1 running; gsm ok, mail DOWN (relay refused)". */
export async function daemonStatusLine(d: SupervisedDaemon): Promise<string> {
  const s = await d.snapshot();
  const parts: string[] = [];
  parts.push(s.receiver.listening ? `SMTP ${s.receiver.address}:${s.receiver.port}` : 'SMTP not listening');
  parts.push(`${s.queue.openDeliveries} open deliveries, ${s.queue.running} running`);
  const chans = Object.entries(s.channels)
    .filter(([, c]) => c.enabled)
    .map(([name, c]) => (c.healthy ? `${name} ok` : `${name} DOWN${c.detail ? ` (${c.detail})` : ''}`));
  parts.push(chans.length ? chans.join(', ') : 'no channel enabled');
  return parts.join('; ');
}
