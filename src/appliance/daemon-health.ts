/**
 * What the health loop asks of the running daemon, and the one-line summary systemd shows.
 * Written against the few members of Daemon it needs, so it can be exercised without one.
 */
import type { HealthCheck } from './health-loop.js';

export interface SupervisedDaemon {
  stores: { db: { prepare(sql: string): { get(): unknown } } };
  receiver: { address(): { address: string; port: number } | null };
  snapshot(): Record<string, unknown>;
}

export function daemonHealthChecks(d: SupervisedDaemon): HealthCheck[] {
  return [
    {
      name: 'database',
      run() {
        // Reads the schema page: fails if the file was removed, locked past busy_timeout or is corrupt.
        const row = d.stores.db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n?: unknown } | undefined;
        return row && typeof row.n === 'number' && row.n > 0 ? null : 'schema missing';
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

interface ChannelSnap { enabled?: boolean; healthy?: boolean; detail?: string; busy?: number }

/** e.g. "SMTP 0.0.0.0:25; 2 open deliveries, 1 running; gsm ok, mail DOWN (relay refused)". */
export function daemonStatusLine(d: SupervisedDaemon): string {
  const s = d.snapshot() as {
    receiver?: { listening?: boolean; address?: string; port?: number };
    queue?: { openDeliveries?: number; running?: number };
    channels?: Record<string, ChannelSnap>;
  };
  const parts: string[] = [];
  parts.push(s.receiver?.listening ? `SMTP ${s.receiver.address}:${s.receiver.port}` : 'SMTP not listening');
  if (s.queue) parts.push(`${s.queue.openDeliveries ?? 0} open deliveries, ${s.queue.running ?? 0} running`);
  const chans = Object.entries(s.channels ?? {})
    .filter(([, c]) => c.enabled)
    .map(([name, c]) => (c.healthy ? `${name} ok` : `${name} DOWN${c.detail ? ` (${c.detail})` : ''}`));
  parts.push(chans.length ? chans.join(', ') : 'no channel enabled');
  return parts.join('; ');
}
