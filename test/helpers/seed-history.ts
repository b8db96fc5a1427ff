/** Bulk history for retention and backup tests: ended alerts with a delivery, an attempt and events each, written straight in SQL. */
import type { Db } from '../../src/store/database.js';

export function seedHistory(db: Db, o: { count: number; receivedAt: number; rawBytes?: number; state?: string; subjectPrefix?: string; spreadMs?: number }): void {
  const raw = Buffer.alloc(o.rawBytes ?? 2000, 0x61);
  const ins = db.prepare(`INSERT INTO alerts (received_at, kind, subject, host, severity, event_id, problem_key, text, mail_from, rcpt, message_id, client, raw, state, updated_at)
    VALUES (?, 'problem', ?, 'db1', 'High', NULL, ?, 'text', 'zabbix@monitor.example', '["oncall@alerts.example"]', NULL, '127.0.0.1', ?, ?, ?)`);
  const del = db.prepare(`INSERT INTO deliveries (alert_id, user_email, dedupe_key, state, next_at, created_at, updated_at) VALUES (?, 'oncall@alerts.example', ?, ?, ?, ?, ?)`);
  const att = db.prepare(`INSERT INTO attempts (delivery_id, alert_id, channel, target, round, started_at, ended_at, outcome, reason) VALUES (?, ?, 'mail', 'oncall@alerts.example', 1, ?, ?, 'delivered', '250 ok')`);
  const ev = db.prepare('INSERT INTO alert_events (alert_id, at, kind, detail) VALUES (?, ?, ?, ?)');
  const state = o.state ?? 'delivered';
  const dstate = state === 'pending' || state === 'notifying' ? 'queued' : 'done';
  db.transaction(() => {
    for (let i = 0; i < o.count; i++) {
      const t = o.receivedAt + (o.spreadMs ? Math.floor((i * o.spreadMs) / o.count) : 0);
      const subject = `${o.subjectPrefix ?? 'Problem: old'} ${i}`;
      const id = Number(ins.run(t, subject, `${subject}|db1`, raw, state, t + 1000).lastInsertRowid);
      const d = Number(del.run(id, subject, dstate, t, t, t + 1000).lastInsertRowid);
      att.run(d, id, t, t + 500);
      ev.run(id, t, 'received', 'seeded');
      ev.run(id, t + 1000, state, 'seeded');
    }
  })();
}
