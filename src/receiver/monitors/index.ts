/**
 * The one place that decides which monitor wrote a mail: each recogniser's detect() is asked in
 * this order and the first that says yes reads the mail; the generic reader takes the rest.
 * Grafana is asked before Alertmanager (both write "[FIRING:n]" subjects), Zabbix first (its
 * In-Reply-To is unambiguous).
 */
import type { Recogniser } from './types.js';
import { zabbix } from './zabbix.js';
import { grafana } from './grafana.js';
import { alertmanager } from './alertmanager.js';
import { nagios } from './nagios.js';
import { generic } from './generic.js';

export const RECOGNISERS: readonly Recogniser[] = [zabbix, grafana, alertmanager, nagios];

export function recogniserFor(m: Parameters<Recogniser['detect']>[0]): Recogniser {
  for (const r of RECOGNISERS) if (r.detect(m)) return r;
  return generic;
}

export type { MailView, Recognised, Recogniser } from './types.js';
export { zabbixEventIdFromReference } from './zabbix.js';
