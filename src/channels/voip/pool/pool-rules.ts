/**
 * The SIP server pool's rules (`voip.servers`), pure: which answers mean a server is down, which
 * server we register to, where a call goes next, which servers are probed, and when we move.
 *
 * - A server is down after a transaction timeout, a transport error (no connection, refused
 *   certificate) or a 5xx answer (RFC 3263 §4.3: 503 → try the next server); a 503's
 *   Retry-After keeps it down (unprobed) that long. Any other answer means it is alive.
 * - The active server (registrar and outbound proxy) is the first one in the configured order
 *   that is not down. When it fails we fail over to the next such server; when every server is
 *   down we stay where we are (its registration retries with backoff, the probes find the first
 *   one back).
 * - Down servers are probed (OPTIONS) every `probeInterval`. A probe answered means up; if the
 *   server ranks above the active one and `failback` is on, we move back to it. When the active
 *   server is itself down, any server back up is taken, failback or not.
 * - A call tries the active server, then the other servers that are not down, in order, each
 *   once in the same attempt; when none is healthy, every server once in order.
 */

export type ServerHealth = 'unknown' | 'up' | 'down';

export interface PoolServer {
  /** As written in the config ("pbx1.example.com:5060"). */
  name: string;
  health: ServerHealth;
  /** Why it is down (or the last answer that showed it up). */
  reason?: string;
  /** When the health last changed (ms since epoch). */
  since?: number;
  /** A 503 with Retry-After: not probed before this (ms since epoch). */
  downUntil?: number;
}

export interface PoolState {
  servers: readonly PoolServer[];
  /** Index of the registrar / outbound proxy in use. */
  active: number;
  failback: boolean;
  failovers: number;
  failbacks: number;
}

/** How a request to one server ended, in the words the rules need. */
export type RequestResult =
  | { kind: 'answered'; status: number; reason: string; retryAfterS?: number }
  | { kind: 'timeout'; /** What went unanswered, e.g. "no response to INVITE within 5 s". */ detail?: string }
  | { kind: 'transport-error'; message: string };

/** Whether the result says the server itself is down (fail over), not the request or the callee. */
export function serverFailed(r: RequestResult): boolean {
  return r.kind !== 'answered' || (r.status >= 500 && r.status <= 599);
}

export function describeResult(r: RequestResult): string {
  switch (r.kind) {
    case 'timeout':
      return r.detail ?? 'no answer (transaction timeout)';
    case 'transport-error':
      return `transport error: ${r.message}`;
    case 'answered':
      return `${r.status} ${r.reason}${r.retryAfterS !== undefined ? ` (Retry-After ${r.retryAfterS} s)` : ''}`;
  }
}

/** Retry-After (RFC 3261 §20.33): delta-seconds, optionally a comment and parameters. */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d{1,10})(?:\s|;|\(|$)/.exec(value);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? Math.min(n, 86_400) : undefined;
}

export function initialPool(names: readonly string[], failback: boolean): PoolState {
  if (names.length === 0) throw new Error('a SIP server pool needs at least one server');
  return { servers: names.map((name) => ({ name, health: 'unknown' })), active: 0, failback, failovers: 0, failbacks: 0 };
}

export type PoolEvent =
  /** A request (REGISTER, INVITE, OPTIONS probe) to server `index` ended this way. */
  | { type: 'result'; index: number; result: RequestResult; now: number };

export interface Move {
  from: number;
  to: number;
  /** failover: the active server failed; failback: the preferred one is back; recover: the active one is down and another came back. */
  why: 'failover' | 'failback' | 'recover';
}

export interface Decision {
  state: PoolState;
  /** Set when the active server changes: re-register at `to` (and send calls there). */
  move?: Move;
}

function firstNotDown(servers: readonly PoolServer[], except = -1): number {
  return servers.findIndex((s, i) => i !== except && s.health !== 'down');
}

export function step(state: PoolState, ev: PoolEvent): Decision {
  const { index, result, now } = ev;
  const cur = state.servers[index];
  if (!cur) return { state };
  const failed = serverFailed(result);
  const health: ServerHealth = failed ? 'down' : 'up';
  const next: PoolServer = {
    name: cur.name,
    health,
    reason: describeResult(result),
    since: cur.health === health && cur.since !== undefined ? cur.since : now,
  };
  if (failed && result.kind === 'answered' && result.retryAfterS !== undefined && result.retryAfterS > 0) next.downUntil = now + result.retryAfterS * 1000;
  const servers = state.servers.map((s, i) => (i === index ? next : s));
  let s: PoolState = { ...state, servers };
  const active = state.active;

  if (failed && index === active) {
    const to = firstNotDown(servers, active);
    if (to < 0) return { state: s }; // every server down: stay, retry, probe
    s = { ...s, active: to, failovers: s.failovers + 1 };
    return { state: s, move: { from: active, to, why: 'failover' } };
  }
  if (!failed && index !== active) {
    if (servers[active]!.health === 'down') {
      const to = firstNotDown(servers);
      if (to >= 0 && to !== active) return { state: { ...s, active: to }, move: { from: active, to, why: 'recover' } };
    } else if (state.failback && index < active) {
      return { state: { ...s, active: index, failbacks: s.failbacks + 1 }, move: { from: active, to: index, why: 'failback' } };
    }
  }
  return { state: s };
}

/** Servers for one call attempt, in the order to try them (each once). */
export function callOrder(state: PoolState): number[] {
  const healthy = state.servers.map((_, i) => i).filter((i) => state.servers[i]!.health !== 'down');
  if (healthy.length === 0) return state.servers.map((_, i) => i);
  const rest = healthy.filter((i) => i !== state.active);
  return healthy.includes(state.active) ? [state.active, ...rest] : rest;
}

/** Servers to probe now: the down ones whose Retry-After (if any) has passed. */
export function dueProbes(state: PoolState, now: number): number[] {
  return state.servers.map((_, i) => i).filter((i) => {
    const s = state.servers[i]!;
    return s.health === 'down' && (s.downUntil === undefined || now >= s.downUntil);
  });
}
