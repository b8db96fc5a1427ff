/**
 * The SIP server pool at work (`voip.servers`): keeps the UA's outbound proxy and its
 * registration on the active server, feeds every REGISTER / INVITE / OPTIONS outcome to the pure
 * rules (pool-rules.ts), moves the registration when they say so (failover, failback), and probes
 * the servers that are down with OPTIONS every `probeInterval`.
 */
import type { Clock } from '../../../util/clock.js';
import type { Logger } from '../../../util/log.js';
import { randomToken } from '../sip/transaction/branch.js';
import type { Endpoint } from '../sip/transport/transport.js';
import { Registration, type RegistrationStatus } from '../sip/ua/registration.js';
import type { FinalResult, SipUserAgent } from '../sip/ua/user-agent.js';
import type { InviteResult } from '../sip/ua/outbound-call.js';
import { callOrder, describeResult, dueProbes, initialPool, parseRetryAfter, serverFailed, step, type Move, type PoolState, type RequestResult, type ServerHealth } from './pool-rules.js';

export interface PoolMember {
  name: string;
  /** Unset when the name did not resolve (the server counts as down; probes resolve again). */
  endpoint?: Endpoint;
  error?: string;
}

export interface ServerPoolOptions {
  ua: SipUserAgent;
  members: PoolMember[];
  /** Resolves a server name again (one that did not resolve at start). */
  resolve: (name: string) => Promise<Endpoint>;
  /** Register to the active server (voip.register); else only calls and probes use the pool. */
  register: boolean;
  /** Requested expiry, seconds. */
  expires: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  failback: boolean;
  probeIntervalMs: number;
  clock: Clock;
  logger: Logger;
  /** Called after every move (and once at start) with the active server and its registration. */
  onActive?: (a: ActiveServer) => void;
}

export interface ActiveServer {
  index: number;
  name: string;
  endpoint: Endpoint;
  registration?: Registration;
}

export interface PoolServerStatus {
  server: string;
  state: ServerHealth;
  active: boolean;
  reason?: string;
  since?: number;
}

export interface PoolStatus {
  /** The active server's name. */
  active: string;
  failback: boolean;
  servers: PoolServerStatus[];
  /** Numbers for /metrics (arrays are not exported there). */
  counts: { servers: number; down: number; activeIndex: number; failovers: number; failbacks: number };
}

/** A REGISTER or OPTIONS outcome in the rules' words. */
export function resultOfFinal(r: FinalResult): RequestResult {
  switch (r.kind) {
    case 'timeout':
      return { kind: 'timeout' };
    case 'transport-error':
      return { kind: 'transport-error', message: r.error.message };
    case 'response':
    case 'auth-failed': {
      const res = r.response;
      const retryAfterS = res.status >= 500 ? parseRetryAfter(res.headers.get('Retry-After')) : undefined;
      return { kind: 'answered', status: res.status, reason: res.reason, ...(retryAfterS !== undefined ? { retryAfterS } : {}) };
    }
  }
}

/** An INVITE outcome in the rules' words (answered, cancelled, a bad 2xx: the server is alive). */
export function resultOfInvite(r: InviteResult): RequestResult {
  switch (r.kind) {
    case 'timeout':
      // Timer B after a provisional answer: the server is alive, what lies behind it is not.
      return r.silent === false ? { kind: 'answered', status: 408, reason: r.reason } : { kind: 'timeout', detail: r.reason };
    case 'failed':
      return r.transport ? { kind: 'transport-error', message: r.reason.replace(/^transport error: /, '') } : { kind: 'answered', status: 200, reason: 'answered' };
    case 'rejected': {
      const retryAfterS = r.status >= 500 ? parseRetryAfter(r.retryAfter) : undefined;
      return { kind: 'answered', status: r.status, reason: r.reason.replace(/^\d{3} /, ''), ...(retryAfterS !== undefined ? { retryAfterS } : {}) };
    }
    case 'cancelled':
      return { kind: 'answered', status: r.status ?? 487, reason: 'cancelled' };
    case 'answered':
      return { kind: 'answered', status: r.response.status, reason: r.response.reason };
  }
}

export class ServerPool {
  private state: PoolState;
  private readonly endpoints: (Endpoint | undefined)[];
  private registration: Registration | undefined;
  /** Index the registration (and outbound proxy) is on now; `state.active` is where it should be. */
  private placed = -1;
  private chain: Promise<void> = Promise.resolve();
  private readonly probing = new Set<number>();
  private stopProbes: (() => void) | undefined;
  private stopped = false;
  private readonly log: Logger;

  constructor(private readonly opts: ServerPoolOptions) {
    this.state = initialPool(opts.members.map((m) => m.name), opts.failback);
    this.endpoints = opts.members.map((m) => m.endpoint);
    this.log = opts.logger;
  }

  get size(): number {
    return this.state.servers.length;
  }

  /** The active server (registrar / outbound proxy). */
  active(): ActiveServer {
    const i = this.placed >= 0 ? this.placed : this.state.active;
    return { index: i, name: this.state.servers[i]!.name, endpoint: this.endpoints[i] ?? this.opts.ua.outboundProxy, ...(this.registration ? { registration: this.registration } : {}) };
  }

  registrationStatus(): RegistrationStatus | undefined {
    return this.registration?.status();
  }

  /** Every resolved server (the sipmsg channel accepts MESSAGEs from any of them). */
  endpointsKnown(): Endpoint[] {
    return this.endpoints.filter((e): e is Endpoint => e !== undefined);
  }

  /**
   * Places the registration on the first server that is up: unresolved servers count as down,
   * a registrar that fails moves it to the next. Resolves once that settled (registered
   * somewhere, or every server tried), then probes the ones that are down.
   */
  async start(): Promise<void> {
    this.stopped = false;
    const now = this.opts.clock.now();
    this.opts.members.forEach((m, i) => {
      if (!m.endpoint) this.apply(i, { kind: 'transport-error', message: `cannot resolve ${m.name}: ${m.error ?? 'no address'}` }, now);
    });
    this.enqueue(() => this.place());
    await this.idle();
    this.scheduleProbes();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopProbes?.();
    this.stopProbes = undefined;
    await this.chain.catch(() => {});
    const reg = this.registration;
    this.registration = undefined;
    await reg?.stop().catch(() => {});
  }

  /** Servers for one call attempt, in order (each once); unresolved ones are left out. */
  callRoute(): { index: number; name: string; endpoint: Endpoint }[] {
    return callOrder(this.state).flatMap((i) => {
      const endpoint = this.endpoints[i];
      return endpoint ? [{ index: i, name: this.state.servers[i]!.name, endpoint }] : [];
    });
  }

  /** How an INVITE to server `index` ended; returns whether the server counts as down now. */
  reportCall(index: number, r: InviteResult): boolean {
    const result = resultOfInvite(r);
    this.apply(index, result, this.opts.clock.now());
    return serverFailed(result);
  }

  status(): PoolStatus {
    const s = this.state;
    const activeIndex = this.active().index;
    return {
      active: s.servers[activeIndex]!.name,
      failback: s.failback,
      servers: s.servers.map((x, i) => ({
        server: x.name,
        state: x.health,
        active: i === activeIndex,
        ...(x.reason !== undefined ? { reason: x.reason } : {}),
        ...(x.since !== undefined ? { since: x.since } : {}),
      })),
      counts: { servers: s.servers.length, down: s.servers.filter((x) => x.health === 'down').length, activeIndex, failovers: s.failovers, failbacks: s.failbacks },
    };
  }

  /** Probes every server but the active one once, now, and waits for the answers and any move they cause (doctor). */
  async probeOthers(): Promise<void> {
    const active = this.placed;
    await Promise.all(this.state.servers.map((_, i) => (i === active || this.probing.has(i) ? undefined : this.probe(i))));
    await this.idle();
  }

  /** Waits until no move is pending (tests and start). */
  async idle(): Promise<void> {
    let c: Promise<void>;
    do {
      c = this.chain;
      await c;
    } while (c !== this.chain);
  }

  // ---- internals -------------------------------------------------------------------------------

  private apply(index: number, result: RequestResult, now: number): void {
    if (this.stopped) return;
    const before = this.state.servers[index]?.health;
    const d = step(this.state, { type: 'result', index, result, now });
    this.state = d.state;
    const after = this.state.servers[index]?.health;
    const name = this.state.servers[index]?.name;
    if (before !== after) {
      if (after === 'down') this.log.warn('voip.server_down', { server: name, reason: describeResult(result) });
      else if (before === 'down') this.log.info('voip.server_up', { server: name, reason: describeResult(result) });
    }
    if (d.move) this.logMove(d.move, describeResult(result));
    if (d.move || this.placed !== this.state.active) this.enqueue(() => this.place());
  }

  private logMove(m: Move, reason: string): void {
    const from = this.state.servers[m.from]!.name;
    const to = this.state.servers[m.to]!.name;
    if (m.why === 'failover') this.log.warn('voip.failover', { from, to, reason });
    else if (m.why === 'failback') this.log.info('voip.failback', { from, to, reason: `${to} is preferred and answers again (${reason})` });
    else this.log.info('voip.recover', { from, to, reason: `${from} is down; ${to} answers again (${reason})` });
  }

  private enqueue(fn: () => Promise<void>): void {
    this.chain = this.chain.then(fn).catch((e: Error) => this.log.error('voip.pool_error', { error: e.message }));
  }

  /** Moves the outbound proxy and the registration to `state.active` (when not already there). */
  private async place(): Promise<void> {
    if (this.stopped) return;
    const to = this.state.active;
    if (to === this.placed) return;
    const endpoint = this.endpoints[to];
    if (!endpoint) return; // a server that did not resolve is down: the rules never pick it while another is up
    const old = this.registration;
    const from = this.placed;
    this.registration = undefined;
    if (old) {
      // Failback: the server we leave is alive, remove our binding there first (a shared
      // location database would otherwise route to a binding we no longer refresh). After a
      // failover it is down: don't wait for its answer.
      const leaving = old.status().state === 'registered' && from >= 0 && this.state.servers[from]?.health !== 'down';
      if (leaving) await old.stop().catch(() => {});
      else void old.stop().catch(() => {});
    }
    if (this.stopped) return;
    this.placed = to;
    this.opts.ua.setOutboundProxy(endpoint);
    let reg: Registration | undefined;
    if (this.opts.register) {
      reg = new Registration(this.opts.ua, {
        expires: this.opts.expires,
        registrar: endpoint,
        ...(this.opts.retryMinMs !== undefined ? { retryMinMs: this.opts.retryMinMs } : {}),
        ...(this.opts.retryMaxMs !== undefined ? { retryMaxMs: this.opts.retryMaxMs } : {}),
        onResult: (r) => {
          if (this.registration === reg) this.apply(to, resultOfFinal(r), this.opts.clock.now());
        },
      });
      this.registration = reg;
    }
    this.opts.onActive?.({ index: to, name: this.state.servers[to]!.name, endpoint, ...(reg ? { registration: reg } : {}) });
    if (reg) {
      this.log.info('voip.registering', { server: this.state.servers[to]!.name });
      await reg.start();
    }
  }

  /** Probes run for a pool (one server alone keeps the registration's own retries, as before pools). */
  private scheduleProbes(): void {
    if (this.stopped || this.size < 2) return;
    this.stopProbes = this.opts.clock.setTimer(() => {
      this.stopProbes = undefined;
      for (const i of dueProbes(this.state, this.opts.clock.now())) if (!this.probing.has(i)) void this.probe(i);
      this.scheduleProbes();
    }, this.opts.probeIntervalMs);
  }

  /** OPTIONS to a down server: any answer but a 5xx brings it back. */
  private async probe(i: number): Promise<void> {
    this.probing.add(i);
    const name = this.state.servers[i]!.name;
    try {
      let ep = this.endpoints[i];
      if (!ep) {
        try {
          ep = await this.opts.resolve(name);
          this.endpoints[i] = ep;
        } catch (e) {
          this.apply(i, { kind: 'transport-error', message: `cannot resolve ${name}: ${(e as Error).message}` }, this.opts.clock.now());
          return;
        }
      }
      const r = await this.options(ep, name);
      if (this.stopped) return;
      const result = resultOfFinal(r);
      this.log.debug('voip.probe', { server: name, result: describeResult(result) });
      this.apply(i, result, this.opts.clock.now());
      // Every server was down and the one we stayed on answers again: register now rather than
      // at the end of the registration's backoff.
      if (i === this.placed && !serverFailed(result)) this.registration?.retryNow();
    } finally {
      this.probing.delete(i);
    }
  }

  private async options(ep: Endpoint, name: string): Promise<FinalResult> {
    const ua = this.opts.ua;
    try {
      await ua.prepare(ep);
    } catch (e) {
      return { kind: 'transport-error', error: e as Error };
    }
    const uri = `sip:${name}`;
    const req = ua.buildRequest({
      method: 'OPTIONS',
      uri,
      from: ua.localParty(randomToken(6)),
      to: `<${uri}>`,
      callId: ua.newCallId(),
      cseq: 1,
      extra: [['Accept', 'application/sdp']],
    });
    return ua.sendNonInvite(req, ep);
  }
}
