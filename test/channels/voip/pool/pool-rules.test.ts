/** The SIP server pool's pure rules, as tables: what marks a server down, where we register, where a call goes. */
import { describe, expect, it } from 'vitest';
import {
  callOrder,
  dueProbes,
  initialPool,
  parseRetryAfter,
  serverFailed,
  step,
  type PoolState,
  type RequestResult,
} from '../../../../src/channels/voip/pool/pool-rules.js';

const T0 = Date.UTC(2026, 0, 1);
const timeout: RequestResult = { kind: 'timeout' };
const refused: RequestResult = { kind: 'transport-error', message: 'connect ECONNREFUSED' };
const ans = (status: number, retryAfterS?: number): RequestResult => ({ kind: 'answered', status, reason: 'x', ...(retryAfterS !== undefined ? { retryAfterS } : {}) });
const ok = ans(200);

/** Applies results in order; returns the final state and every move made. */
function run(state: PoolState, events: [index: number, r: RequestResult][]) {
  const moves: string[] = [];
  let s = state;
  events.forEach(([index, result], k) => {
    const d = step(s, { type: 'result', index, result, now: T0 + k * 1000 });
    s = d.state;
    if (d.move) moves.push(`${d.move.why} ${d.move.from}→${d.move.to}`);
  });
  return { s, moves };
}

describe('which answers mean the server is down', () => {
  it.each<[string, RequestResult, boolean]>([
    ['transaction timeout', timeout, true],
    ['transport error', refused, true],
    ['503 Service Unavailable', ans(503), true],
    ['500 Server Internal Error', ans(500), true],
    ['504 Server Time-out', ans(504), true],
    ['200 OK', ok, false],
    ['401 challenge (alive, wants credentials)', ans(401), false],
    ['403 Forbidden (alive; our credentials are wrong)', ans(403), false],
    ['404 Not Found (the callee, not the server)', ans(404), false],
    ['486 Busy Here', ans(486), false],
    ['603 Decline', ans(603), false],
  ])('%s → down: %s', (_, r, down) => {
    expect(serverFailed(r)).toBe(down);
  });

  it.each<[string | undefined, number | undefined]>([
    ['120', 120],
    ['18000;duration=3600', 18000],
    ['120 (I am in a meeting)', 120],
    ['  30', 30],
    ['999999999', 86400],
    ['soon', undefined],
    ['-5', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('Retry-After %j → %j s', (v, s) => {
    expect(parseRetryAfter(v)).toBe(s);
  });
});

describe('registration: first healthy server, failover, failback', () => {
  const two = initialPool(['pbx1:5060', 'pbx2:5060'], true);
  const three = initialPool(['a', 'b', 'c'], true);

  it('starts on the first server', () => {
    expect(two.active).toBe(0);
    expect(callOrder(two)).toEqual([0, 1]);
  });

  it.each<[string, PoolState, [number, RequestResult][], number, string[]]>([
    ['first registrar times out → second', two, [[0, timeout]], 1, ['failover 0→1']],
    ['first answers 503 → second', two, [[0, ans(503)]], 1, ['failover 0→1']],
    ['first answers 403 → stays (a credentials problem follows us everywhere)', two, [[0, ans(403)]], 0, []],
    ['first refuses the connection, second too → stays on the second (all down: retry there)', two, [[0, refused], [1, refused]], 1, ['failover 0→1']],
    ['first back (probe answered) while on the second → failback', two, [[0, timeout], [1, ok], [0, ok]], 0, ['failover 0→1', 'failback 1→0']],
    ['a probe answered 503 is no comeback', two, [[0, timeout], [1, ok], [0, ans(503)]], 1, ['failover 0→1']],
    ['a probe answered 401 is a comeback (the server is alive)', two, [[0, timeout], [1, ok], [0, ans(401)]], 0, ['failover 0→1', 'failback 1→0']],
    ['a, b down → c; b back → failback to b (ranks above c); a back → a', three, [[0, timeout], [1, timeout], [2, ok], [1, ok], [0, ok]], 0, ['failover 0→1', 'failover 1→2', 'failback 2→1', 'failback 1→0']],
    ['a down, on b; c (below b) back → no move', three, [[0, timeout], [2, timeout], [2, ok]], 1, ['failover 0→1']],
    ['every server down, then the second answers a probe → recover to it', two, [[0, timeout], [1, timeout], [1, ok]], 1, ['failover 0→1']],
    ['every server down while on the second, then the first answers → recover to the first', two, [[0, timeout], [1, timeout], [0, ok]], 0, ['failover 0→1', 'recover 1→0']],
    ['a call to the second failing does not move the registration off the first', two, [[1, ans(503)]], 0, []],
  ])('%s', (_, start, events, active, moves) => {
    const r = run(start, events);
    expect(r.s.active).toBe(active);
    expect(r.moves).toEqual(moves);
  });

  it('failback: false stays on the second when the first comes back, but uses the first when the second fails', () => {
    const r = run(initialPool(['pbx1', 'pbx2'], false), [[0, timeout], [1, ok], [0, ok]]);
    expect(r.s.active).toBe(1);
    expect(r.moves).toEqual(['failover 0→1']);
    expect(r.s.servers[0]!.health).toBe('up');
    const after = run(r.s, [[1, ans(500)]]);
    expect(after.s.active).toBe(0);
    expect(after.moves).toEqual(['failover 1→0']);
  });

  it('counts failovers and failbacks; remembers why a server is down and since when', () => {
    const r = run(two, [[0, timeout], [0, timeout], [1, ok], [0, ok]]);
    expect(r.s.failovers).toBe(1);
    expect(r.s.failbacks).toBe(1);
    const down = run(two, [[0, timeout], [0, refused]]).s.servers[0]!;
    expect(down).toMatchObject({ health: 'down', reason: 'transport error: connect ECONNREFUSED', since: T0 });
  });
});

describe('where one call attempt goes', () => {
  const three = initialPool(['a', 'b', 'c'], true);
  it.each<[string, [number, RequestResult][], number[]]>([
    ['nothing known: active first, then the rest in order', [], [0, 1, 2]],
    ['a down: b (active), then c', [[0, timeout]], [1, 2]],
    ['b down (active a): a, c', [[1, ans(503)]], [0, 2]],
    ['all down: every server once, in order (the marks may be stale)', [[0, timeout], [1, timeout], [2, timeout]], [0, 1, 2]],
  ])('%s', (_, events, order) => {
    expect(callOrder(run(three, events).s)).toEqual(order);
  });

  it('with failback off the active server goes first even when a preferred one is up', () => {
    const s = run(initialPool(['a', 'b', 'c'], false), [[0, timeout], [0, ok]]).s;
    expect(s.active).toBe(1);
    expect(callOrder(s)).toEqual([1, 0, 2]);
  });
});

describe('which servers are probed', () => {
  const two = initialPool(['pbx1', 'pbx2'], true);
  it('the down ones only; a 503 Retry-After holds its probe off until then', () => {
    expect(dueProbes(two, T0)).toEqual([]);
    const s = run(two, [[0, timeout]]).s;
    expect(dueProbes(s, T0)).toEqual([0]);
    const held = step(two, { type: 'result', index: 0, result: ans(503, 60), now: T0 }).state;
    expect(held.servers[0]!.downUntil).toBe(T0 + 60_000);
    expect(dueProbes(held, T0 + 59_000)).toEqual([]);
    expect(dueProbes(held, T0 + 60_000)).toEqual([0]);
  });
});
