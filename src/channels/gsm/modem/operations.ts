/**
 * The modem's typed operations: the only place that writes AT text. Every operation takes and
 * returns values (numbers checked before they are written, parsed answers); the channels, the
 * inbox and bring-up call these and never build a command line.
 *
 * Errors: an operation rejects with AtError when the command did not complete (timeout,
 * port closed, refused before sending, or a non-OK final where the operation needs OK); where a
 * non-OK final is an ordinary answer (dialling, sending an SMS) it is returned as a value.
 */
import { AtError, type AtEngine } from '../at-engine.js';
import {
  parseClcc,
  parseCmgs,
  parseCops,
  parseCpin,
  parseCreg,
  parseCsq,
  parseStoredPdus,
  type CallListEntry,
  type FinalResult,
  type Registration,
  type Signal,
  type StoredPdu,
} from '../at-parser.js';

/** SIM900 manual: ATH may take up to 20 s. */
const HANGUP_TIMEOUT = 20_000;
/** A number the modem may dial: what normalizePhone returns (digits, optional leading +). */
const DIALLABLE = /^\+?[0-9]{3,20}$/;

/** What AT+CMGS answered: the message reference, or the final code that refused the part. */
export type SendPduResult = { ok: true; reference: number | undefined } | { ok: false; final: FinalResult };

export interface DialOptions {
  /** How long ATD may take to return (ms). */
  timeout?: number;
}

/** The indications bring-up switches on; each one degrades one feature when refused. */
export const INDICATIONS = [
  { command: 'AT+CNMI=2,1,0,0,0', feature: 'new-SMS indication (+CMTI): SMS replies' },
  { command: 'AT+DDET=1', feature: 'DTMF detection (+DTMF): keys during calls' },
  { command: 'AT+CLIP=1', feature: 'caller id (+CLIP): call-back acknowledgement' },
] as const;

export class ModemOperations {
  constructor(private readonly engine: AtEngine) {}

  get isOpen(): boolean {
    return this.engine.isOpen;
  }

  // ---- bring-up and health ----

  /** `AT`: 'ok', 'error' (answered, not OK) or 'no-answer' within `timeout`. Rejects only when the port closed. */
  async probe(timeout: number): Promise<'ok' | 'error' | 'no-answer'> {
    try {
      return (await this.engine.command('AT', { timeout })).ok ? 'ok' : 'error';
    } catch (e) {
      if (e instanceof AtError && e.kind === 'port-closed') throw e;
      return 'no-answer';
    }
  }

  echoOff(): Promise<void> {
    return this.ok('ATE0');
  }

  /** AT+CMEE=2: errors as text ("+CME ERROR: incorrect password"). */
  verboseErrors(): Promise<void> {
    return this.ok('AT+CMEE=2');
  }

  /** AT+CMGF=0. Required: in text mode AT+CMGS=<length> would take the length for a number. */
  pduMode(): Promise<void> {
    return this.ok('AT+CMGF=0');
  }

  /** Switches on +CMTI, +DTMF and +CLIP; resolves with the ones the firmware refused. */
  async enableIndications(): Promise<Array<{ command: string; feature: string; final: string }>> {
    const refused: Array<{ command: string; feature: string; final: string }> = [];
    for (const { command, feature } of INDICATIONS) {
      const r = await this.engine.command(command);
      if (!r.ok) refused.push({ command, feature, final: r.final.line });
    }
    return refused;
  }

  /**
   * AT+CPIN?: "READY", "SIM PIN", "SIM PUK"..., or { error } with the modem's error text (e.g.
   * "SIM not inserted", "SIM busy").
   */
  async pinState(): Promise<{ state: string } | { error: string; busy: boolean }> {
    const r = await this.engine.command('AT+CPIN?');
    if (r.ok) {
      const line = r.lines.find((l) => l.startsWith('+CPIN:'));
      return { state: (line && parseCpin(line)) ?? 'unknown' };
    }
    const text = r.final.errorText ?? r.final.line;
    // 14 "SIM busy": the SIM is still starting.
    return { error: text, busy: r.final.errorCode === 14 || text.toLowerCase().includes('busy') };
  }

  /** AT+CPIN="<pin>" (digits only; the engine masks it in logs). Resolves with the final result. */
  async enterPin(pin: string, timeout: number): Promise<FinalResult> {
    if (!/^\d{4,8}$/.test(pin)) throw new AtError('invalid', 'PIN must be 4-8 digits');
    return (await this.engine.command(`AT+CPIN="${pin}"`, { timeout })).final;
  }

  /** AT+CREG?. */
  async registration(): Promise<Registration> {
    const r = await this.engine.ok('AT+CREG?');
    const line = r.lines.find((l) => l.startsWith('+CREG:'));
    const reg = line ? parseCreg(line) : null;
    if (!reg) throw new AtError('final', `AT+CREG?: unexpected answer ${JSON.stringify(r.lines.join(' ').slice(0, 60))}`);
    return reg;
  }

  /** AT+CSQ. */
  async signal(): Promise<Signal> {
    const r = await this.engine.ok('AT+CSQ');
    const line = r.lines.find((l) => l.startsWith('+CSQ:'));
    const sig = line ? parseCsq(line) : null;
    if (!sig) throw new AtError('final', 'AT+CSQ: unexpected answer');
    return sig;
  }

  /** AT+COPS?: the operator's name, or null when the modem does not say. */
  async operator(): Promise<string | null> {
    const r = await this.engine.command('AT+COPS?');
    const line = r.ok ? r.lines.find((l) => l.startsWith('+COPS:')) : undefined;
    return line ? parseCops(line) : null;
  }

  // ---- calls ----

  /** ATD<number>; (a voice call). Resolves with ATD's final result: OK once the call is placed. */
  async dial(number: string, opts: DialOptions = {}): Promise<FinalResult> {
    if (!DIALLABLE.test(number)) throw new AtError('invalid', 'refusing to dial: not a phone number');
    const r = await this.engine.command(`ATD${number};`, opts.timeout !== undefined ? { timeout: opts.timeout } : {});
    return r.final;
  }

  /** ATH: ends the call in progress, or rejects a ringing incoming one. Rejects on a non-OK final. */
  async hangUp(): Promise<void> {
    await this.ok('ATH', HANGUP_TIMEOUT);
  }

  /** AT+CLCC: the calls the module knows about now (27.007 §7.18). */
  async listCalls(): Promise<CallListEntry[]> {
    const r = await this.engine.ok('AT+CLCC');
    return r.lines.map(parseClcc).filter((c): c is CallListEntry => c !== null);
  }

  // ---- SMS ----

  /**
   * Sends one SMS-SUBMIT: AT+CMGS=<TPDU octets>, waits for the `> ` prompt, writes the hex and
   * Ctrl-Z (the engine checks it is hex only), and resolves with +CMGS's message reference or the
   * refusing final code. Rejects on timeout / no prompt / closed port.
   */
  async sendPdu(tpduLength: number, hex: string): Promise<SendPduResult> {
    if (!Number.isInteger(tpduLength) || tpduLength < 1 || tpduLength > 200) throw new AtError('invalid', 'bad TPDU length');
    const r = await this.engine.command(`AT+CMGS=${tpduLength}`, { pdu: hex });
    if (!r.ok) return { ok: false, final: r.final };
    return { ok: true, reference: r.lines.map(parseCmgs).find((v): v is number => v !== null) };
  }

  /** AT+CMGL=4: every stored message (PDU mode), read or not. */
  async listMessages(): Promise<StoredPdu[]> {
    const r = await this.engine.ok('AT+CMGL=4');
    return parseStoredPdus(r.lines);
  }

  /** AT+CMGR=<index>: one stored message, or null when the slot holds none it can show. */
  async readMessage(index: number): Promise<StoredPdu | null> {
    const r = await this.engine.ok(`AT+CMGR=${checkIndex(index)}`);
    return parseStoredPdus(r.lines, index)[0] ?? null;
  }

  /** AT+CMGD=<index>. Resolves false when the modem refused. */
  async deleteMessage(index: number): Promise<boolean> {
    return (await this.engine.command(`AT+CMGD=${checkIndex(index)}`)).ok;
  }

  private async ok(command: string, timeout?: number): Promise<void> {
    await this.engine.ok(command, timeout !== undefined ? { timeout } : {});
  }
}

function checkIndex(index: number): number {
  if (!Number.isInteger(index) || index < 0 || index > 999_999) throw new AtError('invalid', `bad message index ${index}`);
  return index;
}
