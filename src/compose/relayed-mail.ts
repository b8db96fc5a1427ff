/**
 * The relayed mail: the original message, byte for byte in its body, with From set to the
 * appliance's address and the original sender kept in Reply-To. Headers that would be false or
 * harmful after relaying (DKIM signatures, Return-Path, Sender, Received trail) are dropped, and a
 * loop marker is added so the appliance refuses its own relayed mail if it ever comes back.
 */
export const LOOP_HEADER = 'X-Alertline-Relayed';

const DROP = new Set(['from', 'sender', 'reply-to', 'return-path', 'dkim-signature', 'arc-seal', 'arc-message-signature', 'arc-authentication-results', 'received', 'delivered-to', 'to', 'cc', 'bcc']);

function splitHeader(raw: Buffer): { header: string; body: Buffer } {
  let idx = raw.indexOf('\r\n\r\n');
  let sepLen = 4;
  if (idx < 0) {
    idx = raw.indexOf('\n\n');
    sepLen = 2;
  }
  if (idx < 0) return { header: raw.toString('latin1'), body: Buffer.alloc(0) };
  return { header: raw.subarray(0, idx).toString('latin1'), body: raw.subarray(idx + sepLen) };
}

/** Header fields as [name, full folded text] in order. */
export function headerFields(header: string): [string, string][] {
  const out: [string, string][] = [];
  for (const line of header.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length) out[out.length - 1]![1] += '\r\n' + line;
    else {
      const c = line.indexOf(':');
      if (c > 0) out.push([line.slice(0, c).trim().toLowerCase(), line]);
    }
  }
  return out;
}

function encodeDisplayName(name: string): string {
  return /^[\x20-\x7e]*$/.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}"` : `=?UTF-8?B?${Buffer.from(name).toString('base64')}?=`;
}

export function buildRelayedMail(opts: {
  raw: Buffer;
  from: string;
  fromName?: string;
  to: string;
  /** Envelope sender, used for Reply-To when the message has no From field. */
  originalFrom?: string;
  alertId: number;
  hostname: string;
}): Buffer {
  const { header, body } = splitHeader(opts.raw);
  const fields = headerFields(header);
  const kept = fields.filter(([name]) => !DROP.has(name) && name !== LOOP_HEADER.toLowerCase());
  // Reply-To: the original From field as written (display name and encoding kept), else the envelope sender.
  const origFrom = fields.find(([n]) => n === 'from')?.[1].replace(/^from:\s*/i, '').trim();
  const replyTo = origFrom || (opts.originalFrom ? `<${opts.originalFrom}>` : '');
  const lines = [
    `From: ${encodeDisplayName(opts.fromName ?? 'Alertline')} <${opts.from}>`,
    `To: <${opts.to}>`,
    ...(replyTo ? [`Reply-To: ${replyTo}`] : []),
    `${LOOP_HEADER}: ${opts.hostname}; alert=${opts.alertId}`,
    ...kept.map(([, text]) => text),
  ];
  if (!kept.some(([n]) => n === 'message-id')) lines.push(`Message-ID: <alert-${opts.alertId}.${Date.now()}@${opts.hostname}>`);
  if (!kept.some(([n]) => n === 'date')) lines.push(`Date: ${new Date().toUTCString().replace('GMT', '+0000')}`);
  // Normalize bare LF in the body to CRLF so no downstream server sees an ambiguous line end.
  const bodyText = body.toString('latin1').replace(/\r?\n/g, '\r\n').replace(/\r(?!\n)/g, '\r\n');
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), Buffer.from(bodyText, 'latin1')]);
}

/** Whether a received message is one this appliance relayed (mail loop). */
export function isOwnRelay(raw: Buffer, hostname: string): boolean {
  const { header } = splitHeader(raw.subarray(0, 64 * 1024));
  return headerFields(header).some(([n, t]) => n === LOOP_HEADER.toLowerCase() && t.includes(hostname));
}
