/**
 * The event stream (GET /api/v1/events, Server-Sent Events): alert and attempt changes. There is
 * no in-process event bus that sees every writer (the CLI changes the same database), so one
 * poller reads the store's change feed while anyone listens and fans the changes out. Each
 * event carries the row's state when polled (changes within one poll interval coalesce to the
 * latest; an attempt is sent when it starts and when it ends, once if both fall in one poll); the boundary millisecond is
 * deduplicated.
 */
import type { ServerResponse } from 'node:http';
import type { AlertChange, AttemptChange } from '../store/changes.js';
import type { Logger } from '../util/log.js';
import { safeTimeout } from '../util/timers.js';

export interface FeedSource {
  cursor(): Promise<{ alertsAt: number; attemptId: number; endedAt: number }>;
  alertsChangedSince(since: number, limit?: number): Promise<AlertChange[]>;
  attemptsChangedSince(afterId: number, endedSince: number, limit?: number): Promise<AttemptChange[]>;
}

export class EventHub {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private keepalive: NodeJS.Timeout | null = null;
  private cur: { alertsAt: number; attemptId: number; endedAt: number } | null = null;
  private sentAlerts = new Map<number, string>();
  private sentEnded = new Set<number>();
  private seq = 0;
  private polling = false;

  constructor(private readonly d: { feed: FeedSource; pollMs: number; logger: Logger; maxClients: number }) {}

  get size(): number {
    return this.clients.size;
  }

  /** Takes over the response (the caller hijacked it); false when full. */
  async add(res: ServerResponse): Promise<boolean> {
    if (this.clients.size >= this.d.maxClients) return false;
    if (!this.cur) this.cur = await this.d.feed.cursor();
    if (res.destroyed) return true; // the client left while the cursor was read
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 3000\n: connected\n\n');
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (!this.clients.size) this.idle();
    });
    this.schedule();
    this.keepalive ??= setInterval(() => { for (const c of this.clients) c.write(': keepalive\n\n'); }, 15_000);
    this.keepalive.unref();
    return true;
  }

  private idle(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.keepalive) clearInterval(this.keepalive);
    this.timer = this.keepalive = null;
    this.cur = null;
    this.sentAlerts.clear();
    this.sentEnded.clear();
  }

  private schedule(): void {
    if (this.timer || !this.clients.size) return;
    this.timer = safeTimeout(() => {
      this.timer = null;
      void this.poll().finally(() => this.schedule());
    }, this.d.pollMs);
  }

  private send(event: string, data: unknown): void {
    const line = `id: ${++this.seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of this.clients) c.write(line);
  }

  async poll(): Promise<void> {
    if (this.polling || !this.cur || !this.clients.size) return;
    this.polling = true;
    try {
      const cur = this.cur;
      const alerts = await this.d.feed.alertsChangedSince(cur.alertsAt);
      for (const a of alerts) {
        const key = `${a.updatedAt}:${a.state}`;
        if (this.sentAlerts.get(a.id) === key) continue;
        this.sentAlerts.set(a.id, key);
        this.send('alert', a);
      }
      if (alerts.length) {
        const last = alerts[alerts.length - 1]!.updatedAt;
        if (last > cur.alertsAt) {
          cur.alertsAt = last;
          for (const [id, k] of this.sentAlerts) if (!k.startsWith(`${last}:`)) this.sentAlerts.delete(id);
        }
      }
      const attempts = await this.d.feed.attemptsChangedSince(cur.attemptId, cur.endedAt);
      for (const t of attempts) {
        const isNew = t.id > cur.attemptId;
        const ended = t.endedAt !== null && t.endedAt >= cur.endedAt && !this.sentEnded.has(t.id);
        if (!isNew && !ended) continue;
        this.send('attempt', t);
        if (t.endedAt !== null) this.sentEnded.add(t.id);
      }
      for (const t of attempts) if (t.id > cur.attemptId) cur.attemptId = t.id;
      const maxEnded = Math.max(cur.endedAt, ...attempts.map((t) => t.endedAt ?? 0));
      if (maxEnded > cur.endedAt) {
        cur.endedAt = maxEnded;
        const keep = new Set(attempts.filter((t) => t.endedAt === maxEnded).map((t) => t.id));
        this.sentEnded = keep;
      }
    } catch (e) {
      this.d.logger.warn('http.events_poll_failed', { error: e as Error });
    } finally {
      this.polling = false;
    }
  }

  close(): void {
    for (const c of this.clients) c.end();
    this.clients.clear();
    this.idle();
  }
}
