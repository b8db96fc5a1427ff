/** Serializes a SIP message; Content-Length always states the body's real length in bytes. */
import type { SipMessage } from './message.js';

export function serializeMessage(msg: SipMessage): Buffer {
  const startLine = msg.type === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
  const lines = [startLine];
  for (const f of msg.headers.entries()) {
    if (f.name === 'Content-Length') continue;
    if (/[\r\n]/.test(f.name) || /[\r\n]/.test(f.value)) throw new Error(`header ${f.name} contains a line break`);
    lines.push(`${f.name}: ${f.value}`);
  }
  lines.push(`Content-Length: ${msg.body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'utf8'), msg.body]);
}
