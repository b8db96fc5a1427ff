/**
 * A SIM900 behind a real pseudo-terminal pair (socat). The simulator opens one end with
 * serialport, the driver under test opens the other (`driverPath`). It behaves like the module,
 * not like the driver wishes: echo on until ATE0, `\r\n` framing, the `> ` prompt without a line
 * end, +CMGS after a delay, PIN flow with attempt counting, CREG searching before registered,
 * URCs at awkward moments, call scenarios chosen by the dialled number, stored SMS, a command it
 * never answers, and the port vanishing and coming back. Every command line is recorded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { decodeSmsSubmit, encodeSmsDeliver, type DecodedSubmit } from '../../../src/channels/gsm/pdu/index.js';

export interface CallScript {
  /** What the called party does. */
  result: 'answer' | 'busy' | 'no-answer' | 'no-dialtone' | 'reject';
  /** Dialing (stat 2) turns into alerting (stat 3) after this long. */
  alertAfterMs?: number;
  /** answer: answered (stat 0) this long after ATD. busy/reject: the URC comes this long after ATD. */
  afterMs?: number;
  /** answer: keys pressed, each this long after the answer. */
  keys?: Array<{ afterMs: number; key: string }>;
  /** answer: the far end hangs up this long after the answer (NO CARRIER). */
  hangupAfterMs?: number;
}

export interface SimOptions {
  /** The SIM asks for this PIN (none: SIM ready at once). */
  pin?: string;
  /** AT+CREG? answers "searching" this many times before "registered" (default 1). */
  searchingPolls?: number;
  /** Emit power-up noise (NUL, 0xFF, a lone RDY) when the first bytes arrive. */
  garbageAtStart?: boolean;
  /** Ignore this many leading `AT` probes (autobauding). */
  ignoreFirstAts?: number;
  /** Delay before +CMGS (ms, default 150). */
  cmgsDelayMs?: number;
  calls?: Record<string, CallScript>;
}

interface StoredSms {
  stat: number;
  pdu: string;
}

interface ActiveCall {
  number: string;
  stat: number;
  timers: NodeJS.Timeout[];
}

function tpduLength(hex: string): number {
  const smscLen = parseInt(hex.slice(0, 2), 16);
  return hex.length / 2 - 1 - smscLen;
}

export class Sim900Simulator {
  readonly dir: string;
  readonly driverPath: string;
  private readonly simPath: string;
  private readonly opts: SimOptions;
  private socat: ChildProcess | null = null;
  private port: SerialPort | null = null;

  /** Every command line received, in order (text after the prompt is in `pduBodies`). */
  readonly commands: string[] = [];
  /** When each line of `commands` was complete here (ms since the epoch, sub-ms resolution: timeOrigin + performance.now()). */
  readonly commandTimes: number[] = [];
  readonly pduBodies: string[] = [];
  /** Decoded SMS-SUBMITs accepted with +CMGS. */
  readonly sent: Array<DecodedSubmit & { mr: number }> = [];
  /** Every raw byte chunk written by the driver (for "nothing else was written" checks). */
  readonly rawIn: Buffer[] = [];
  pinAttempts = 0;
  hangups = 0;
  escapes = 0;
  /** Exact command lines the module never answers. */
  readonly neverAnswer = new Set<string>();
  /** Exact command lines answered with ERROR (firmware without the feature). */
  readonly refuse = new Set<string>();
  /** Lines that answer the next AT+CMGS instead of +CMGS (e.g. "+CMS ERROR: 42"). */
  readonly cmgsErrors: string[] = [];
  /** URC lines injected into the middle of the next response (between echo/info lines and OK). */
  readonly injectMidResponse: string[] = [];
  /** Messages in SIM storage by index. */
  readonly storage = new Map<number, StoredSms>();
  /** Numbers of incoming calls the driver rejected with ATH, in order. */
  readonly rejectedCalls: string[] = [];

  private echo = true;
  private cmee = 0;
  private simState: 'ready' | 'pin' | 'puk' = 'ready';
  private cregPolls = 0;
  private atsIgnored = 0;
  private garbageSent = false;
  private input = '';
  private pduMode: { length: number } | null = null;
  private call: ActiveCall | null = null;
  private incoming: { number: string; timers: NodeJS.Timeout[] } | null = null;
  private mr = 0;
  private timers = new Set<NodeJS.Timeout>();

  private constructor(opts: SimOptions) {
    this.opts = opts;
    this.dir = mkdtempSync(join(tmpdir(), 'sim900-'));
    this.simPath = join(this.dir, 'modem');
    this.driverPath = join(this.dir, 'ttyDriver');
  }

  static async create(opts: SimOptions = {}): Promise<Sim900Simulator> {
    const sim = new Sim900Simulator(opts);
    await sim.powerOn();
    return sim;
  }

  /** Closes everything, kills socat, removes the temporary directory. */
  async close(): Promise<void> {
    await this.powerOff();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The port vanishes (USB unplugged): the pty pair is destroyed. */
  async vanish(): Promise<void> {
    await this.powerOff();
  }

  /** The port comes back (replugged): a new pty pair under the same path, a freshly started module. */
  async reappear(): Promise<void> {
    await this.powerOn();
  }

  get socatPid(): number | undefined {
    return this.socat?.pid;
  }

  /** Commands received since index `from`. */
  commandsSince(from: number): string[] {
    return this.commands.slice(from);
  }

  /** A text message from `sender` arrives: stored on the SIM and announced with +CMTI. */
  receiveSms(sender: string, text: string, concat?: { ref: number; total: number; seq: number }): number {
    const index = this.storeSms(sender, text, concat);
    this.urc(`+CMTI: "SM",${index}`);
    return index;
  }

  /** Stores a received message without announcing it (it arrived while the driver was away). */
  storeSms(sender: string, text: string, concat?: { ref: number; total: number; seq: number }): number {
    const pdu = encodeSmsDeliver({
      smsc: '+15550000000',
      sender,
      text,
      timestamp: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
      ...(concat ? { concat } : {}),
    });
    let index = 1;
    while (this.storage.has(index)) index++;
    this.storage.set(index, { stat: 0, pdu });
    return index;
  }

  /** Sends an unsolicited line now. */
  urc(line: string): void {
    this.write(`\r\n${line}\r\n`);
  }

  /** Resolves when pred() holds, polling; rejects after timeoutMs. */
  async waitFor(pred: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`simulator: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  get callActive(): boolean {
    return this.call !== null;
  }

  /** An incoming call is ringing now (not yet rejected or given up). */
  get ringing(): boolean {
    return this.incoming !== null;
  }

  /**
   * Someone calls the modem: RING and (as with AT+CLIP=1) +CLIP every `intervalMs`, `rings` times,
   * then the caller gives up (NO CARRIER) unless ATH rejected the call first. An empty number is a
   * withheld caller id.
   */
  incomingCall(number: string, opts: { rings?: number; intervalMs?: number } = {}): void {
    this.endIncoming();
    const call = { number, timers: [] as NodeJS.Timeout[] };
    this.incoming = call;
    const rings = opts.rings ?? 4;
    const every = opts.intervalMs ?? 300;
    const clip = `+CLIP: "${number}",${number.startsWith('+') ? 145 : 129},"",0,"",0`;
    for (let i = 0; i < rings; i++) {
      call.timers.push(this.later(i * every, () => this.incoming === call && (this.urc('RING'), this.urc(clip))));
    }
    call.timers.push(
      this.later(rings * every, () => {
        if (this.incoming !== call) return;
        this.endIncoming();
        this.urc('NO CARRIER');
      }),
    );
  }

  // ---- lifecycle ----

  private async powerOn(): Promise<void> {
    this.resetModem();
    const socat = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.simPath}`, `pty,raw,echo=0,link=${this.driverPath}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.socat = socat;
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const t = setTimeout(() => reject(new Error(`socat did not start: ${err}`)), 10_000);
      socat.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('starting data transfer loop') && existsSync(this.simPath) && existsSync(this.driverPath)) {
          clearTimeout(t);
          resolve();
        }
      });
      socat.on('exit', () => {
        clearTimeout(t);
        reject(new Error(`socat exited: ${err}`));
      });
    });
    socat.stderr!.resume();
    const port = new SerialPort({ path: this.simPath, baudRate: 9600, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    port.on('data', (d: Buffer) => this.onData(d));
    port.on('error', () => {});
    this.port = port;
  }

  private async powerOff(): Promise<void> {
    this.endCall();
    this.endIncoming();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const port = this.port;
    this.port = null;
    if (port?.isOpen) await new Promise<void>((r) => port.close(() => r()));
    const socat = this.socat;
    this.socat = null;
    if (socat && socat.exitCode === null && socat.signalCode === null) {
      const exited = new Promise<void>((r) => socat.once('exit', () => r()));
      socat.kill('SIGTERM');
      await exited;
    }
  }

  private resetModem(): void {
    this.echo = true;
    this.cmee = 0;
    this.simState = this.opts.pin ? 'pin' : 'ready';
    this.cregPolls = 0;
    this.atsIgnored = 0;
    this.garbageSent = false;
    this.input = '';
    this.pduMode = null;
  }

  private later(ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private write(s: string): void {
    if (this.port?.isOpen) this.port.write(Buffer.from(s, 'latin1'));
  }

  // ---- input ----

  private onData(chunk: Buffer): void {
    this.rawIn.push(Buffer.from(chunk));
    if (this.opts.garbageAtStart && !this.garbageSent) {
      this.garbageSent = true;
      this.write('\x00\xff\xfe\x00\r\x00RDY\xff\r\n\x00');
    }
    for (const byte of chunk) {
      const ch = String.fromCharCode(byte);
      if (this.pduMode) {
        if (this.echo && byte !== 0x1a && byte !== 0x1b) this.write(ch);
        if (byte === 0x1a) {
          const body = this.input;
          const len = this.pduMode.length;
          this.input = '';
          this.pduMode = null;
          this.onPdu(body, len);
        } else if (byte === 0x1b) {
          this.escapes++;
          this.input = '';
          this.pduMode = null;
          this.write('\r\nOK\r\n');
        } else if (byte !== 0x0d && byte !== 0x0a) {
          this.input += ch;
        }
        continue;
      }
      if (byte === 0x1b) {
        this.escapes++;
        this.input = '';
        continue;
      }
      if (this.echo) this.write(ch);
      if (byte === 0x0d) {
        const line = this.input.trim();
        this.input = '';
        if (line.length > 0) this.onCommand(line);
      } else if (byte !== 0x0a) {
        this.input += ch;
      }
    }
  }

  // ---- output helpers ----

  private respond(info: string[], final: string): void {
    const lines = [...info];
    if (this.injectMidResponse.length) {
      const at = Math.ceil(lines.length / 2);
      lines.splice(at, 0, ...this.injectMidResponse.splice(0));
    }
    this.write(lines.map((l) => `\r\n${l}\r\n`).join('') + `\r\n${final}\r\n`);
  }

  private ok(info: string[] = []): void {
    this.respond(info, 'OK');
  }

  private cmeError(code: number, text: string): void {
    this.respond([], this.cmee === 2 ? `+CME ERROR: ${text}` : this.cmee === 1 ? `+CME ERROR: ${code}` : 'ERROR');
  }

  private cmsError(code: number, text: string): void {
    this.respond([], this.cmee === 2 ? `+CMS ERROR: ${text}` : this.cmee === 1 ? `+CMS ERROR: ${code}` : 'ERROR');
  }

  // ---- commands ----

  private onCommand(line: string): void {
    this.commands.push(line);
    this.commandTimes.push(performance.timeOrigin + performance.now());
    if (this.neverAnswer.has(line)) return;
    if (this.refuse.has(line)) return this.respond([], 'ERROR');
    const u = line.toUpperCase();
    if (u === 'AT') {
      if (this.atsIgnored < (this.opts.ignoreFirstAts ?? 0)) {
        this.atsIgnored++;
        return;
      }
      return this.ok();
    }
    let m: RegExpExecArray | null;
    if ((m = /^ATE([01])$/.exec(u))) {
      this.echo = m[1] === '1';
      return this.ok();
    }
    if ((m = /^AT\+CMEE=([012])$/.exec(u))) {
      this.cmee = Number(m[1]);
      return this.ok();
    }
    if (u === 'AT+CPIN?') {
      const s = this.simState === 'ready' ? 'READY' : this.simState === 'pin' ? 'SIM PIN' : 'SIM PUK';
      return this.ok([`+CPIN: ${s}`]);
    }
    if ((m = /^AT\+CPIN="?(\d{4,8})"?$/.exec(u))) {
      if (this.simState !== 'pin') return this.cmeError(3, 'operation not allowed');
      this.pinAttempts++;
      if (m[1] === this.opts.pin) {
        this.simState = 'ready';
        this.ok();
        this.later(50, () => {
          this.urc('+CPIN: READY');
          this.urc('Call Ready');
          this.urc('SMS Ready');
        });
        return;
      }
      if (this.pinAttempts >= 3) this.simState = 'puk';
      return this.cmeError(16, 'incorrect password');
    }
    if (u === 'AT+CREG?') {
      this.cregPolls++;
      const stat = this.cregPolls <= (this.opts.searchingPolls ?? 1) ? 2 : 1;
      return this.ok([`+CREG: 0,${stat}`]);
    }
    if (u === 'AT+CSQ') return this.ok(['+CSQ: 17,0']);
    if (u === 'AT+COPS?') return this.ok(['+COPS: 0,0,"SimNet"']);
    if (/^AT\+CMGF=[01]$/.test(u) || /^AT\+CNMI=[\d,]+$/.test(u) || u === 'AT+DDET=1' || u === 'AT+CLIP=1') {
      return this.ok();
    }
    if (this.simState !== 'ready' && /^(ATD|AT\+CMG|AT\+CLCC)/.test(u)) return this.cmeError(11, 'SIM PIN required');
    if (u.startsWith('ATD')) return this.dial(line);
    if (u === 'AT+CLCC') {
      const c = this.call;
      const list = c ? [`+CLCC: 1,0,${c.stat},0,0,"${c.number}",${c.number.startsWith('+') ? 145 : 129}`] : [];
      const inc = this.incoming;
      if (inc) list.push(`+CLCC: ${c ? 2 : 1},1,4,0,0,"${inc.number}",${inc.number.startsWith('+') ? 145 : 129}`);
      return this.ok(list);
    }
    if (u === 'ATH' || u === 'ATH0') {
      this.hangups++;
      if (this.incoming) this.rejectedCalls.push(this.incoming.number);
      this.endIncoming();
      this.endCall();
      return this.ok();
    }
    if ((m = /^AT\+CMGS=(\d+)$/.exec(u))) {
      this.pduMode = { length: Number(m[1]) };
      this.input = '';
      this.write('\r\n> ');
      return;
    }
    if ((m = /^AT\+CMGR=(\d+)$/.exec(u))) {
      const s = this.storage.get(Number(m[1]));
      if (!s) return this.cmsError(321, 'invalid memory index');
      const stat = s.stat;
      s.stat = 1;
      return this.ok([`+CMGR: ${stat},,${tpduLength(s.pdu)}`, s.pdu]);
    }
    if ((m = /^AT\+CMGL=(\d)$/.exec(u))) {
      const want = Number(m[1]);
      const lines: string[] = [];
      for (const [i, s] of [...this.storage.entries()].sort((a, b) => a[0] - b[0])) {
        if (want !== 4 && s.stat !== want) continue;
        lines.push(`+CMGL: ${i},${s.stat},,${tpduLength(s.pdu)}`, s.pdu);
        s.stat = s.stat === 0 ? 1 : s.stat;
      }
      return this.ok(lines);
    }
    if ((m = /^AT\+CMGD=(\d+)(?:,[0-4])?$/.exec(u))) {
      this.storage.delete(Number(m[1]));
      return this.ok();
    }
    this.respond([], 'ERROR');
  }

  private onPdu(hex: string, length: number): void {
    this.pduBodies.push(hex);
    const delay = this.opts.cmgsDelayMs ?? 150;
    const injected = this.cmgsErrors.shift();
    if (injected) {
      this.later(delay, () => this.respond([], injected));
      return;
    }
    let decoded: DecodedSubmit;
    try {
      if (!/^[0-9A-F]+$/i.test(hex) || hex.length % 2 !== 0) throw new Error('not hex');
      if (tpduLength(hex) !== length) throw new Error(`length ${length} does not match TPDU ${tpduLength(hex)}`);
      decoded = decodeSmsSubmit(hex);
    } catch {
      this.later(delay, () => this.cmsError(304, 'invalid PDU mode parameter'));
      return;
    }
    const mr = (this.mr = (this.mr + 1) & 0xff);
    this.sent.push({ ...decoded, mr });
    this.later(delay, () => this.ok([`+CMGS: ${mr}`]));
  }

  // ---- calls ----

  private dial(line: string): void {
    const m = /^ATD(\+?\d{3,20});$/.exec(line);
    if (!m) return this.respond([], 'ERROR');
    if (this.call) return this.cmeError(3, 'operation not allowed');
    const number = m[1]!;
    const script: CallScript = this.opts.calls?.[number] ?? { result: 'no-answer' };
    if (script.result === 'no-dialtone') return this.respond([], 'NO DIALTONE');
    const call: ActiveCall = { number, stat: 2, timers: [] };
    this.call = call;
    this.ok();
    const at = (ms: number, fn: () => void) => call.timers.push(this.later(ms, () => this.call === call && fn()));
    at(script.alertAfterMs ?? 100, () => {
      if (call.stat === 2) call.stat = 3;
    });
    const after = script.afterMs ?? 300;
    switch (script.result) {
      case 'busy':
        at(after, () => {
          this.endCall();
          this.urc('BUSY');
        });
        break;
      case 'reject':
        at(after, () => {
          this.endCall();
          this.urc('NO CARRIER');
        });
        break;
      case 'answer':
        at(after, () => {
          call.stat = 0;
          for (const k of script.keys ?? []) at(k.afterMs, () => this.urc(`+DTMF: ${k.key}`));
          if (script.hangupAfterMs !== undefined) {
            at(script.hangupAfterMs, () => {
              this.endCall();
              this.urc('NO CARRIER');
            });
          }
        });
        break;
      default:
        break; // no-answer: alerting until ATH
    }
  }

  private endIncoming(): void {
    const c = this.incoming;
    if (!c) return;
    for (const t of c.timers) {
      clearTimeout(t);
      this.timers.delete(t);
    }
    this.incoming = null;
  }

  private endCall(): void {
    const c = this.call;
    if (!c) return;
    for (const t of c.timers) {
      clearTimeout(t);
      this.timers.delete(t);
    }
    this.call = null;
  }
}
