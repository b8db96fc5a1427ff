/**
 * voip.servers over TLS against two real Kamailio registrars (tls module) on loopback: the first
 * one stopped → its connection closes, the registration moves to the second over a connection of
 * its own (our Contact names that connection, which is how Kamailio reaches us); the first one
 * started again on its port → its OPTIONS probe is answered → failback registers there again.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { makeChannel } from '../sipp/helpers.js';
import { PASSWORD, startKamailio, type Kamailio } from './kamailio.js';
import { makePki, type Pki } from './pki.js';

const DOMAIN = 'sip.alertline.test';
const resolver = async (host: string) => {
  if (host === DOMAIN || host === '127.0.0.1') return '127.0.0.1';
  throw new Error(`test resolver: unknown host ${host}`);
};

let pki: Pki;
let kams: Kamailio[] = [];
let cleanup: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  pki = makePki(DOMAIN);
});
afterAll(() => pki?.cleanup());
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  cleanup = [];
  for (const k of kams) await k.stop().catch(() => {});
  kams = [];
});

const until = async (what: string, cond: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not reached in ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

async function logged(k: Kamailio, re: RegExp): Promise<string> {
  for (let i = 0; i < 60 && !re.test(k.output()); i++) await new Promise((r) => setTimeout(r, 50));
  return k.output();
}

describe('voip.servers over TLS: two Kamailio registrars', () => {
  it('first stopped → registered at the second over its own TLS connection; first back → failback', async () => {
    const k1 = await startKamailio(pki, DOMAIN);
    const k2 = await startKamailio(pki, DOMAIN);
    kams.push(k1, k2);
    const S1 = `${DOMAIN}:${k1.port}`;
    const S2 = `${DOMAIN}:${k2.port}`;
    const made = makeChannel(
      0,
      {
        servers: [S1, S2],
        transport: 'tls',
        tls: { ca: pki.ca },
        domain: DOMAIN,
        username: 'alertline',
        password: PASSWORD,
        register: true,
        registerExpires: '300s',
        probeInterval: '1s',
      },
      { resolver, timers: { T1: 100 } },
    );
    onTestFailed(() => {
      console.log(made.logger.lines.join('\n'));
      console.log(k2.output().slice(-4000));
    });
    const channel = made.channel;
    await channel.start();
    cleanup.push(() => channel.stop());
    expect(channel.status()).toMatchObject({ server: S1, registration: { state: 'registered' } });
    const first = channel.status().local!;

    let k1again: Kamailio | undefined;
    await k1.stop();
    kams = kams.filter((k) => k !== k1);
    await until('registered at the second', () => channel.status().server === S2 && channel.status().registration.state === 'registered');
    const atSecond = channel.status().local!;
    expect(atSecond).not.toBe(first);
    expect(channel.status().pool!.servers[0]).toMatchObject({ server: S1, state: 'down', reason: expect.stringMatching(/^transport error: /) });
    // Kamailio 2 saw the REGISTER from the connection our Contact names
    const port2 = /:(\d+);transport=tls$/.exec(atSecond)![1];
    expect(await logged(k2, new RegExp(`REQ REGISTER sip:${DOMAIN.replace(/\./g, '\\.')} from 127\\.0\\.0\\.1:${port2} \\(tls\\)`))).toMatch(
      new RegExp(`REQ REGISTER sip:${DOMAIN.replace(/\./g, '\\.')} from 127\\.0\\.0\\.1:${port2} \\(tls\\)`),
    );

    k1again = await startKamailio(pki, DOMAIN, { port: k1.port });
    kams.push(k1again);
    await until('failback to the first', () => channel.status().server === S1 && channel.status().registration.state === 'registered');
    const back = channel.status().local!;
    const port1 = /:(\d+);transport=tls$/.exec(back)![1];
    const log1 = await logged(k1again, /REQ REGISTER/);
    expect(log1).toMatch(/REQ OPTIONS sip:sip\.alertline\.test:\d+ from 127\.0\.0\.1:\d+ \(tls\)/);
    expect(log1).toMatch(new RegExp(`REQ REGISTER sip:${DOMAIN.replace(/\./g, '\\.')} from 127\\.0\\.0\\.1:${port1} \\(tls\\)`));
    expect(made.logger.lines.filter((l) => l.includes('voip.failback'))).toHaveLength(1);
  }, 60_000);
});
