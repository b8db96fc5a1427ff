/**
 * Mail parsing on hostile input (issue 19 items 2 and 3, and the rest of the receiver's text
 * path): everything after mailparser, which is synchronous (alertFromMail), plus the pieces on
 * their own. Each make(n) builds an input of about n characters.
 */
import type { AdversarialCase } from './types.js';
import { alertFromMail } from '../../src/receiver/parse-alert.js';
import { htmlToText, scanText } from '../../src/receiver/monitors/html.js';
import { stripControls } from '../../src/receiver/monitors/text.js';
import { normalizeSubject, cleanSubject } from '../../src/core/subject.js';
import { zabbixEventIdFromReference } from '../../src/receiver/monitors/zabbix.js';
import { canonicalGroup } from '../../src/receiver/monitors/grafana.js';

const s = (x: string | Buffer) => (typeof x === 'string' ? x : x.toString('latin1'));

export const cases: AdversarialCase[] = [
  { name: 'body "Host: x" + n blanks + "y"', n: 6_000, make: (n) => `Host: x${' '.repeat(n)}y\n`, run: (x) => alertFromMail({ subject: 'Problem: p', text: s(x) }) },
  { name: 'body n/10 lines "Host:" + 9 blanks', n: 60_000, make: (n) => 'Host:         \n'.repeat(n / 15), run: (x) => alertFromMail({ subject: 's', text: s(x) }) },
  { name: 'HTML-only "<a" repeated', n: 20_000, make: (n) => '<a'.repeat(n / 2), run: (x) => alertFromMail({ subject: 's', html: s(x) }) },
  { name: 'HTML-only "<b>" nested n/3 deep', n: 30_000, make: (n) => `${'<b>'.repeat(n / 3)}Host: h`, run: (x) => alertFromMail({ subject: 's', html: s(x) }) },
  { name: 'HTML-only "<td><p>" unclosed', n: 30_000, make: (n) => `<table><tr>${'<td><p>x'.repeat(n / 8)}`, run: (x) => alertFromMail({ subject: 's', html: s(x) }) },
  { name: 'HTML "<br style=" + unterminated quote', n: 20_000, make: (n) => `<br style="${'a'.repeat(n)}`, run: (x) => htmlToText(s(x)) },
  { name: 'HTML scanner "&" repeated', n: 20_000, make: (n) => '&'.repeat(n), run: (x) => scanText(s(x)) },
  { name: 'HTML scanner "<script" repeated', n: 20_000, make: (n) => '<script>'.repeat(n / 8), run: (x) => scanText(s(x)) },
  { name: 'HTML "<!--" without end', n: 20_000, make: (n) => `<p>x</p>${'<!--'.repeat(n / 4)}`, run: (x) => htmlToText(s(x)) },
  { name: 'control: ESC[ + "1;" repeated', n: 20_000, make: (n) => `\x1b[${'1;'.repeat(n / 2)}`, run: (x) => stripControls(s(x)) },
  { name: 'control: OSC without terminator', n: 20_000, make: (n) => `\x1b]0;${'a'.repeat(n)}`, run: (x) => stripControls(s(x)) },
  { name: 'subject: Nagios "** …" + blanks before "is"', n: 2_000, make: (n) => `** PROBLEM Service Alert: a${' '.repeat(n)}is CRITICAL **`, run: (x) => normalizeSubject(s(x)) + cleanSubject(s(x)) },
  { name: 'subject: " is" repeated', n: 2_000, make: (n) => `** PROBLEM Host Alert: ${' is'.repeat(n / 3)} **`, run: (x) => normalizeSubject(s(x)) },
  { name: 'In-Reply-To: digits then @zabbix.com', n: 20_000, make: (n) => `<${'1'.repeat(n)}@zabbix.com>`, run: (x) => zabbixEventIdFromReference(s(x)) },
  { name: 'Alertmanager body: "Labels" / pair lines', n: 60_000, make: (n) => '[1] Firing\nLabels\nalertname = X\ninstance = y\n'.repeat(n / 40), run: (x) => alertFromMail({ subject: '[FIRING:1] X', text: `1 alert for alertname=X\n${s(x)}Sent by Alertmanager\n` }) },
  { name: 'Grafana body: "Labels:" with n pairs', n: 60_000, make: (n) => `Labels: ${'a=b, '.repeat(n / 5)}`, run: (x) => alertFromMail({ subject: '[FIRING:1] X', text: `${s(x)}\nSent by Grafana v10\n` }) },
  { name: 'Grafana group: "map[" + n tokens', n: 20_000, make: (n) => `map[${'a:b c '.repeat(n / 6)}]`, run: (x) => canonicalGroup(s(x)) },
  { name: 'Zabbix update: " problem at " lines', n: 60_000, make: (n) => 'x acknowledged problem at '.repeat(n / 26), run: (x) => alertFromMail({ subject: 'Updated problem in 1m: X', text: s(x), inReplyTo: '<1.9ff56bcaca168ef9148d90da12ce3c29.1.e34967609cdfa462595b4efda5ecd406@zabbix.com>' }) },
];
