/**
 * AT response codec (pure): bytes from the modem -> lines and the `> ` prompt; classification of
 * final result codes (3GPP TS 27.007 §5.x / V.25ter verbose codes) and unsolicited result codes.
 * No I/O, no timers: the engine feeds chunks in and gets tokens out.
 *
 * Linear time on hostile lines: every pattern below is anchored at the start and no two
 * neighbouring quantifiers can match the same character (so a failed match never backtracks
 * over the line more than once); the two that could (`\s*(.*)$` in the CME/CMS parser and
 * `\s*(.+)$` in +CPIN) are prefix checks and slices now. Lines are at most MAX_LINE_LENGTH, and
 * numbers that become indexes in a command are bounded in digits.
 */

export type AtToken =
  | { type: 'line'; text: string }
  | { type: 'prompt' }
  /** A line longer than MAX_LINE_LENGTH was dropped whole; `length` counts its printable bytes. */
  | { type: 'overflow'; length: number };

/**
 * Longest line accepted. Nothing a SIM900 sends comes near it (a PDU line is at most 352 hex
 * digits); a longer line is noise or a runaway peer and is dropped whole (a cut line could be
 * misread), so memory and every parser's work stay bounded.
 */
export const MAX_LINE_LENGTH = 4096;

/**
 * Splits the modem's byte stream into lines. Any of `\r`, `\n` ends a line (so `\r\n`, a lone
 * `\r` or a lone `\n` all work, also across chunk boundaries); empty lines are dropped. Bytes
 * outside printable ASCII (NUL, 0xFF noise at power-up, stray control characters) are discarded.
 * The SMS prompt `> ` arrives without a line end and is reported as its own token. A line over
 * MAX_LINE_LENGTH is reported as an 'overflow' token instead of a line. One pass per byte.
 */
export class AtLineSplitter {
  private buf = '';
  /** Printable bytes of the current line beyond MAX_LINE_LENGTH (the line is being dropped). */
  private overflow = 0;

  push(chunk: Uint8Array | string): AtToken[] {
    const out: AtToken[] = [];
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === 0x0d || b === 0x0a) {
        this.endLine(out);
        continue;
      }
      if (b < 0x20 || b > 0x7e) continue; // noise, NUL, DEL, 8-bit garbage
      if (this.overflow > 0 || this.buf.length >= MAX_LINE_LENGTH) {
        // Dropping: skip to the next line end in one step.
        let j = i;
        while (j < bytes.length && bytes[j] !== 0x0d && bytes[j] !== 0x0a) {
          const c = bytes[j]!;
          if (c >= 0x20 && c <= 0x7e) this.overflow++;
          j++;
        }
        i = j - 1;
        continue;
      }
      this.buf += String.fromCharCode(b);
      if (this.buf.length === 2 && this.buf === '> ') {
        out.push({ type: 'prompt' });
        this.buf = '';
      }
    }
    return out;
  }

  /** Drops a partial line (after ESC / timeout the rest of it is meaningless). */
  reset(): void {
    this.buf = '';
    this.overflow = 0;
  }

  /** The partial line not yet terminated (for diagnostics). */
  pending(): string {
    return this.buf;
  }

  private endLine(out: AtToken[]): void {
    if (this.overflow > 0) {
      out.push({ type: 'overflow', length: this.buf.length + this.overflow });
      this.buf = '';
      this.overflow = 0;
      return;
    }
    const text = this.buf.trim();
    this.buf = '';
    if (text.length > 0) out.push({ type: 'line', text });
  }
}

export type FinalCode =
  | 'OK'
  | 'ERROR'
  | 'CME ERROR'
  | 'CMS ERROR'
  | 'NO CARRIER'
  | 'BUSY'
  | 'NO ANSWER'
  | 'NO DIALTONE'
  | 'CONNECT';

export interface FinalResult {
  code: FinalCode;
  /** The line as received, e.g. "+CME ERROR: incorrect password". */
  line: string;
  /** Numeric error code when the modem reported one (AT+CMEE=1 style). */
  errorCode?: number;
  /** Error text (AT+CMEE=2 style) or CONNECT's trailing text. */
  errorText?: string;
}

/** Whether a command is a dial/answer command, for which call progress codes are its final result. */
export function isCallCommand(command: string): boolean {
  return /^AT(D|A$|O)/i.test(command);
}

/**
 * Parses a line as a final result code, or returns null. `command` decides whether call progress
 * codes (`NO CARRIER`, `BUSY`...) end it: they do for ATD/ATA/ATO only.
 */
export function parseFinal(line: string, command?: string): FinalResult | null {
  if (line === 'OK') return { code: 'OK', line };
  if (line === 'ERROR') return { code: 'ERROR', line };
  const kind = line.startsWith('+CME ERROR:') ? 'CME ERROR' : line.startsWith('+CMS ERROR:') ? 'CMS ERROR' : null;
  if (kind) {
    const rest = line.slice('+CME ERROR:'.length).trim();
    return /^\d{1,9}$/.test(rest) ? { code: kind, line, errorCode: Number(rest) } : { code: kind, line, errorText: rest };
  }
  const callCode = callProgressCode(line);
  if (callCode && command !== undefined && isCallCommand(command)) {
    return callCode === 'CONNECT' && line.length > 7
      ? { code: 'CONNECT', line, errorText: line.slice(7).trim() }
      : { code: callCode, line };
  }
  return null;
}

function callProgressCode(line: string): FinalCode | null {
  if (line === 'NO CARRIER' || line === 'BUSY' || line === 'NO ANSWER' || line === 'NO DIALTONE') return line;
  if (line === 'CONNECT' || line.startsWith('CONNECT ')) return 'CONNECT';
  return null;
}

export type UrcKind =
  | 'ring'
  | 'new-sms' // +CMTI
  | 'dtmf' // +DTMF (SIM900 AT+DDET)
  | 'call-list' // +CLCC (with AT+CLCC=1)
  | 'caller-id' // +CLIP
  | 'call-ended' // NO CARRIER
  | 'busy'
  | 'no-answer'
  | 'no-dialtone'
  | 'call-ready'
  | 'sms-ready'
  | 'pin-state' // +CPIN
  | 'power-down' // UNDER-VOLTAGE POWER DOWN, NORMAL POWER DOWN, OVER-VOLTAGE POWER DOWN
  | 'power-warning' // UNDER-VOLTAGE WARNING, OVER-VOLTAGE WARNING
  | 'functionality' // +CFUN
  | 'registration' // +CREG (with AT+CREG=1/2)
  | 'ready'; // RDY

export interface Urc {
  kind: UrcKind;
  line: string;
  /** Text after "PREFIX: " for +XXX: URCs. */
  value?: string;
}

const PREFIX_URCS: ReadonlyArray<[string, UrcKind]> = [
  ['+CMTI:', 'new-sms'],
  ['+DTMF:', 'dtmf'],
  ['+CLCC:', 'call-list'],
  ['+CLIP:', 'caller-id'],
  ['+CPIN:', 'pin-state'],
  ['+CFUN:', 'functionality'],
  ['+CREG:', 'registration'],
];

const EXACT_URCS: ReadonlyMap<string, UrcKind> = new Map([
  ['RING', 'ring'],
  ['NO CARRIER', 'call-ended'],
  ['BUSY', 'busy'],
  ['NO ANSWER', 'no-answer'],
  ['NO DIALTONE', 'no-dialtone'],
  ['Call Ready', 'call-ready'],
  ['SMS Ready', 'sms-ready'],
  ['RDY', 'ready'],
  ['UNDER-VOLTAGE POWER DOWN', 'power-down'],
  ['OVER-VOLTAGE POWER DOWN', 'power-down'],
  ['NORMAL POWER DOWN', 'power-down'],
  ['UNDER-VOLTAGE WARNNING', 'power-warning'], // SIM900 firmware spells it this way
  ['UNDER-VOLTAGE WARNING', 'power-warning'],
  ['OVER-VOLTAGE WARNNING', 'power-warning'],
  ['OVER-VOLTAGE WARNING', 'power-warning'],
]);

/** The information-response prefix a command expects ("AT+CPIN?" -> "+CPIN:"), if any. */
export function responsePrefix(command: string): string | null {
  const m = /^AT(\+[A-Z]+)/i.exec(command);
  return m ? m[1]!.toUpperCase() + ':' : null;
}

/**
 * Classifies a line as an unsolicited result code, or returns null. While a command is in flight
 * (`command` given), a line carrying that command's own response prefix is its response, not a
 * URC (`+CPIN: READY` answers AT+CPIN?, `+CLCC:` lines answer AT+CLCC), and call progress codes
 * belong to dial commands.
 */
export function parseUrc(line: string, command?: string): Urc | null {
  if (command !== undefined) {
    const prefix = responsePrefix(command);
    if (prefix && line.toUpperCase().startsWith(prefix)) return null;
    if (isCallCommand(command) && callProgressCode(line)) return null;
  }
  const exact = EXACT_URCS.get(line);
  if (exact) return { kind: exact, line };
  for (const [prefix, kind] of PREFIX_URCS) {
    if (line.startsWith(prefix)) return { kind, line, value: line.slice(prefix.length).trim() };
  }
  return null;
}

/** What a line means while `command` is in flight (or none is, when command is undefined). */
export type LineMeaning =
  | { type: 'final'; final: FinalResult }
  | { type: 'urc'; urc: Urc }
  | { type: 'echo' }
  | { type: 'response'; text: string };

export function classifyLine(line: string, command?: string): LineMeaning {
  if (command !== undefined) {
    if (line.toUpperCase() === command.toUpperCase()) return { type: 'echo' };
    const final = parseFinal(line, command);
    if (final) return { type: 'final', final };
  }
  const urc = parseUrc(line, command);
  if (urc) return { type: 'urc', urc };
  return { type: 'response', text: line };
}

/** Command text safe to log: the PIN in AT+CPIN="1234" is masked. */
export function redactCommand(command: string): string {
  return /^AT\+CPIN=/i.test(command) ? 'AT+CPIN=***' : command;
}

/**
 * Checks a command line before it is written: printable ASCII only, must start with AT, bounded
 * length. A CR, LF, Ctrl-Z or ESC inside could end the command early or start another one.
 */
export function validateCommand(command: string): string | null {
  if (!/^AT/i.test(command)) return 'command must start with AT';
  if (command.length > 556) return 'command too long';
  if (!/^[\x20-\x7e]+$/.test(command)) return 'command contains a control or non-ASCII character';
  return null;
}

/** Checks a PDU before it is written after the `> ` prompt: hex digits only, whole octets. */
export function validatePduHex(hex: string): string | null {
  if (hex.length === 0 || hex.length % 2 !== 0) return 'PDU must be a non-empty even-length hex string';
  if (!/^[0-9A-Fa-f]+$/.test(hex)) return 'PDU must be hex digits only';
  if (hex.length > 2 * 200) return 'PDU too long';
  return null;
}

// ---- Parsers for the information responses the driver reads ----

export interface CallListEntry {
  index: number;
  /** 0 mobile originated, 1 mobile terminated. */
  dir: number;
  /** 0 active, 1 held, 2 dialing, 3 alerting, 4 incoming, 5 waiting, 6 disconnect. */
  stat: number;
  /** 0 voice, 1 data, 2 fax. */
  mode: number;
  multiparty: boolean;
  number?: string;
  type?: number;
}

/** Parses "+CLCC: 1,0,3,0,0,"+15551234567",145" (27.007 §7.18). */
export function parseClcc(line: string): CallListEntry | null {
  const m = /^\+CLCC:\s*(\d{1,6}),(\d),(\d),(\d),(\d)(?:,"([^"]{0,64})",(\d{1,3}))?/.exec(line);
  if (!m) return null;
  return {
    index: Number(m[1]),
    dir: Number(m[2]),
    stat: Number(m[3]),
    mode: Number(m[4]),
    multiparty: m[5] === '1',
    ...(m[6] !== undefined ? { number: m[6], type: Number(m[7]) } : {}),
  };
}

export interface Registration {
  /** 0 not searching, 1 home, 2 searching, 3 denied, 4 unknown, 5 roaming. */
  stat: number;
  registered: boolean;
  text: string;
}

const CREG_TEXT = ['not registered', 'registered (home)', 'searching', 'registration denied', 'unknown', 'registered (roaming)'];

/** Parses "+CREG: 0,1" (answer to AT+CREG?) or "+CREG: 1" (URC). */
export function parseCreg(line: string): Registration | null {
  const m = /^\+CREG:\s*(?:(\d),)?(\d)(?:,|$)/.exec(line);
  if (!m) return null;
  const stat = Number(m[2]);
  return { stat, registered: stat === 1 || stat === 5, text: CREG_TEXT[stat] ?? `state ${stat}` };
}

export interface Signal {
  /** 0..31, 99 = unknown. */
  rssi: number;
  /** -113..-51 dBm, null when unknown. */
  dbm: number | null;
  ber: number;
}

/** Parses "+CSQ: 17,0" (27.007 §8.5: dBm = -113 + 2 * rssi). */
export function parseCsq(line: string): Signal | null {
  const m = /^\+CSQ:\s*(\d+),(\d+)/.exec(line);
  if (!m) return null;
  const rssi = Number(m[1]);
  return { rssi, dbm: rssi <= 31 ? -113 + 2 * rssi : null, ber: Number(m[2]) };
}

/** Parses '+COPS: 0,0,"Operator"' -> "Operator". */
export function parseCops(line: string): string | null {
  const m = /^\+COPS:\s*\d+(?:,\d+,"([^"]*)")?/.exec(line);
  return m && m[1] !== undefined ? m[1] : null;
}

/** Parses '+CPIN: SIM PIN' -> "SIM PIN". */
export function parseCpin(line: string): string | null {
  if (!line.startsWith('+CPIN:')) return null;
  const v = line.slice(6).trim();
  return v.length > 0 ? v : null;
}

/** Parses '+CMTI: "SM",3' -> { storage: "SM", index: 3 }. */
export function parseCmti(value: string): { storage: string; index: number } | null {
  const m = /^"([^"]{0,16})",\s*(\d{1,6})$/.exec(value.trim());
  return m ? { storage: m[1]!, index: Number(m[2]) } : null;
}

/** Parses '+DTMF: 1' value -> "1" (one of 0-9 * # A-D). */
export function parseDtmf(value: string): string | null {
  const m = /^([0-9*#A-D])$/i.exec(value.trim());
  return m ? m[1]!.toUpperCase() : null;
}

export interface CallerId {
  /** The caller's number as the network gave it ("+15551230001"); empty when withheld. */
  number: string;
  /** Type of address (145 international, 129 national), when given. */
  type?: number;
}

/**
 * Parses the value of '+CLIP: "+15551230001",145,"",0,"",0' (27.007 §7.6). A scanner: the number
 * is the first quoted field; only digits, a leading "+", "*" and "#" are accepted.
 */
export function parseClip(value: string): CallerId | null {
  const v = value.trim();
  if (v.length === 0 || v.length > 256 || v[0] !== '"') return null;
  const close = v.indexOf('"', 1);
  if (close < 0) return null;
  const number = v.slice(1, close);
  if (number.length > 32) return null;
  for (let i = 0; i < number.length; i++) {
    const c = number[i]!;
    if (!((c >= '0' && c <= '9') || c === '*' || c === '#' || (c === '+' && i === 0))) return null;
  }
  const rest = v.slice(close + 1);
  if (rest.length > 0 && rest[0] !== ',') return null;
  const typeField = rest.slice(1).split(',', 1)[0]!.trim();
  return /^\d{1,3}$/.test(typeField) ? { number, type: Number(typeField) } : { number };
}

/** Parses "+CMGS: 12" -> 12. */
export function parseCmgs(line: string): number | null {
  const m = /^\+CMGS:\s*(\d{1,3})(?!\d)/.exec(line);
  return m ? Number(m[1]) : null;
}

export interface StoredPdu {
  index: number;
  stat: number;
  length: number;
  pdu: string;
}

/**
 * Pairs the header lines of AT+CMGL (PDU mode, "+CMGL: <index>,<stat>,[<alpha>],<length>") or
 * AT+CMGR ("+CMGR: <stat>,[<alpha>],<length>", index given) with the hex line that follows each.
 */
export function parseStoredPdus(lines: string[], cmgrIndex?: number): StoredPdu[] {
  const out: StoredPdu[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let index: number | undefined;
    let stat: number;
    let length: number;
    const l = /^\+CMGL:\s*(\d{1,6}),(\d{1,3}),[^,]*,(\d{1,4})\s*$/.exec(line);
    const r = /^\+CMGR:\s*(\d{1,3}),[^,]*,(\d{1,4})\s*$/.exec(line);
    if (l) {
      index = Number(l[1]);
      stat = Number(l[2]);
      length = Number(l[3]);
    } else if (r && cmgrIndex !== undefined) {
      index = cmgrIndex;
      stat = Number(r[1]);
      length = Number(r[2]);
    } else continue;
    const next = lines[i + 1];
    if (next !== undefined && /^[0-9A-Fa-f]+$/.test(next)) {
      out.push({ index, stat, length, pdu: next.toUpperCase() });
      i++;
    }
  }
  return out;
}
