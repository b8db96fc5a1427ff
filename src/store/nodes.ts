/**
 * The appliances sharing one database: each writes a heartbeat row (its channels and their
 * health, what it is running) every few seconds; `alertline status` lists them, the dispatcher
 * asks whether another live node can run a channel this one can't, and a node that stops
 * beating raises a self-alarm from the others. Rows and SQL only.
 */
import type { Sql } from './sql/driver.js';

export interface NodeStatus {
  hostname?: string;
  /** Channel name → whether it is enabled here and healthy now, with its detail. */
  channels: Record<string, { healthy: boolean; detail: string; busy: number }>;
  /** Steps running on this node now. */
  running: { alertId: number; deliveryId: number; channel: string; to: string }[];
  /** It stopped cleanly (no alarm for a node taken down on purpose). */
  stopped?: boolean;
}

export interface NodeRow {
  name: string;
  pid: number;
  startedAt: number;
  seenAt: number;
  status: NodeStatus;
}

export class NodeStore {
  constructor(private readonly q: Sql) {}

  async beat(name: string, pid: number, startedAt: number, now: number, status: NodeStatus): Promise<void> {
    await this.q.run(`INSERT INTO nodes (name, pid, started_at, seen_at, status) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(name) DO UPDATE SET pid = excluded.pid, started_at = excluded.started_at, seen_at = excluded.seen_at, status = excluded.status`,
    name, pid, startedAt, now, JSON.stringify(status));
  }

  async list(): Promise<NodeRow[]> {
    const rows = await this.q.all<{ name: string; pid: number; started_at: number; seen_at: number; status: string }>('SELECT * FROM nodes ORDER BY name');
    return rows.map((r) => ({ name: r.name, pid: r.pid, startedAt: r.started_at, seenAt: r.seen_at, status: JSON.parse(r.status) as NodeStatus }));
  }

  /** Another node, seen since `since`, with this channel healthy. */
  async elsewhere(self: string, channel: string, since: number): Promise<string | null> {
    for (const n of await this.list()) {
      if (n.name === self || n.seenAt < since) continue;
      if (n.status.channels?.[channel]?.healthy) return n.name;
    }
    return null;
  }

  /** Removes a node's row (it was retired: `alertline nodes forget`). */
  async forget(name: string): Promise<boolean> {
    return (await this.q.run('DELETE FROM nodes WHERE name = ?', name)) > 0;
  }
}
