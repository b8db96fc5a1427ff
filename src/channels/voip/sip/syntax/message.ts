/**
 * SIP message model (RFC 3261 §7): a start line, ordered header fields, and a body.
 * Header names are looked up case-insensitively with compact forms expanded.
 */
import { SipParseError } from './errors.js';
import { canonicalHeaderName, headerKey } from './header-names.js';
import { splitOutside } from './lexer.js';
import { parseNameAddr, type NameAddr } from './name-addr.js';
import { parseVia, type Via } from './via.js';

export interface HeaderField {
  /** Canonical spelling (compact forms expanded). */
  name: string;
  value: string;
}

export class Headers {
  private fields: HeaderField[] = [];

  constructor(init?: Iterable<[string, string]>) {
    if (init) for (const [n, v] of init) this.add(n, v);
  }

  add(name: string, value: string): this {
    this.fields.push({ name: canonicalHeaderName(name), value });
    return this;
  }

  /** Replaces every field of that name with one field (placed where the first one was). */
  set(name: string, value: string): this {
    const key = headerKey(name);
    const idx = this.fields.findIndex((f) => f.name.toLowerCase() === key);
    this.remove(name);
    const field = { name: canonicalHeaderName(name), value };
    if (idx < 0) this.fields.push(field);
    else this.fields.splice(idx, 0, field);
    return this;
  }

  /** Inserts a field before every other (a new top Via). */
  prepend(name: string, value: string): this {
    this.fields.unshift({ name: canonicalHeaderName(name), value });
    return this;
  }

  remove(name: string): this {
    const key = headerKey(name);
    this.fields = this.fields.filter((f) => f.name.toLowerCase() !== key);
    return this;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Value of the first field with that name. */
  get(name: string): string | undefined {
    const key = headerKey(name);
    return this.fields.find((f) => f.name.toLowerCase() === key)?.value;
  }

  /** Values of every field with that name, in order. */
  getAll(name: string): string[] {
    const key = headerKey(name);
    return this.fields.filter((f) => f.name.toLowerCase() === key).map((f) => f.value);
  }

  /**
   * Elements of a list-valued header (Via, Contact, Route, Allow...): every field, each split
   * on commas outside quotes and <>. Do not use for Authorization-style headers.
   */
  list(name: string): string[] {
    return this.getAll(name).flatMap((v) => splitOutside(v, ','));
  }

  entries(): readonly HeaderField[] {
    return this.fields;
  }

  clone(): Headers {
    const h = new Headers();
    h.fields = this.fields.map((f) => ({ ...f }));
    return h;
  }
}

export interface SipRequest {
  type: 'request';
  method: string;
  uri: string;
  headers: Headers;
  body: Buffer;
}

export interface SipResponse {
  type: 'response';
  status: number;
  reason: string;
  headers: Headers;
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

export interface CSeq {
  seq: number;
  method: string;
}

export function parseCSeq(value: string): CSeq {
  const m = /^(\d{1,10})[ \t]+([A-Za-z0-9\-.!%*_+`'~]+)$/.exec(value.trim());
  if (!m) throw new SipParseError(`malformed CSeq: ${value.slice(0, 60)}`);
  const seq = Number(m[1]);
  if (seq >= 2 ** 31) throw new SipParseError('CSeq number must be below 2^31');
  return { seq, method: m[2]! };
}

// Accessors for the header fields every message carries (validated by parseMessage).

/** A header every message must carry, or a parse error naming it. */
function required(msg: SipMessage, name: string): string {
  const v = msg.headers.get(name);
  if (v === undefined) throw new SipParseError(`missing ${name}`);
  return v;
}

export function cseqOf(msg: SipMessage): CSeq {
  return parseCSeq(required(msg, 'CSeq'));
}

export function callIdOf(msg: SipMessage): string {
  return required(msg, 'Call-ID').trim();
}

export function viasOf(msg: SipMessage): Via[] {
  return msg.headers.list('Via').map(parseVia);
}

export function topVia(msg: SipMessage): Via {
  const v = msg.headers.list('Via')[0];
  if (v === undefined) throw new SipParseError('missing Via');
  return parseVia(v);
}

export function fromOf(msg: SipMessage): NameAddr {
  return parseNameAddr(required(msg, 'From'));
}

export function toOf(msg: SipMessage): NameAddr {
  return parseNameAddr(required(msg, 'To'));
}

/** Contact entries (empty for none or for "*"). */
export function contactsOf(msg: SipMessage): NameAddr[] {
  const list = msg.headers.list('Contact');
  if (list.length === 1 && list[0] === '*') return [];
  return list.map(parseNameAddr);
}

export function tagOf(na: NameAddr): string | undefined {
  return na.params.get('tag') ?? undefined;
}
