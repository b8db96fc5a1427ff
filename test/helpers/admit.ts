/** Storing an alert the way the receivers do (parse, admission in the store's transaction), for tests that drive the store directly. */
import type { Stores } from '../../src/store/index.js';
import type { AdmitResult } from '../../src/store/rows.js';
import { admissionRules, admitInput, compileIgnore, type AdmissionSettings } from '../../src/core/admission.js';
import { acknowledger, type AckResult } from '../../src/core/acknowledge.js';
import { parseAlertMail } from '../../src/receiver/parse-alert.js';
import { silentLogger } from '../../src/util/log.js';

export type { AdmissionSettings };
export { compileIgnore };

export async function admitMail(s: Stores, raw: Buffer | string, rcpt: string[], now: number, settings: Partial<AdmissionSettings> = {}, plan?: string[]): Promise<AdmitResult> {
  const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
  const recipients = [];
  for (const r of rcpt) recipients.push(...(await s.users.resolveRecipient(r)));
  const [res] = await s.alerts.admitBatch(
    [admitInput({ parsed: await parseAlertMail(buf), raw: buf, rcpt, recipients, receivedAt: now, ...(plan ? { plan } : {}) })],
    admissionRules({ ignore: [], dedupeWindowMs: 0, notifyResolved: true, ...settings }),
  );
  return res!;
}

/** Acknowledges through the core's one entry, as an operator or a user would. */
export function ackAs(s: Stores, alertId: number, by: string, via: string, now: number): Promise<AckResult> {
  const ack = acknowledger({ alerts: s.alerts, users: s.users, now: () => now, logger: silentLogger });
  return ack({ alertId, by: by.includes('@') ? { email: by } : { operator: by }, via });
}
