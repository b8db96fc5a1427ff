/**
 * The SIP server pool (voip.servers) against two real sipp servers on 127.0.0.1, each a
 * registrar, OPTIONS responder and callee (pool-server.xml): the first one is killed, the
 * registration and the calls move to the second; the first one is started again on its port and
 * (with failback) the registration returns to it. Timers are shortened through the channel's
 * options and config (T1 50 ms → transaction timeout 3.2 s, probes every 1 s).
 */
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { job, makeChannel, rtpSink, startSipp, type SippRun } from './helpers.js';
import type { VoipChannel, VoipStatus } from '../../../../src/channels/voip/voip-channel.js';
import { statusLeaves } from '../../../../src/http/metrics.js';

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  cleanup = [];
});

const until = async (what: string, cond: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not reached in ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

function within<T>(p: Promise<T>, ms = 20_000): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms).unref())]);
}

async function poolServer(rtpport: number, port?: number, scenario = 'pool-server.xml'): Promise<SippRun> {
  // only the callee scenario points media somewhere
  const s = await startSipp(scenario, { maxCalls: 200, timeoutS: 60, ...(scenario === 'pool-server.xml' ? { vars: { rtpport } } : {}), ...(port ? { port } : {}) });
  cleanup.push(() => s.kill());
  return s;
}

async function setup(failback: boolean, first = 'pool-server.xml') {
  const sink = await rtpSink();
  cleanup.push(() => sink.close());
  const a = await poolServer(sink.port, undefined, first);
  const b = await poolServer(sink.port);
  const A = `127.0.0.1:${a.port}`;
  const B = `127.0.0.1:${b.port}`;
  const made = makeChannel(
    0,
    { servers: [A, B], register: true, registerExpires: '60s', probeInterval: '1s', serverTimeout: '500ms', failback },
    { timers: { T1: 50 }, registrationRetry: { retryMinMs: 200, retryMaxMs: 1000 } },
  );
  const channel: VoipChannel = made.channel;
  onTestFailed(() => console.log(made.logger.lines.join('\n')));
  await channel.start();
  cleanup.push(() => channel.stop());
  return { a, b, A, B, channel, logger: made.logger, sink };
}

const pool = (ch: VoipChannel) => ch.status().pool!;
const registered = (s: VoipStatus) => s.registration.state === 'registered';
const events = (lines: string[], name: string) => lines.filter((l) => l.includes(name));

describe('voip.servers: two sipp registrars', () => {
  it('first killed → a call placed at once still reaches the second (same attempt) and the registration moves; first back → failback registers there again', async () => {
    const { a, b, A, B, channel, logger, sink } = await setup(true);
    expect(channel.status()).toMatchObject({ server: A, registration: { state: 'registered' } });
    expect(pool(channel).servers).toMatchObject([{ server: A, state: 'up', active: true }, { server: B, state: 'unknown', active: false }]);
    expect(channel.health()).toEqual({ healthy: true, detail: `registered to ${A}` });

    await a.kill();
    // The pool has not noticed yet: the INVITE goes to A, which says nothing; after
    // serverTimeout the same attempt dials through B, which answers.
    const out = await within(channel.deliver(job('201'), new AbortController().signal));
    expect(out.kind).toBe('answered');
    expect(out.detail).toMatchObject({ server: B, failedOver: [A] });
    expect(sink.packets.length).toBeGreaterThan(20); // the message was played to B's callee
    expect(events(logger.lines, 'voip.call_failover').join('\n')).toContain(`from=${A} to=${B} reason="no response to INVITE within 0.5 s"`);

    // The INVITE's silence marked A down: the registration moved to B.
    await until('registered at B', () => channel.status().server === B && registered(channel.status()));
    expect(pool(channel).servers).toMatchObject([
      { server: A, state: 'down', active: false, reason: 'no response to INVITE within 0.5 s' },
      { server: B, state: 'up', active: true },
    ]);
    expect(pool(channel).counts).toMatchObject({ servers: 2, down: 1, activeIndex: 1, failovers: 1, failbacks: 0 });
    expect(channel.health()).toEqual({ healthy: true, detail: `registered to ${B}; down: ${A} (no response to INVITE within 0.5 s)` });
    expect(events(logger.lines, 'voip.failover')).toHaveLength(1);
    // /metrics exports the pool's numbers from the channel status as it is
    expect(statusLeaves(channel.status())).toEqual(expect.arrayContaining([['pool.counts.failovers', 1], ['pool.counts.down', 1], ['pool.counts.activeIndex', 1], ['registration.state', 'registered']]));

    // A second call goes straight to B.
    const again = await within(channel.deliver(job('201'), new AbortController().signal));
    expect(again.kind).toBe('answered');
    expect(again.detail).toMatchObject({ server: B });
    expect(again.detail).not.toHaveProperty('failedOver');

    // A comes back on its port: a probe is answered, the registration returns to A and the
    // binding at B is removed.
    const a2 = await poolServer(sink.port, a.port);
    await until('failback to A', () => channel.status().server === A && registered(channel.status()));
    expect(pool(channel).servers).toMatchObject([{ server: A, state: 'up', active: true }, { server: B, state: 'up', active: false }]);
    expect(pool(channel).counts).toMatchObject({ down: 0, activeIndex: 0, failovers: 1, failbacks: 1 });
    expect(events(logger.lines, 'voip.failback')).toEqual([expect.stringContaining(`from=${B} to=${A} reason="${A} is preferred and answers again (200 OK)"`)]);

    await channel.stop();
    await b.kill();
    await a2.kill();
    const atB = (await b.done).output;
    expect(atB).toMatch(/INVITE sip:201@alertline\.test/);
    expect(atB).toMatch(/REGISTER sip:alertline\.test[\s\S]*Expires: 0/);
    const atA2 = (await a2.done).output;
    expect(atA2).toMatch(/OPTIONS sip:127\.0\.0\.1:\d+ SIP\/2\.0/);
    expect(atA2).toMatch(/REGISTER sip:alertline\.test/);
  }, 40_000);

  it('failback: false → the registration moves on REGISTER timeout and stays on the second when the first returns (shown up)', async () => {
    const { a, A, B, channel, logger, sink } = await setup(false);
    await a.kill();
    // No call: the refresh of the 4 s binding (after 2 s) times out, the registration moves.
    await until('registered at B', () => channel.status().server === B && registered(channel.status()));
    expect(pool(channel).servers[0]).toMatchObject({ server: A, state: 'down', reason: 'no answer (transaction timeout)' });
    const a2 = await poolServer(sink.port, a.port);
    await until('A probed up', () => pool(channel).servers[0]!.state === 'up');
    expect(channel.status()).toMatchObject({ server: B, registration: { state: 'registered' } });
    expect(pool(channel)).toMatchObject({ failback: false, counts: { failovers: 1, failbacks: 0, activeIndex: 1 } });
    expect(events(logger.lines, 'voip.failback')).toHaveLength(0);
    expect(events(logger.lines, 'voip.server_up').join('\n')).toContain(A);
    await a2.kill();
  }, 40_000);

  it('the first server answers the INVITE 503 (Retry-After 30) → ACKed, the same attempt calls through the second; the first is down and not probed for 30 s', async () => {
    const { a, A, B, channel, logger } = await setup(true, 'pool-503.xml');
    expect(channel.status()).toMatchObject({ server: A, registration: { state: 'registered' } });
    const out = await within(channel.deliver(job('201'), new AbortController().signal));
    expect(out.kind).toBe('answered');
    expect(out.detail).toMatchObject({ server: B, failedOver: [A] });
    await until('registered at B', () => channel.status().server === B && registered(channel.status()));
    expect(pool(channel).servers[0]).toMatchObject({ server: A, state: 'down', reason: '503 Service Unavailable (Retry-After 30 s)' });
    // probes run every second, but Retry-After holds them off: A sees no OPTIONS
    await new Promise((r) => setTimeout(r, 1500));
    expect(events(logger.lines, 'voip.probe')).toEqual([]);
    await channel.stop();
    await a.kill();
    const atA = (await a.done).output;
    expect(atA).toMatch(/ACK sip:201@alertline\.test/);
    expect(atA).not.toMatch(/OPTIONS sip:/);
  }, 40_000);

  it('a server name that does not resolve counts as down: start registers at the next one; none resolving fails start naming each', async () => {
    const sink = await rtpSink();
    cleanup.push(() => sink.close());
    const b = await poolServer(sink.port);
    const B = `127.0.0.1:${b.port}`;
    const resolver = async (host: string) => {
      if (host === 'pbx-gone.test') throw new Error('getaddrinfo ENOTFOUND pbx-gone.test');
      return host;
    };
    const made = makeChannel(0, { servers: ['pbx-gone.test:5060', B], register: true, probeInterval: '1s' }, { timers: { T1: 50 }, resolver });
    onTestFailed(() => console.log(made.logger.lines.join('\n')));
    await made.channel.start();
    cleanup.push(() => made.channel.stop());
    expect(made.channel.status()).toMatchObject({ server: B, registration: { state: 'registered' } });
    expect(pool(made.channel).servers[0]).toMatchObject({ server: 'pbx-gone.test:5060', state: 'down', reason: 'transport error: cannot resolve pbx-gone.test:5060: getaddrinfo ENOTFOUND pbx-gone.test' });
    expect(events(made.logger.lines, 'voip.failover').join('\n')).toContain(`from=pbx-gone.test:5060 to=${B}`);

    const none = makeChannel(0, { servers: ['pbx-gone.test:5060', 'pbx-gone.test:5070'] }, { resolver });
    await expect(none.channel.start()).rejects.toThrow('no server of voip.servers resolves: pbx-gone.test:5060: getaddrinfo ENOTFOUND pbx-gone.test; pbx-gone.test:5070: getaddrinfo ENOTFOUND pbx-gone.test');
  }, 30_000);

  it('both servers killed → stays (retrying) with both shown down; the first started again → recovers to it', async () => {
    const { a, b, A, B, channel, logger, sink } = await setup(true);
    await a.kill();
    await b.kill();
    await until('both down', () => pool(channel).counts.down === 2, 25_000);
    expect(channel.health().healthy).toBe(false);
    expect(channel.health().detail).toMatch(new RegExp(`^failed at ${B.replace(/\./g, '\\.')}: no answer from registrar \\(timeout\\); down: ${A.replace(/\./g, '\\.')}`));
    const a2 = await poolServer(sink.port, a.port);
    await until('recovered to A', () => channel.status().server === A && registered(channel.status()), 20_000);
    expect(events(logger.lines, 'voip.recover').join('\n')).toContain(`from=${B} to=${A}`);
    await a2.kill();
  }, 60_000);
});
