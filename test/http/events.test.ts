/** GET /api/v1/events: attempt changes (started, ended with their outcome) and alert changes from a delivering channel. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { startHttpDaemon } from './helpers.js';
import { waitFor } from '../helpers/env.js';
import { FakeChannel } from '../helpers/fake-channel.js';

let d: Awaited<ReturnType<typeof startHttpDaemon>>;
let release: () => void = () => {};
beforeAll(async () => {
  const gate = new Promise<void>((r) => (release = r));
  const ch = new FakeChannel('mail', async () => {
    await gate;
    return { kind: 'delivered', reason: 'relayed', retryable: false };
  });
  d = await startHttpDaemon({ channels: { order: ['mail'], mail: { enabled: true } }, http: { } }, { factories: { mail: async () => ch } });
});
afterAll(async () => {
  release();
  await d?.stop();
});

function subscribe(token: string) {
  const events: { event: string; data: any }[] = [];
  const req = http.get(new URL('/api/v1/events', d.base), { headers: { authorization: `Bearer ${token}` } });
  const opened = new Promise<http.IncomingMessage>((r) => req.once('response', r)).then((res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      buf += c;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
      }
    });
    return res;
  });
  return { events, opened, close: () => req.destroy() };
}

describe('event stream', () => {
  it('sends the attempt when it starts and again when it ends, and the alert as its state moves', async () => {
    const s = subscribe(d.tokens.read);
    try {
      const res = await s.opened;
      expect(res.statusCode).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
      const t = await d.req('POST', '/api/v1/alerts', { token: 'ingest', json: { summary: 'stream me', action: 'trigger', to: ['oncall@alerts.example'] } });
      const id = t.json.accepted[0].id;
      const started = await waitFor(() => s.events.find((e) => e.event === 'attempt' && e.data.alertId === id && e.data.endedAt === null), 10_000);
      expect(started.data.channel).toBe('mail');
      release();
      const ended = await waitFor(() => s.events.find((e) => e.event === 'attempt' && e.data.id === started.data.id && e.data.outcome === 'delivered'), 10_000);
      expect(ended.data.endedAt).toBeGreaterThanOrEqual(started.data.startedAt);
      await waitFor(() => s.events.some((e) => e.event === 'alert' && e.data.id === id && e.data.state === 'delivered'), 10_000);
      const states = s.events.filter((e) => e.event === 'alert' && e.data.id === id).map((e) => e.data.state);
      expect(['pending', 'notifying']).toContain(states[0]); // states within one poll are coalesced to the latest
      expect(new Set(states).size).toBe(states.length); // each state once
    } finally {
      s.close();
    }
  });

  it('needs a token with read scope', async () => {
    expect((await d.req('GET', '/api/v1/events', { token: null })).status).toBe(401);
    expect((await d.req('GET', '/api/v1/events', { token: 'ingest' })).status).toBe(403);
  });
});
