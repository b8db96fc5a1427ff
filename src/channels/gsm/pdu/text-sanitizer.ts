/**
 * Makes arbitrary text (an e-mail subject or body, possibly hostile) safe and sensible to send
 * as an SMS. What it does, in order:
 *  - CR LF pairs become a single LF (a line break costs one character, not two);
 *  - every other control character — C0 (U+0000-U+001F) except LF, CR and form feed, DEL
 *    (U+007F) and C1 (U+0080-U+009F) — becomes a space. This covers Ctrl-Z (0x1A), ESC (0x1B),
 *    NUL and tab. Form feed stays: it is the GSM extension table's page break;
 *  - an unpaired UTF-16 surrogate (not a character) becomes U+FFFD.
 * Everything else, including ';' and '"', is ordinary text: the codec only ever emits hex
 * digits, so no character of the text can reach the modem's command line.
 */
export function sanitizeSmsText(text: string): string {
  const s = String(text);
  // One pass over the code units into a copy (only once something changes): CR LF → LF, one
  // unit for one otherwise. No regular expression, no string built character by character.
  let out: Uint16Array | null = null;
  let w = 0;
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    let put = u;
    if (u === 0x0d && i + 1 < s.length && s.charCodeAt(i + 1) === 0x0a) {
      put = -1; // the LF that follows is kept
    } else if (u >= 0xd800 && u <= 0xdbff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (next >= 0xdc00 && next <= 0xdfff) {
        if (out) {
          out[w++] = u;
          out[w++] = next;
        } else w += 2;
        i++;
        continue;
      }
      put = 0xfffd;
    } else if (u >= 0xdc00 && u <= 0xdfff) put = 0xfffd;
    else if ((u < 0x20 || (u >= 0x7f && u <= 0x9f)) && u !== 0x0a && u !== 0x0d && u !== 0x0c) put = 0x20;
    if (put !== u && !out) {
      out = new Uint16Array(s.length);
      for (let j = 0; j < i; j++) out[j] = s.charCodeAt(j);
    }
    if (put < 0) continue;
    if (out) out[w] = put;
    w++;
  }
  if (!out) return s;
  const chunks: string[] = [];
  for (let i = 0; i < w; i += 8192) chunks.push(String.fromCharCode(...out.subarray(i, Math.min(i + 8192, w))));
  return chunks.join('');
}
