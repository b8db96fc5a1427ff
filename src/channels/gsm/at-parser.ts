/**
 * AT response codec (pure): bytes from the modem -> lines and the `> ` prompt; classification of
 * final result codes (3GPP TS 27.007 §5.x / V.25ter verbose codes) and unsolicited result codes.
 * No I/O, no timers: the engine feeds chunks in and gets tokens out.
 */

export type AtToken = { type: 'line'; text: string } | { type: 'prompt' };

/** Longest line kept; longer input (noise, a runaway peer) is cut so memory stays bounded. */
export const MAX_LINE_LENGTH = 4096;

/**
 * Splits the modem's byte stream into lines. Any of `\r`, `\n` ends a line (so `\r\n`, a lone
 * `\r` or a lone `\n` all work, also across chunk boundaries); empty lines are dropped. Bytes
 * outside printable ASCII (NUL, 0xFF noise at power-up, stray control characters) are discarded.
 * The SMS prompt `> ` arrives without a line end and is reported as its own token.
 */
export class AtLineSplitter {
  private buf = '';

  push(chunk: Uint8Array | string): AtToken[] {
    const out: AtToken[] = [];
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    for (const b of bytes) {
      if (b === 0x0d || b === 0x0a) {
        this.endLine(out);
        continue;
      }
      if (b < 0x20 || b > 0x7e) continue; // noise, NUL, DEL, 8-bit garbage
      if (this.buf.length < MAX_LINE_LENGTH) this.buf += String.fromCharCode(b);
      if (this.buf === '> ') {
        out.push({ type: 'prompt' });
        this.buf = '';
      }
    }
    return out;
  }

  /** Drops a partial line (after ESC / timeout the rest of it is meaningless). */
  reset(): void {
    this.buf = '';
  }

  /** The partial line not yet terminated (for diagnostics). */
  pending(): string {
    return this.buf;
  }

  private endLine(out: AtToken[]): void {
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
  const m = /^\+(CME|CMS) ERROR:\s*(.*)$/.exec(line);
  if (m) {
    const rest = m[2]!.trim();
    const code = m[1] === 'CME' ? 'CME ERROR' : 'CMS ERROR';
    return /^\d+$/.test(rest)
      ? { code, line, errorCode: Number(rest) }
      : { code, line, errorText: rest };
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
  const m = /^\+CLCC:\s*(\d+),(\d),(\d),(\d),(\d)(?:,"([^"]*)",(\d+))?/.exec(line);
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
  const m = /^\+CPIN:\s*(.+)$/.exec(line);
  return m ? m[1]!.trim() : null;
}

/** Parses '+CMTI: "SM",3' -> { storage: "SM", index: 3 }. */
export function parseCmti(value: string): { storage: string; index: number } | null {
  const m = /^"([^"]*)",\s*(\d+)$/.exec(value.trim());
  return m ? { storage: m[1]!, index: Number(m[2]) } : null;
}

/** Parses '+DTMF: 1' value -> "1" (one of 0-9 * # A-D). */
export function parseDtmf(value: string): string | null {
  const m = /^([0-9*#A-D])$/i.exec(value.trim());
  return m ? m[1]!.toUpperCase() : null;
}

/** Parses "+CMGS: 12" -> 12. */
export function parseCmgs(line: string): number | null {
  const m = /^\+CMGS:\s*(\d+)/.exec(line);
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
    const l = /^\+CMGL:\s*(\d+),(\d+),[^,]*,(\d+)\s*$/.exec(line);
    const r = /^\+CMGR:\s*(\d+),[^,]*,(\d+)\s*$/.exec(line);
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
