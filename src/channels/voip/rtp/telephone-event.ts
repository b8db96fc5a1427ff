/**
 * RFC 4733 telephone-event payload (§2.3) and the receive-side rule that turns a stream of event
 * packets into key presses (§2.5.2). Pure.
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * |     event     |E|R| volume    |          duration             |
 */

export interface TelephoneEvent {
  /** Event code: 0-9 digits, 10 '*', 11 '#', 12-15 'A'-'D' (RFC 4733 §3.2). */
  event: number;
  /** E bit: this packet carries the end of the event. */
  end: boolean;
  /** Power level in -dBm0, 0..63 (0 = loudest). */
  volume: number;
  /** Duration so far in timestamp units (8000 Hz: 8 per ms). */
  duration: number;
}

export class TelephoneEventParseError extends Error {
  constructor(message: string) {
    super(`telephone-event: ${message}`);
    this.name = 'TelephoneEventParseError';
  }
}

export function encodeTelephoneEvent(e: TelephoneEvent): Buffer {
  if (!Number.isInteger(e.event) || e.event < 0 || e.event > 255) throw new RangeError('telephone-event: event must be 0..255');
  if (!Number.isInteger(e.volume) || e.volume < 0 || e.volume > 63) throw new RangeError('telephone-event: volume must be 0..63');
  if (!Number.isInteger(e.duration) || e.duration < 0 || e.duration > 0xffff) throw new RangeError('telephone-event: duration must be 0..65535');
  const b = Buffer.alloc(4);
  b[0] = e.event;
  b[1] = (e.end ? 0x80 : 0) | e.volume; // R bit stays 0 on send
  b.writeUInt16BE(e.duration, 2);
  return b;
}

/** Decodes the first event block; extra bytes (redundant blocks, RFC 4733 §2.6) are ignored. */
export function decodeTelephoneEvent(payload: Buffer): TelephoneEvent {
  if (payload.length < 4) throw new TelephoneEventParseError(`payload too short (${payload.length} octets)`);
  return {
    event: payload[0]!,
    end: (payload[1]! & 0x80) !== 0,
    volume: payload[1]! & 0x3f, // the R bit is ignored on receive
    duration: payload.readUInt16BE(2),
  };
}

const DIGITS = '0123456789*#ABCD';

/** The key for a DTMF event code, or undefined for non-DTMF events (flash, tones...). */
export function dtmfDigit(event: number): string | undefined {
  return event >= 0 && event < 16 ? DIGITS[event] : undefined;
}

/** The event code for a DTMF key ('0'-'9', '*', '#', 'A'-'D'). */
export function dtmfEventCode(digit: string): number {
  const i = DIGITS.indexOf(digit.toUpperCase());
  if (digit.length !== 1 || i < 0) throw new RangeError(`telephone-event: not a DTMF key: ${JSON.stringify(digit)}`);
  return i;
}

/**
 * Turns received telephone-event packets into key presses. All packets of one event share the
 * RTP timestamp of its start (§2.5.1.2); the end packet is sent three times (§2.5.1.4); a long
 * event is split into segments whose later segments carry a new timestamp and no marker bit
 * (§2.5.1.5). So a press is reported once, at the first packet seen of a new
 * (SSRC, timestamp, event), and segment continuations are not reported again.
 */
export class DtmfDetector {
  private readonly seen: string[] = [];
  /** Per SSRC: last event still in progress (end not seen), for long-event continuation. */
  private readonly open = new Map<number, { event: number; timestamp: number }>();

  constructor(private readonly memory = 32) {}

  /**
   * Feeds one packet; returns the key if this packet starts a new key press, else undefined.
   * `marker` is the RTP marker bit, `timestamp` the RTP timestamp.
   */
  push(ssrc: number, timestamp: number, marker: boolean, e: TelephoneEvent): string | undefined {
    const key = `${ssrc}:${timestamp}:${e.event}`;
    const isNew = !this.seen.includes(key);
    if (isNew) {
      this.seen.push(key);
      if (this.seen.length > this.memory) this.seen.shift();
    }
    const prev = this.open.get(ssrc);
    if (e.end) this.open.delete(ssrc);
    else this.open.set(ssrc, { event: e.event, timestamp });
    if (!isNew) return undefined;
    const continuation =
      !marker && prev !== undefined && prev.event === e.event && prev.timestamp !== timestamp &&
      ((timestamp - prev.timestamp) >>> 0) <= 0x1ffff;
    if (continuation) return undefined;
    return dtmfDigit(e.event);
  }
}
