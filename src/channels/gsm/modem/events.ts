/**
 * The modem's unsolicited result codes as typed events, fanned out to every subscriber (the call
 * channel, the inbox, call-back, the modem's own status). A subscriber that throws is logged and
 * does not stop the others.
 */
import type { Logger } from '../../../util/log.js';
import { parseClip, parseCmti, parseCreg, parseDtmf, type Registration, type Urc } from '../at-parser.js';

/** A call-progress code that arrives after ATD returned (the call ended or was refused). */
export type CallProgressCode = 'NO CARRIER' | 'BUSY' | 'NO ANSWER' | 'NO DIALTONE';

export type ModemEvent =
  /** +DTMF: a key the far end pressed (AT+DDET=1). */
  | { type: 'key'; key: string }
  | { type: 'call-progress'; code: CallProgressCode }
  /** RING: an incoming call. */
  | { type: 'ring' }
  /** +CLIP: the incoming call's number (AT+CLIP=1); empty when withheld. */
  | { type: 'caller-id'; number: string }
  /** +CMTI: a new SMS stored at `index`. */
  | { type: 'new-sms'; storage: string; index: number }
  /** +CREG: (with AT+CREG=1/2). */
  | { type: 'registration'; registration: Registration }
  | { type: 'power-down'; line: string }
  | { type: 'power-warning'; line: string }
  /** RDY: the module restarted by itself; its settings are gone. */
  | { type: 'restarted' }
  /** A URC whose value could not be read (logged, kept for diagnostics). */
  | { type: 'unreadable'; line: string };

const PROGRESS: Partial<Record<Urc['kind'], CallProgressCode>> = {
  'call-ended': 'NO CARRIER',
  busy: 'BUSY',
  'no-answer': 'NO ANSWER',
  'no-dialtone': 'NO DIALTONE',
};

/** What a URC means, or null for those nobody acts on (Call Ready, +CPIN, +CFUN...). Pure. */
export function toModemEvent(urc: Urc): ModemEvent | null {
  const progress = PROGRESS[urc.kind];
  if (progress) return { type: 'call-progress', code: progress };
  switch (urc.kind) {
    case 'dtmf': {
      const key = parseDtmf(urc.value ?? '');
      return key ? { type: 'key', key } : { type: 'unreadable', line: urc.line };
    }
    case 'ring':
      return { type: 'ring' };
    case 'caller-id': {
      const id = parseClip(urc.value ?? '');
      return id ? { type: 'caller-id', number: id.number } : { type: 'unreadable', line: urc.line };
    }
    case 'new-sms': {
      const at = parseCmti(urc.value ?? '');
      return at ? { type: 'new-sms', ...at } : { type: 'unreadable', line: urc.line };
    }
    case 'registration': {
      const registration = parseCreg(urc.line);
      return registration ? { type: 'registration', registration } : { type: 'unreadable', line: urc.line };
    }
    case 'power-down':
      return { type: 'power-down', line: urc.line };
    case 'power-warning':
      return { type: 'power-warning', line: urc.line };
    case 'ready':
      return { type: 'restarted' };
    default:
      return null;
  }
}

export class ModemEvents {
  private readonly listeners = new Set<(e: ModemEvent) => void>();

  constructor(private readonly log: Logger) {}

  /** Subscribes; returns the unsubscribe function. */
  on(fn: (e: ModemEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Feeds one URC from the engine. */
  urc(urc: Urc): void {
    const e = toModemEvent(urc);
    if (!e) return;
    if (e.type === 'unreadable') this.log.warn('gsm.bad_urc', { line: e.line.slice(0, 80) });
    for (const fn of [...this.listeners]) {
      try {
        fn(e);
      } catch (err) {
        this.log.error('gsm.event_listener_failed', { event: e.type, error: (err as Error).message });
      }
    }
  }
}
