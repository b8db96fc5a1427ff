/**
 * The sipmsg channel (RFC 3428) against sipp on loopback, through the voip channel's UA (shared
 * with a SipLine, as the daemon's factories do): the MESSAGE a proxy receives (challenged with
 * 401 first), how its final status becomes an outcome, and MESSAGEs written back to us.
 */
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, onTestFailed } from 'vitest';
import { sipmsgSchema } from '../../../src/config/schema.js';
import type { InboundSink, Sender } from '../../../src/channels/channel.js';
import { SipMessageChannel } from '../../../src/channels/sipmsg/sipmsg-channel.js';
import { SipLine } from '../../../src/channels/voip/sip-line.js';
import { freePort, job, makeChannel, startSipp } from '../voip/sipp/helpers.js';
import { scenarioCopy as copyScenario, sippClient } from './sipp.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

let cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  cleanup = [];
});

function recordingSink(answer: string | null = null) {
  const got: { from: Sender; text: string; via: string }[] = [];
  const sink: InboundSink = {
    message: async (from, text, via) => {
      got.push({ from, text, via });
      return answer;
    },
    callBack: async () => null,
  };
  return { sink, got };
}

async function setup(serverPort: number, inbound?: InboundSink, sipmsg: Record<string, unknown> = {}, voip: Record<string, unknown> = {}) {
  const line = new SipLine();
  const made = makeChannel(serverPort, { domain: 'alertline.test', ...voip }, { line });
  onTestFailed(() => console.log(made.logger.lines.join('\n')));
  await made.channel.start();
  cleanup.push(() => made.channel.stop());
  const channel = new SipMessageChannel({ config: sipmsgSchema.parse({ enabled: true, ...sipmsg }), line, logger: made.logger, ...(inbound ? { inbound } : {}) });
  await channel.start();
  cleanup.push(() => channel.stop());
  const local = /:(\d+)$/.exec(made.channel.status().local ?? '')?.[1];
  return { channel, voip: made.channel, logger: made.logger, localPort: Number(local) };
}

function scenarioCopy(name: string, values: Record<string, string | number>): string {
  const dir = copyScenario(name, values);
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function proxyAnswering(status: number, reason: string) {
  const sipp = await startSipp('message-receive.xml', { dir: scenarioCopy('message-receive.xml', { status, reason }) });
  cleanup.push(() => sipp.kill());
  return sipp;
}

/** The person writing back, and us. */
const PHONE = { from: 'sip:201@alertline.test', to: 'sip:200@alertline.test' };

const sendJob = () => ({ ...job('201'), address: '201' });

describe('sipmsg: MESSAGE out', () => {
  it('the short text and the ack hint as text/plain, no Contact, 401 answered with digest; 202 = delivered (handed on)', async () => {
    const sipp = await proxyAnswering(202, 'Accepted');
    const { channel } = await setup(sipp.port);
    const out = await channel.deliver(sendJob(), new AbortController().signal);
    const run = await sipp.done;
    onTestFailed(() => console.log(run.output));
    expect(run.code).toBe(0);
    expect(out.kind).toBe('delivered');
    expect(out.reason).toBe('202 Accepted (handed on, not necessarily read)');
    expect(out.detail).toMatchObject({ status: 202, target: 'sip:201@alertline.test' });
    expect(run.output).toContain('Content-Type: text/plain;charset=UTF-8');
  });

  it.each([
    [404, 'Not Found', 'rejected', false],
    [480, 'Temporarily Unavailable', 'no-answer', true],
    [503, 'Service Unavailable', 'failed', true],
    [603, 'Decline', 'rejected', false],
  ] as const)('final %i %s → %s, retryable: %s', async (status, reason, kind, retryable) => {
    const sipp = await proxyAnswering(status, reason);
    const { channel } = await setup(sipp.port);
    const out = await channel.deliver(sendJob(), new AbortController().signal);
    expect(out.kind).toBe(kind);
    expect(out.retryable).toBe(retryable);
    expect(out.reason).toContain(`${status}`);
    expect((await sipp.done).code).toBe(0);
  });

  it('without a running voip channel: a retryable failure, and health says why', async () => {
    const line = new SipLine();
    const channel = new SipMessageChannel({ config: sipmsgSchema.parse({ enabled: true }), line, logger: (await import('../../../src/util/log.js')).memoryLogger() });
    expect(channel.health().healthy).toBe(false);
    expect(channel.health().detail).toContain('voip channel not running');
    const out = await channel.deliver(sendJob(), new AbortController().signal);
    expect(out).toMatchObject({ kind: 'failed', retryable: true });
  });

  it('a sips: address over UDP is refused, never sent in clear', async () => {
    const sipp = await proxyAnswering(200, 'OK');
    const { channel } = await setup(sipp.port);
    const out = await channel.deliver({ ...sendJob(), address: 'sips:201@alertline.test' }, new AbortController().signal);
    expect(out.kind).toBe('rejected');
    expect(out.reason).toContain('needs voip.transport tls');
  });
});

describe('sipmsg: MESSAGE back', () => {
  it('"ack 12" from the user through the proxy → answered 200, handed to the inbound sink as {sip}, and its answer goes back as a MESSAGE', async () => {
    const proxy = await startSipp('answer-receive.xml', { dir: HERE });
    cleanup.push(() => proxy.kill());
    const { sink, got } = recordingSink('Acknowledged #12');
    const { localPort, logger } = await setup(proxy.port, sink);
    // the phone's MESSAGE comes from the proxy's host (another port: sipp runs one scenario per socket)
    const run = await sippClient('message-send.xml', {
      target: `127.0.0.1:${localPort}`,
      port: await freePort(),
      dir: scenarioCopy('message-send.xml', { ...PHONE, text: 'ack 12', ctype: 'text/plain;charset=UTF-8' }),
    });
    onTestFailed(() => console.log(run.output));
    expect(run.code).toBe(0);
    expect(got).toHaveLength(1);
    expect(got[0]!.from).toEqual({ sip: 'sip:201@alertline.test' });
    expect(got[0]!.text.trim()).toBe('ack 12');
    expect(got[0]!.via).toBe('sipmsg');
    const answered = await proxy.done;
    onTestFailed(() => console.log(answered.output));
    expect(answered.code).toBe(0);
    for (let i = 0; i < 20 && !logger.lines.some((l) => l.includes('sipmsg.answered')); i++) await new Promise((r) => setTimeout(r, 50));
    expect(logger.lines.join('\n')).toMatch(/sipmsg\.answered .*kind=delivered/);
  });

  it('a body that is not text/plain → 415, nothing read', async () => {
    const proxyPort = await freePort();
    const { sink, got } = recordingSink();
    const { localPort } = await setup(proxyPort, sink);
    const run = await sippClient('message-send-refused.xml', { target: `127.0.0.1:${localPort}`, port: proxyPort, dir: scenarioCopy('message-send-refused.xml', { ...PHONE, text: '<b>1</b>', ctype: 'text/html' }) });
    expect(run.code).toBe(0);
    expect(run.output).toContain('SIP/2.0 415 Unsupported Media Type');
    expect(got).toHaveLength(0);
  });

  it('a MESSAGE straight to our port from another address (not through the proxy) → 403, nothing read', async () => {
    const proxyPort = await freePort();
    const { sink, got } = recordingSink();
    const { localPort } = await setup(proxyPort, sink);
    const stranger = await freePort();
    const run = await sippClient('message-send-refused.xml', { target: `127.0.0.1:${localPort}`, port: stranger, ip: '127.0.0.2', dir: scenarioCopy('message-send-refused.xml', { ...PHONE, text: '1', ctype: 'text/plain' }) });
    expect(run.code).toBe(0);
    expect(run.output).toContain('SIP/2.0 403 Forbidden');
    expect(got).toHaveLength(0);
  });

  it('voip.servers: the same MESSAGE from the second server of the pool (not the active one) is read', async () => {
    const proxyPort = await freePort();
    const second = await freePort();
    const { sink, got } = recordingSink();
    const { localPort, channel } = await setup(proxyPort, sink, {}, { servers: [`127.0.0.1:${proxyPort}`, `127.0.0.2:${second}`] });
    expect(channel.status()).toMatchObject({ line: 'up', server: `127.0.0.1:${proxyPort}` });
    const run = await sippClient('message-send.xml', { target: `127.0.0.1:${localPort}`, port: second, ip: '127.0.0.2', dir: scenarioCopy('message-send.xml', { ...PHONE, text: '1', ctype: 'text/plain' }) });
    expect(run.code).toBe(0);
    expect(got.map((g) => [g.from.sip, g.text.trim()])).toEqual([['sip:201@alertline.test', '1']]);
  });

  it('with sipmsg.acceptDirect the same MESSAGE from another address is read', async () => {
    const proxyPort = await freePort();
    const { sink, got } = recordingSink();
    const { localPort } = await setup(proxyPort, sink, { acceptDirect: true });
    const run = await sippClient('message-send.xml', { target: `127.0.0.1:${localPort}`, port: await freePort(), ip: '127.0.0.2', dir: scenarioCopy('message-send.xml', { ...PHONE, text: '1', ctype: 'text/plain' }) });
    expect(run.code).toBe(0);
    expect(got.map((g) => [g.from.sip, g.text.trim()])).toEqual([['sip:201@alertline.test', '1']]);
  });
});
