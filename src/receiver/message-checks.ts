/**
 * Checks on the raw DATA before anything is parsed or stored: NUL bytes, header lines beyond
 * RFC 5322's 998 octets, a header section too large, and bare CR/LF sequences around a dot line
 * that a downstream server could read as the end of DATA (SMTP smuggling).
 */
export interface MessageProblem {
  code: number;
  message: string;
}

const MAX_HEADER_LINE = 998;
const MAX_HEADER_BYTES = 64 * 1024;

export function checkRawMessage(raw: Buffer): MessageProblem | null {
  if (raw.includes(0)) return { code: 554, message: '5.6.0 Message contains NUL bytes' };
  // End-of-data look-alikes that are not CRLF.CRLF: <LF>.<LF>, <LF>.<CR><LF> without CR before,
  // <CR><LF>.<LF>, <CR>.<CR>.
  for (let i = raw.indexOf(0x2e); i !== -1; i = raw.indexOf(0x2e, i + 1)) {
    const before = raw[i - 1];
    const after = raw[i + 1];
    if (before !== 0x0a && before !== 0x0d) continue;
    const crlfBefore = before === 0x0a && raw[i - 2] === 0x0d;
    const crlfAfter = after === 0x0d && raw[i + 2] === 0x0a;
    const lineEndAfter = after === 0x0a || after === 0x0d;
    if (lineEndAfter && !(crlfBefore && crlfAfter)) {
      return { code: 554, message: '5.6.0 Bare CR or LF around a dot line refused (SMTP smuggling protection); send CRLF line endings' };
    }
  }
  let headerEnd = raw.indexOf('\r\n\r\n');
  if (headerEnd < 0) headerEnd = raw.indexOf('\n\n');
  if (headerEnd < 0) headerEnd = raw.length;
  if (headerEnd > MAX_HEADER_BYTES) return { code: 552, message: '5.3.4 Header section too large' };
  let start = 0;
  while (start < headerEnd) {
    let nl = raw.indexOf(0x0a, start);
    if (nl < 0 || nl > headerEnd) nl = headerEnd;
    const len = nl - start - (raw[nl - 1] === 0x0d ? 1 : 0);
    if (len > MAX_HEADER_LINE) return { code: 554, message: `5.6.0 Header line longer than ${MAX_HEADER_LINE} octets` };
    start = nl + 1;
  }
  return null;
}
