import { describe, expect, it } from 'vitest';
import { InterarrivalJitter } from '../../../../src/channels/voip/rtp/jitter.js';
import { SlotPacer } from '../../../../src/channels/voip/rtp/pacer.js';
import { ReceptionStats } from '../../../../src/channels/voip/rtp/reception.js';

describe('InterarrivalJitter (RFC 3550 A.8)', () => {
  it('is zero for perfectly paced packets, also across the 32-bit timestamp wrap', () => {
    const j = new InterarrivalJitter();
    let ts = 0xffffff00;
    for (let i = 0; i < 50; i++, ts = (ts + 160) >>> 0) j.update(1000 + 20 * i, ts);
    expect(j.value).toBe(0);
    expect(j.max).toBe(0);
  });

  it('follows J += (|D| - J)/16 by hand', () => {
    const j = new InterarrivalJitter();
    j.update(0, 0);
    j.update(20, 160); // on time: D = 0
    expect(j.value).toBe(0);
    j.update(41, 320); // 1 ms late: D = 8 units → J = 8/16
    expect(j.value).toBe(0.5);
    j.update(60, 480); // back on time: transit changes by 8 again → J = 0.5 + 7.5/16
    expect(j.value).toBeCloseTo(0.96875, 10);
    expect(j.toMs(8)).toBe(1);
    expect(j.max).toBeCloseTo(0.96875, 10);
    expect(j.mean).toBeCloseTo((0 + 0.5 + 0.96875) / 3, 10);
  });

  it('does not count a timestamp gap with a matching arrival gap as jitter', () => {
    const j = new InterarrivalJitter();
    j.update(0, 1000);
    j.update(100, 1000 + 800); // 5 slots skipped: 100 ms and 800 units agree
    expect(j.value).toBe(0);
  });
});

describe('SlotPacer', () => {
  it('starts at the next slot, sends on time, catches up a few, skips beyond maxBurst', () => {
    const p = new SlotPacer(3);
    expect(p.nextSlot).toBeUndefined();
    p.begin(10);
    expect(p.nextSlot).toBe(11);
    expect(p.due(10)).toEqual({ slots: [], skipped: 0 });
    expect(p.due(11)).toEqual({ slots: [11], skipped: 0 });
    expect(p.due(13)).toEqual({ slots: [12, 13], skipped: 0 }); // woke one slot late: both, back to back
    expect(p.due(16)).toEqual({ slots: [14, 15, 16], skipped: 0 }); // exactly maxBurst
    expect(p.due(23)).toEqual({ slots: [23], skipped: 6 }); // 7 due: skip 6, send 1 — no flood
    expect(p.nextSlot).toBe(24);
    p.begin(100); // already active: no change
    expect(p.nextSlot).toBe(24);
    p.stop();
    expect(p.active).toBe(false);
    expect(p.due(30)).toEqual({ slots: [], skipped: 0 });
    expect(() => new SlotPacer(0)).toThrow(RangeError);
  });
});

describe('ReceptionStats (RFC 3550 A.1, A.3)', () => {
  it('extends sequence numbers across the wrap and counts losses', () => {
    const r = new ReceptionStats(0xabc, 65534);
    for (const [seq, at] of [[65534, 0], [65535, 20], [0, 40], [2, 80]] as const) r.update(seq, seq * 160, at);
    expect(r.extendedMax).toBe(65536 + 2);
    expect(r.expected).toBe(5);
    expect(r.packetsReceived).toBe(4);
    const block = r.reportBlock(0x12345678, 65536);
    expect(block).toMatchObject({ ssrc: 0xabc, cumulativeLost: 1, fractionLost: Math.floor(256 / 5), highestSeq: 65538, lsr: 0x12345678, dlsr: 65536 });
    // next interval: nothing lost
    r.update(3, 3 * 160, 100);
    expect(r.reportBlock(0, 0)).toMatchObject({ cumulativeLost: 1, fractionLost: 0 });
  });
});
