/**
 * GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1 and §6.2.1.1).
 * Characters ↔ septet values only; packing septets into octets lives in septet-packing.ts.
 */

/** Escape to the extension table (default alphabet position 0x1B). */
export const GSM7_ESCAPE = 0x1b;

/**
 * Default alphabet, indexed by septet value 0x00..0x7F. Position 0x1B is the escape code and
 * never maps from a character; a NUL placeholder stands there.
 */
const DEFAULT_TABLE =
  '@£$¥èéùìòÇ\nØø\rÅå' + // 0x00-0x0F
  'Δ_ΦΓΛΩΠΨΣΘΞ\u0000ÆæßÉ' + // 0x10-0x1F (0x1B = ESC)
  ' !"#¤%&\'()*+,-./' + // 0x20-0x2F
  '0123456789:;<=>?' + // 0x30-0x3F
  '¡ABCDEFGHIJKLMNO' + // 0x40-0x4F
  'PQRSTUVWXYZÄÖÑÜ§' + // 0x50-0x5F
  '¿abcdefghijklmno' + // 0x60-0x6F
  'pqrstuvwxyzäöñüà'; // 0x70-0x7F

/** Extension table: septet after ESC → character. Form feed is the page break (0x0A). */
const EXTENSION_ENTRIES: ReadonlyArray<readonly [number, string]> = [
  [0x0a, '\f'],
  [0x14, '^'],
  [0x28, '{'],
  [0x29, '}'],
  [0x2f, '\\'],
  [0x3c, '['],
  [0x3d, '~'],
  [0x3e, ']'],
  [0x40, '|'],
  [0x65, '€'],
];

if (DEFAULT_TABLE.length !== 128) throw new Error('GSM 7-bit default table must have 128 entries');

const defaultByChar = new Map<string, number>();
for (let i = 0; i < 128; i++) if (i !== GSM7_ESCAPE) defaultByChar.set(DEFAULT_TABLE[i]!, i);
const extensionByChar = new Map<string, number>(EXTENSION_ENTRIES.map(([code, ch]) => [ch, code]));
const extensionByCode = new Map<number, string>(EXTENSION_ENTRIES);

/**
 * The septets for one character (one code point): [code] from the default alphabet,
 * [ESC, code] from the extension table, or null when GSM 7-bit cannot carry it.
 */
export function gsm7Septets(ch: string): number[] | null {
  const d = defaultByChar.get(ch);
  if (d !== undefined) return [d];
  const e = extensionByChar.get(ch);
  if (e !== undefined) return [GSM7_ESCAPE, e];
  return null;
}

/** True when every character of the text is in the default alphabet or the extension table. */
export function isGsm7Text(text: string): boolean {
  for (const ch of text) if (gsm7Septets(ch) === null) return false;
  return true;
}

/** Text → septet values. Throws (a programming error) if a character is not representable. */
export function textToSeptets(text: string): number[] {
  const out: number[] = [];
  for (const ch of text) {
    const s = gsm7Septets(ch);
    if (s === null) throw new Error(`character U+${ch.codePointAt(0)!.toString(16)} is not in GSM 7-bit`);
    out.push(...s);
  }
  return out;
}

/**
 * Septet values → text. Per TS 23.038: an escape followed by a code the extension table does
 * not define shows the default-alphabet character for that code; ESC ESC (reserved for a
 * further extension table) shows a space; so does a lone ESC at the very end.
 */
export function septetsToText(septets: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < septets.length; i++) {
    const s = septets[i]! & 0x7f;
    if (s !== GSM7_ESCAPE) {
      out += DEFAULT_TABLE[s]!;
      continue;
    }
    if (i + 1 >= septets.length) {
      out += ' ';
      continue;
    }
    const next = septets[++i]! & 0x7f;
    if (next === GSM7_ESCAPE) out += ' ';
    else out += extensionByCode.get(next) ?? DEFAULT_TABLE[next]!;
  }
  return out;
}
