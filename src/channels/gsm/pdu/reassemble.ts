import type { DecodedDeliver } from './deliver.js';

/**
 * Joins the parts of one concatenated message (3GPP TS 23.040 §9.2.3.24.1). The parts must
 * come from one sender and carry the same reference and total; every sequence number from 1 to
 * total must be present (a duplicate with the same text, as a network retry delivers, is fine).
 * A single part without a concatenation header is a whole message by itself.
 * Returns null when the set is incomplete or inconsistent.
 */
export function reassemble(parts: DecodedDeliver[]): string | null {
  if (!Array.isArray(parts) || parts.length === 0) return null;
  const first = parts[0]!;
  if (!first.concat) return parts.length === 1 ? first.text : null;
  const { ref, total } = first.concat;
  const bySeq = new Map<number, string>();
  for (const p of parts) {
    const c = p.concat;
    if (!c || c.ref !== ref || c.total !== total || p.sender !== first.sender) return null;
    const seen = bySeq.get(c.seq);
    if (seen !== undefined && seen !== p.text) return null;
    bySeq.set(c.seq, p.text);
  }
  if (bySeq.size !== total) return null;
  let text = '';
  for (let seq = 1; seq <= total; seq++) {
    const t = bySeq.get(seq);
    if (t === undefined) return null;
    text += t;
  }
  return text;
}

export interface ReassembledMessage<T extends DecodedDeliver> {
  sender: string;
  text: string;
  /** The parts the message was made of (for deleting them from the modem's storage). */
  parts: T[];
}

/**
 * Sorts a mixed bag of received parts (e.g. everything AT+CMGL listed) into complete messages
 * and parts still waiting for the rest. Parts are grouped by sender, reference and total.
 */
export function reassembleAll<T extends DecodedDeliver>(
  parts: T[],
): { complete: ReassembledMessage<T>[]; incomplete: T[] } {
  const groups = new Map<string, T[]>();
  const complete: ReassembledMessage<T>[] = [];
  for (const p of parts) {
    if (!p.concat) {
      complete.push({ sender: p.sender, text: p.text, parts: [p] });
      continue;
    }
    const key = `${p.concat.ref}\u0000${p.concat.total}\u0000${p.sender}`;
    const g = groups.get(key);
    if (g) g.push(p);
    else groups.set(key, [p]);
  }
  const incomplete: T[] = [];
  for (const g of groups.values()) {
    const text = reassemble(g);
    if (text === null) incomplete.push(...g);
    else complete.push({ sender: g[0]!.sender, text, parts: g });
  }
  return { complete, incomplete };
}
