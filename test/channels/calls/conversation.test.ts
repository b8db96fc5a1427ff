import { describe, expect, it } from 'vitest';
import { CALL_KEYS, CALL_TIMINGS, converse, type ConversationOptions } from '../../../src/channels/calls/index.js';
import { FakeLeg, type FakeLegOptions } from './fake-leg.js';

const key = (k: string, at: number) => ({ at, event: { type: 'key' as const, key: k } });

async function talk(leg: FakeLegOptions, over: Partial<ConversationOptions> = {}) {
  const l = new FakeLeg(leg);
  if (leg.prepared && leg.prepared !== 'never' && leg.prepared.at <= 0) await l.message!.settled; // rendered while it rang
  const signal = over.signal ?? new AbortController().signal;
  const result = await l.drive(converse({ leg: l, repeat: 2, maxMs: 60_000, signal, clock: l.clock, ...over }));
  return { result, log: l.log, hangUps: l.hangUps, now: l.clock.now() };
}

describe('the call keys', () => {
  it('1 acknowledges, 2 repeats, 3 escalates, 5 snoozes, 9 resolves, each confirmed by a spoken sentence; other keys do nothing', () => {
    expect(CALL_KEYS).toEqual({
      '1': { action: 'acknowledge', effect: 'end', outcome: 'acknowledged', confirm: 'acknowledged' },
      '2': { action: 'repeat', effect: 'replay' },
      '3': { action: 'escalate', effect: 'end', outcome: 'answered', confirm: 'escalated' },
      '5': { action: 'snooze', effect: 'end', outcome: 'answered', confirm: 'snoozed' },
      '9': { action: 'resolve', effect: 'end', outcome: 'answered', confirm: 'resolved' },
    });
  });

  it('one key wait for every channel: 5 s after the last play, 1 s between plays; a message still being rendered is waited for 8 s at most', () => {
    expect(CALL_TIMINGS).toEqual({ keyWaitMs: 5000, gapMs: 1000, promptWaitMs: 8000 });
  });
});

describe('conversation over a CallLeg', () => {
  const cases: Array<{
    name: string;
    leg: FakeLegOptions;
    over?: Partial<ConversationOptions>;
    outcome: Record<string, unknown>;
    log: string[];
  }> = [
    {
      name: 'no key: the message twice with the gap, then the key wait → answered, not retryable',
      leg: {},
      outcome: { kind: 'answered', reason: 'message played, no key pressed', retryable: false, detail: { plays: 2 } },
      log: ['message done@3000', 'pause:1000 done@4000', 'message done@7000', 'pause:5000 done@12000'],
    },
    {
      name: 'key 1 mid-message stops it, confirms, acknowledges',
      leg: { script: [key('1', 1200)] },
      outcome: { kind: 'acknowledged', reason: 'key 1 pressed', retryable: false, detail: { plays: 0, keys: '1', action: 'acknowledge' } },
      log: ['message stopped@1200', 'phrase:acknowledged done@1700'],
    },
    {
      name: 'key 1 during the key wait after the last play',
      leg: { script: [key('1', 9000)] },
      outcome: { kind: 'acknowledged', detail: { plays: 2, keys: '1', action: 'acknowledge' } },
      log: ['message done@3000', 'pause:1000 done@4000', 'message done@7000', 'pause:5000 stopped@9000', 'phrase:acknowledged done@9500'],
    },
    {
      name: 'key 2 starts the message again from the first play; then key 1',
      leg: { script: [key('2', 3500), key('1', 5000)] },
      outcome: { kind: 'acknowledged', detail: { keys: '21', plays: 0 } },
      log: ['message done@3000', 'pause:1000 stopped@3500', 'message stopped@5000', 'phrase:acknowledged done@5500'],
    },
    {
      name: 'key 2 during the final key wait replays the whole message',
      leg: { script: [key('2', 8000)] },
      outcome: { kind: 'answered', reason: 'message played, no key pressed', detail: { plays: 2, keys: '2' } },
      log: [
        'message done@3000', 'pause:1000 done@4000', 'message done@7000', 'pause:5000 stopped@8000',
        'message done@11000', 'pause:1000 done@12000', 'message done@15000', 'pause:5000 done@20000',
      ],
    },
    {
      name: 'a key without a rule is recorded and changes nothing',
      leg: { script: [key('7', 100), key('#', 200)] },
      outcome: { kind: 'answered', detail: { plays: 2, keys: '7#' } },
      log: ['message done@3000', 'pause:1000 done@4000', 'message done@7000', 'pause:5000 done@12000'],
    },
    {
      name: 'a key pressed before the conversation started (while the answer was detected) counts',
      leg: { early: [{ type: 'key', key: '1' }] },
      outcome: { kind: 'acknowledged', detail: { plays: 0, keys: '1' } },
      log: ['phrase:acknowledged done@500'],
    },
    {
      name: 'far end hangs up mid-message → answered, not retryable, no confirmation',
      leg: { script: [{ at: 1000, event: { type: 'hangup' } }] },
      outcome: { kind: 'answered', reason: 'far end hung up', retryable: false, detail: { plays: 0 } },
      log: ['message stopped@1000'],
    },
    {
      name: 'far end hangs up during the confirmation → still acknowledged',
      leg: { script: [key('1', 100), { at: 300, event: { type: 'hangup' } }] },
      outcome: { kind: 'acknowledged', detail: { action: 'acknowledge' } },
      log: ['message stopped@100', 'phrase:acknowledged stopped@300'],
    },
    {
      name: 'the line is lost → failed, retryable, the leg says why',
      leg: { script: [{ at: 4500, event: { type: 'lost', reason: 'modem lost during the call: serial port closed' } }] },
      outcome: { kind: 'failed', reason: 'modem lost during the call: serial port closed', retryable: true, detail: { plays: 1 } },
      log: ['message done@3000', 'pause:1000 done@4000', 'message stopped@4500'],
    },
    {
      name: 'the message cannot be played → failed, retryable',
      leg: { failMessage: 'audio command failed: spawn aplay ENOENT' },
      outcome: { kind: 'failed', reason: 'audio command failed: spawn aplay ENOENT', retryable: true },
      log: ['message failed'],
    },
    {
      name: 'the maximum call duration ends it → answered, not retryable',
      leg: {},
      over: { maxMs: 5000 },
      outcome: { kind: 'answered', reason: 'maximum call duration reached', retryable: false, detail: { plays: 1 } },
      log: ['message done@3000', 'pause:1000 done@4000', 'message stopped@5000'],
    },
    {
      name: 'timings come from the channel (tests shorten them)',
      leg: { messageMs: 100 },
      over: { repeat: 3, timings: { keyWaitMs: 400, gapMs: 0 } },
      outcome: { kind: 'answered', detail: { plays: 3 } },
      log: ['message done@100', 'pause:0 done@100', 'message done@200', 'pause:0 done@200', 'message done@300', 'pause:400 done@700'],
    },
    {
      name: 'answered while the message is still being rendered: the hold phrase, the line held until it is ready, then the message',
      leg: { prepared: { at: 1000 } },
      over: { repeat: 1 },
      outcome: { kind: 'answered', reason: 'message played, no key pressed', detail: { plays: 1, prompt: 'waited' } },
      log: ['phrase:hold done@500', 'pause:7500 stopped@1000', 'message done@4000', 'pause:5000 done@9000'],
    },
    {
      name: 'a message ready before the answer is played at once (no hold phrase)',
      leg: { prepared: { at: 0 }, script: [key('1', 3500)] },
      over: { repeat: 1 },
      outcome: { kind: 'acknowledged', detail: { plays: 1 } },
      log: ['message done@3000', 'pause:5000 stopped@3500', 'phrase:acknowledged done@4000'],
    },
    {
      name: 'the message never comes: after promptWaitMs the generic message (intro, key prompt); key 1 still acknowledges',
      leg: { prepared: 'never', script: [key('1', 9200)] },
      over: { repeat: 1 },
      outcome: { kind: 'acknowledged', reason: 'key 1 pressed', detail: { plays: 1, prompt: 'generic', keys: '1' } },
      log: ['phrase:hold done@500', 'pause:7500 done@8000', 'phrase:intro done@8500', 'phrase:keyPrompt done@9000', 'pause:5000 stopped@9200', 'phrase:acknowledged done@9700'],
    },
    {
      name: 'rendering the message fails during the hold: the generic message at once, not the whole wait',
      leg: { prepared: { at: 2000, error: 'espeak trapped' } },
      over: { repeat: 1 },
      outcome: { kind: 'answered', detail: { plays: 1, prompt: 'generic' } },
      log: ['phrase:hold done@500', 'pause:7500 stopped@2000', 'phrase:intro done@2500', 'phrase:keyPrompt done@3000', 'pause:5000 done@8000'],
    },
    {
      name: 'key 2 while holding plays the hold phrase again; the message that came late is played on the next repetition',
      leg: { prepared: { at: 9000 } },
      over: { repeat: 2, timings: { promptWaitMs: 1000 } },
      outcome: { kind: 'answered', detail: { plays: 2, prompt: 'generic' } },
      log: ['phrase:hold done@500', 'pause:500 done@1000', 'phrase:intro done@1500', 'phrase:keyPrompt done@2000', 'pause:1000 done@3000', 'phrase:intro done@3500', 'phrase:keyPrompt done@4000', 'pause:5000 done@9000'],
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const { result, log, hangUps } = await talk(c.leg, c.over);
      expect(result).toMatchObject(c.outcome);
      expect(log).toEqual(c.log);
      expect(hangUps).toBe(1);
    });
  }

  it('aborted mid-message → answered "aborted during the call", retryable (cut by us, not by the person)', async () => {
    const ac = new AbortController();
    const l = new FakeLeg();
    l.clock.setTimer(() => ac.abort(), 1500);
    const result = await l.drive(converse({ leg: l, repeat: 2, maxMs: 60_000, signal: ac.signal, clock: l.clock }));
    expect(result).toMatchObject({ kind: 'answered', reason: 'aborted during the call', retryable: true, detail: { plays: 0 } });
    expect(l.log).toEqual(['message stopped@1500']);
    expect(l.hangUps).toBe(1);
  });

  it('aborted after key 1 cuts the confirmation short, still acknowledged', async () => {
    const ac = new AbortController();
    const l = new FakeLeg({ script: [key('1', 100)] });
    l.clock.setTimer(() => ac.abort(), 300);
    const result = await l.drive(converse({ leg: l, repeat: 1, maxMs: 60_000, signal: ac.signal, clock: l.clock }));
    expect(result).toMatchObject({ kind: 'acknowledged', retryable: false });
    expect(l.log).toEqual(['message stopped@100', 'phrase:acknowledged stopped@300']);
  });

  it('an already aborted signal plays nothing and hangs up', async () => {
    const ac = new AbortController();
    ac.abort();
    const { result, log, hangUps } = await talk({}, { signal: ac.signal });
    expect(result).toMatchObject({ kind: 'answered', reason: 'aborted during the call', retryable: true });
    expect(log).toEqual([]);
    expect(hangUps).toBe(1);
  });

  it('keys after the call ended do not change the outcome', async () => {
    const { result } = await talk({ script: [key('1', 100), key('2', 200), key('1', 300)] });
    expect(result).toMatchObject({ kind: 'acknowledged', detail: { keys: '121', action: 'acknowledge' } });
  });

  it('a confirmation phrase that cannot be rendered still acknowledges', async () => {
    const l = new FakeLeg({ script: [key('1', 100)] });
    const play = l.play.bind(l);
    l.play = (p, s) => (p.kind === 'phrase' ? Promise.resolve({ error: 'no TTS' }) : play(p, s));
    const result = await l.drive(converse({ leg: l, repeat: 1, maxMs: 60_000, signal: new AbortController().signal, clock: l.clock }));
    expect(result).toMatchObject({ kind: 'acknowledged', reason: 'key 1 pressed' });
  });
});
