import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseAlertMail, alertFromMail, alertKind, normalizeSubject, zabbixEventIdFromReference, htmlToText } from '../../src/receiver/parse-alert.js';
import type { ParsedAlert } from '../../src/core/model.js';
import { fixture, fixtureNames } from '../helpers/env.js';

type Row = Pick<ParsedAlert, 'kind' | 'monitor' | 'host' | 'level' | 'sentence' | 'firing' | 'ackBy'> & { key: string };

/** What each fixture means: one row per file in test/fixtures/mail (see its README). */
const TABLE: Record<string, Row> = {
  'alertmanager-firing.eml': { kind: 'problem', monitor: 'alertmanager', host: 'api-7f9c:9100', level: 'critical', key: 'subject:highlatency api (critical)|api-7f9c:9100', sentence: 'p99 latency above 2s for 10 minutes on api-7f9c:9100', firing: 1 },
  'grafana-firing.eml': { kind: 'problem', monitor: 'grafana', host: 'web01:9100', level: 'critical', key: 'grafana:alertname=HighCPU,grafana_folder=Servers', sentence: 'HighCPU: CPU usage above 90% on web01', firing: 1 },
  'grafana-group-firing2.eml': { kind: 'problem', monitor: 'grafana', host: 'db01:9100, db02:9100', level: 'critical', key: 'grafana:alertname=DiskFull,grafana_folder=Servers', sentence: 'DiskFull: /var on db01 is 97% full (+1 more)', firing: 2 },
  'grafana-group-mixed-html-only.eml': { kind: 'problem', monitor: 'grafana', host: 'db02:9100', level: 'critical', key: 'grafana:alertname=DiskFull,grafana_folder=Servers', sentence: 'DiskFull: /var on db02 is 98% full', firing: 1 },
  'grafana-resolved.eml': { kind: 'resolved', monitor: 'grafana', host: 'web01:9100', level: 'critical', key: 'grafana:alertname=HighCPU,grafana_folder=Servers', sentence: 'HighCPU: CPU usage above 90% on web01', firing: 0 },
  'nagios-problem.eml': { kind: 'problem', monitor: 'nagios', host: 'web01', level: 'critical', key: 'nagios:web01/http', sentence: 'web01/HTTP is CRITICAL: connect to address 192.0.2.10 and port 80: Connection refused' },
  'real-alertmanager-firing.eml': { kind: 'problem', monitor: 'alertmanager', host: 'web01:9100', level: 'critical', key: 'alertmanager:alertline|alertname=HighCPU instance=web01:9100', sentence: 'CPU usage above 90% on web01', firing: 1 },
  'real-alertmanager-resolved.eml': { kind: 'resolved', monitor: 'alertmanager', host: 'web01:9100', level: 'critical', key: 'alertmanager:alertline|alertname=HighCPU instance=web01:9100', sentence: 'CPU usage above 90% on web01', firing: 0 },
  'real-am025-firing.eml': { kind: 'problem', monitor: 'alertmanager', host: 'web01:9100', level: 'critical', key: 'alertmanager:alertline|alertname=HighCPU instance=web01:9100', sentence: 'CPU usage above 90% on web01', firing: 1 },
  'real-am025-group-firing1.eml': { kind: 'problem', monitor: 'alertmanager', host: 'dbB:9100', level: 'critical', key: 'alertmanager:alertline|alertname=NodeDown', sentence: 'Node dbB is down', firing: 1 },
  'real-am025-group-firing2.eml': { kind: 'problem', monitor: 'alertmanager', host: 'dbA:9100, dbB:9100', level: 'critical', key: 'alertmanager:alertline|alertname=NodeDown', sentence: 'Node dbA is down (+1 more)', firing: 2 },
  'real-am025-group-resolved.eml': { kind: 'resolved', monitor: 'alertmanager', host: 'dbB:9100', level: 'critical', key: 'alertmanager:alertline|alertname=NodeDown', sentence: 'Node dbB is down', firing: 0 },
  'real-am025-refiring.eml': { kind: 'problem', monitor: 'alertmanager', host: 'web01:9100', level: 'critical', key: 'alertmanager:alertline|alertname=HighCPU instance=web01:9100', sentence: 'CPU usage above 90% on web01', firing: 1 },
  'real-am025-reresolved.eml': { kind: 'resolved', monitor: 'alertmanager', host: 'web01:9100', level: 'critical', key: 'alertmanager:alertline|alertname=HighCPU instance=web01:9100', sentence: 'CPU usage above 90% on web01', firing: 0 },
  'real-am025-resolved.eml': { kind: 'resolved', monitor: 'alertmanager', host: 'web01:9100', level: 'critical', key: 'alertmanager:alertline|alertname=HighCPU instance=web01:9100', sentence: 'CPU usage above 90% on web01', firing: 0 },
  'real-nagios-service-problem.eml': { kind: 'problem', monitor: 'nagios', host: 'web01', level: 'critical', key: 'nagios:web01/http', sentence: 'web01/HTTP is CRITICAL: CRITICAL - Socket timeout after 10 seconds' },
  'real-nagios-service-recovery.eml': { kind: 'resolved', monitor: 'nagios', host: 'web01', level: 'info', key: 'nagios:web01/http', sentence: 'web01/HTTP is OK: HTTP OK: HTTP/1.1 200 OK - 512 bytes in 0.002 second response time' },
  'real-nagios44-host-ack.eml': { kind: 'ack', monitor: 'nagios', host: 'web01', level: 'critical', key: 'nagios:web01', sentence: 'web01 is DOWN, acknowledged' },
  'real-nagios44-host-down.eml': { kind: 'problem', monitor: 'nagios', host: 'web01', level: 'critical', key: 'nagios:web01', sentence: 'web01 is DOWN: CRITICAL - Host Unreachable (127.0.0.1)' },
  'real-nagios44-host-up.eml': { kind: 'resolved', monitor: 'nagios', host: 'web01', level: 'info', key: 'nagios:web01', sentence: 'web01 is UP: PING OK - Packet loss = 0%, RTA = 0.05 ms' },
  'real-nagios44-service-ack-author.eml': { kind: 'ack', monitor: 'nagios', host: 'web01', level: 'critical', key: 'nagios:web01/http', sentence: 'web01/HTTP is CRITICAL, acknowledged by jdoe: Looking into it', ackBy: 'jdoe' },
  'real-nagios44-service-ack.eml': { kind: 'ack', monitor: 'nagios', host: 'web01', level: 'critical', key: 'nagios:web01/http', sentence: 'web01/HTTP is CRITICAL, acknowledged' },
  'real-nagios44-service-critical-after-warning.eml': { kind: 'problem', monitor: 'nagios', host: 'web01', level: 'critical', key: 'nagios:web01/http', sentence: 'web01/HTTP is CRITICAL: CRITICAL - Socket timeout after 10 seconds' },
  'real-nagios44-service-downtime-end.eml': { kind: 'update', monitor: 'nagios', host: 'web01', level: 'info', key: 'nagios:web01/http', sentence: 'web01/HTTP left scheduled downtime' },
  'real-nagios44-service-downtime-start.eml': { kind: 'update', monitor: 'nagios', host: 'web01', level: 'info', key: 'nagios:web01/http', sentence: 'web01/HTTP entered scheduled downtime' },
  'real-nagios44-service-flapping-start.eml': { kind: 'problem', monitor: 'nagios', host: 'web01', level: 'warning', key: 'nagios:web01/http', sentence: 'web01/HTTP is flapping (OK)' },
  'real-nagios44-service-flapping-stop.eml': { kind: 'update', monitor: 'nagios', host: 'web01', level: 'info', key: 'nagios:web01/http', sentence: 'web01/HTTP stopped flapping (OK)' },
  'real-nagios44-service-problem-again.eml': { kind: 'problem', monitor: 'nagios', host: 'web01', level: 'critical', key: 'nagios:web01/http', sentence: 'web01/HTTP is CRITICAL: CRITICAL - Socket timeout after 10 seconds' },
  'real-nagios44-service-problem.eml': { kind: 'problem', monitor: 'nagios', host: 'web01', level: 'critical', key: 'nagios:web01/http', sentence: 'web01/HTTP is CRITICAL: CRITICAL - Socket timeout after 10 seconds' },
  'real-nagios44-service-recovery.eml': { kind: 'resolved', monitor: 'nagios', host: 'web01', level: 'info', key: 'nagios:web01/http', sentence: 'web01/HTTP is OK: HTTP OK: HTTP/1.1 200 OK - 512 bytes in 0.002 second response time' },
  'real-nagios44-service-warning.eml': { kind: 'problem', monitor: 'nagios', host: 'web01', level: 'warning', key: 'nagios:web01/http', sentence: 'web01/HTTP is WARNING: HTTP WARNING: HTTP/1.1 200 OK - 1048576 bytes in 3.412 second response time' },
  'real-zabbix60-problem.eml': { kind: 'problem', monitor: 'zabbix', host: 'zbx-host01', level: 'high', key: 'event:8', sentence: 'Test value too high on zbx-host01' },
  'real-zabbix60-resolved.eml': { kind: 'resolved', monitor: 'zabbix', host: 'zbx-host01', level: 'high', key: 'event:8', sentence: 'Test value too high on zbx-host01' },
  'zabbix-problem-utf8.eml': { kind: 'problem', monitor: 'zabbix', host: 'Base de datos principal', level: 'critical', key: 'event:4211', sentence: 'Servidor de base de datos no responde: conexión rechazada en el puerto 5432' },
  'zabbix-problem.eml': { kind: 'problem', monitor: 'zabbix', host: 'Wordpress Server', level: 'average', key: 'event:78', sentence: 'Zabbix agent on Wordpress Server is unreachable for 5 minutes' },
  'zabbix-resolved.eml': { kind: 'resolved', monitor: 'zabbix', host: 'Wordpress Server', level: 'average', key: 'event:78', sentence: 'Zabbix agent on Wordpress Server is unreachable for 5 minutes' },
  'zabbix60-html-problem.eml': { kind: 'problem', monitor: 'zabbix', host: 'web01', level: 'warning', key: 'event:21', sentence: 'High CPU utilization on web01' },
  'zabbix60-html-resolved.eml': { kind: 'resolved', monitor: 'zabbix', host: 'web01', level: 'high', key: 'event:21', sentence: 'High CPU utilization on web01' },
  'zabbix60-html-update-ack.eml': { kind: 'ack', monitor: 'zabbix', key: 'event:21', sentence: 'High CPU utilization on web01: Zabbix Administrator (Admin) acknowledged and commented. Looking at it, a backup job is running', ackBy: 'Zabbix Administrator (Admin)' },
  'zabbix60-html-update-severity.eml': { kind: 'update', monitor: 'zabbix', level: 'high', key: 'event:21', sentence: 'High CPU utilization on web01: Zabbix Administrator (Admin) changed severity from Warning to High' },
  'zabbix60-update-ack.eml': { kind: 'ack', monitor: 'zabbix', key: 'event:8', sentence: 'Test value too high on zbx-host01: Zabbix Administrator (Admin) acknowledged', ackBy: 'Zabbix Administrator (Admin)' },
  'zabbix60-update-comment.eml': { kind: 'update', monitor: 'zabbix', key: 'event:8', sentence: 'Test value too high on zbx-host01: Zabbix Administrator (Admin) commented. Value source fixed, waiting for the next check' },
};

describe('every fixture, parsed', () => {
  it('the table covers every fixture file (and the original five are still there)', () => {
    expect(Object.keys(TABLE).sort()).toEqual(fixtureNames());
    for (const f of ['alertmanager-firing.eml', 'nagios-problem.eml', 'zabbix-problem-utf8.eml', 'zabbix-problem.eml', 'zabbix-resolved.eml']) expect(fixtureNames()).toContain(f);
  });

  for (const [name, row] of Object.entries(TABLE)) {
    it(`${name}: ${row.monitor} ${row.kind}`, async () => {
      const a = await parseAlertMail(fixture(name));
      expect({ kind: a.kind, monitor: a.monitor, host: a.host, level: a.level, key: a.problemKey, sentence: a.sentence, firing: a.firing, ackBy: a.ackBy })
        .toEqual({ host: undefined, level: undefined, firing: undefined, ackBy: undefined, ...row });
    });
  }

  it('problems and their recoveries, acknowledgements and updates share one identity', async () => {
    const key = async (n: string) => (await parseAlertMail(fixture(n))).problemKey;
    const same = async (...names: string[]) => {
      const keys = await Promise.all(names.map(key));
      expect(new Set(keys).size, names.join(' ')).toBe(1);
      return keys[0]!;
    };
    await same('real-zabbix60-problem.eml', 'real-zabbix60-resolved.eml', 'zabbix60-update-ack.eml', 'zabbix60-update-comment.eml');
    await same('zabbix60-html-problem.eml', 'zabbix60-html-update-ack.eml', 'zabbix60-html-update-severity.eml', 'zabbix60-html-resolved.eml');
    const cpu = await same('real-am025-firing.eml', 'real-am025-resolved.eml', 'real-am025-refiring.eml', 'real-am025-reresolved.eml', 'real-alertmanager-firing.eml', 'real-alertmanager-resolved.eml');
    const grp = await same('real-am025-group-firing2.eml', 'real-am025-group-firing1.eml', 'real-am025-group-resolved.eml');
    expect(grp).not.toBe(cpu);
    await same('real-nagios44-service-problem.eml', 'real-nagios44-service-recovery.eml', 'real-nagios44-service-warning.eml', 'real-nagios44-service-ack.eml', 'real-nagios44-service-ack-author.eml', 'real-nagios44-service-flapping-start.eml', 'real-nagios44-service-downtime-start.eml', 'real-nagios-service-problem.eml', 'real-nagios-service-recovery.eml', 'nagios-problem.eml');
    const host = await same('real-nagios44-host-down.eml', 'real-nagios44-host-ack.eml', 'real-nagios44-host-up.eml');
    expect(host).not.toBe(await key('real-nagios44-service-problem.eml'));
    await same('grafana-firing.eml', 'grafana-resolved.eml');
    // the text and the HTML rendering of Grafana's mail name the group the same way
    await same('grafana-group-firing2.eml', 'grafana-group-mixed-html-only.eml');
  });

  it('the subject of a shrinking Alertmanager group changes, its identity does not', async () => {
    const two = await parseAlertMail(fixture('real-am025-group-firing2.eml'));
    const done = await parseAlertMail(fixture('real-am025-group-resolved.eml'));
    expect(two.subject).toBe('[FIRING:2] NodeDown (node critical db)');
    expect(done.subject).toBe('[RESOLVED] NodeDown (dbB:9100 node critical db)');
    expect(normalizeSubject(two.subject)).not.toBe(normalizeSubject(done.subject));
    expect(done.problemKey).toBe(two.problemKey);
  });

  it('HTML-only Alertmanager 0.25 mail: <br style=…>, rows and blocks are line breaks', async () => {
    const a = await parseAlertMail(fixture('real-am025-firing.eml'));
    const lines = a.text.split('\n');
    for (const l of ['alertname = HighCPU', 'instance = web01:9100', 'job = node', 'severity = critical', 'summary = CPU usage above 90% on web01', '1 alert for alertname=HighCPU instance=web01:9100']) expect(lines).toContain(l);
    expect(a.text).not.toMatch(/<|@media|font-family/);
  });

  it('Zabbix problem: base64 body, event id from In-Reply-To and body, host, severity', async () => {
    const a = await parseAlertMail(fixture('zabbix-problem.eml'));
    expect(a.kind).toBe('problem');
    expect(a.subject).toBe('Problem: Zabbix agent on Wordpress Server is unreachable for 5 minutes');
    expect(a.text).toContain('Problem started at 22:39:46 on 2018.12.26');
    expect(a.eventId).toBe('78');
    expect(a.host).toBe('Wordpress Server');
    expect(a.severity).toBe('Average');
    expect(a.from).toBe('zabbix@smtp.appliance');
    expect(a.problemKey).toBe('event:78');
  });

  it('Zabbix resolved: kind resolved, same event id and problem key as the problem', async () => {
    const p = await parseAlertMail(fixture('zabbix-problem.eml'));
    const r = await parseAlertMail(fixture('zabbix-resolved.eml'));
    expect(r.kind).toBe('resolved');
    expect(r.subject).toBe('Resolved in 12m 3s: Zabbix agent on Wordpress Server is unreachable for 5 minutes');
    expect(r.eventId).toBe('78');
    expect(r.problemKey).toBe(p.problemKey);
    expect(r.text).toContain('Problem duration: 12m 3s');
  });

  it('Zabbix UTF-8: RFC 2047 subject over two encoded words, accented body', async () => {
    const a = await parseAlertMail(fixture('zabbix-problem-utf8.eml'));
    expect(a.subject).toBe('Problema: Servidor de base de datos no responde: conexión rechazada en el puerto 5432');
    expect(a.kind).toBe('problem');
    expect(a.eventId).toBe('4211');
    expect(a.host).toBe('Base de datos principal');
    expect(a.severity).toBe('Desastre');
    expect(a.text).toContain('Conexiones: 0 ↓');
  });

  it('Alertmanager: multipart/alternative, text/plain preferred over HTML, quoted-printable', async () => {
    const a = await parseAlertMail(fixture('alertmanager-firing.eml'));
    expect(a.subject).toBe('[FIRING:1] HighLatency api (critical)');
    expect(a.kind).toBe('problem');
    expect(a.text).toContain('alertname = HighLatency');
    expect(a.text).not.toContain('<td');
    expect(a.host).toBe('api-7f9c:9100');
    expect(a.severity).toBe('critical');
    expect(a.eventId).toBeUndefined();
    expect(a.problemKey).toBe('subject:highlatency api (critical)|api-7f9c:9100');
  });

  it('Nagios: plain 7-bit mail without MIME headers', async () => {
    const a = await parseAlertMail(fixture('nagios-problem.eml'));
    expect(a.subject).toBe('** PROBLEM Service Alert: web01/HTTP is CRITICAL **');
    expect(a.kind).toBe('problem');
    expect(a.host).toBe('web01');
    expect(a.severity).toBe('CRITICAL');
    expect(a.text).toContain('Connection refused');
  });

  it('an HTML-only alert becomes text', async () => {
    const raw = Buffer.from('From: g@x\r\nSubject: [FIRING:2] Disk full\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Disk <b>/var</b> is 97% full</p><script>x()</script></body></html>\r\n');
    const a = await parseAlertMail(raw);
    expect(a.text).toContain('Disk /var is 97% full');
    expect(a.text).not.toContain('x()');
  });

  it('kinds and normalized subjects pair problems with their recoveries', () => {
    expect(alertKind('** RECOVERY Service Alert: web01/HTTP is OK **')).toBe('resolved');
    expect(alertKind('[RESOLVED] HighLatency api (critical)')).toBe('resolved');
    expect(alertKind('Resolved: Disk full')).toBe('resolved');
    expect(alertKind('Updated problem in 5m: Disk full')).toBe('update');
    expect(normalizeSubject('** RECOVERY Service Alert: web01/HTTP is OK **')).toBe(normalizeSubject('** PROBLEM Service Alert: web01/HTTP is CRITICAL **'));
    expect(normalizeSubject('[RESOLVED] HighLatency api')).toBe(normalizeSubject('[FIRING:1] HighLatency api'));
    expect(normalizeSubject('Resolved in 1h 2m: Disk full')).toBe(normalizeSubject('Problem: Disk full'));
  });

  it('reads the event id from a Zabbix In-Reply-To only in Zabbix form', () => {
    expect(zabbixEventIdFromReference('<78.75fa1750e123a5ec6f895aa73be3fdc4.1.c3ffdf5b6c2a4a3c9e1b7d0a6f0e2d11@zabbix.com>')).toBe('78');
    expect(zabbixEventIdFromReference('<1762853400123456789.1234567890@monitor.example>')).toBeUndefined();
  });

  it('survives garbage without throwing', async () => {
    const a = await parseAlertMail(Buffer.from('\u0001\u0002 not a mail at all\r\n\r\n\r\n'));
    expect(a.subject).toBe('(no subject)');
  });
});

/** Any C0 control but \n and \t, DEL, C1. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('hostile and odd input', () => {
  it('a Host line of 60 000 blanks is read up to its first 1 000 characters', async () => {
    const raw = Buffer.from(`From: m@x\r\nSubject: Problem: disk\r\n\r\nHost: x${' '.repeat(60_000)}y\r\nSeverity: High\r\n`);
    const a = await parseAlertMail(raw);
    expect(a.host).toBe('x');
    expect(a.level).toBe('high');
  });

  it('HTML-only mail of "<a" repeated (no ">") parses to an alert', async () => {
    const raw = Buffer.from(`From: m@x\r\nSubject: [FIRING:1] X\r\nContent-Type: text/html\r\n\r\n<p>Host: h1</p>${'<a'.repeat(100_000)}\r\n`);
    const a = await parseAlertMail(raw);
    expect(a.subject).toBe('[FIRING:1] X');
    expect(a.text.startsWith('Host: h1')).toBe(true);
  });

  it('markup nested deeper than the renderer allows is still read (linear fallback)', () => {
    const html = `${'<div>'.repeat(5000)}<b>Host:</b> deep<br>Severity: Disaster${'</div>'.repeat(5000)}`;
    const a = alertFromMail({ subject: 'Problem: nested', html });
    expect(a.host).toBe('deep');
    expect(a.level).toBe('critical');
    expect(a.text).toBe('Host: deep\nSeverity: Disaster');
  });

  it('terminal escapes and control characters never reach host, severity, subject, sentence or ackBy', async () => {
    const raw = Buffer.from([
      'From: nagios@x',
      'Subject: ** ACKNOWLEDGEMENT Service Alert: web\x1b[2J01/HTTP is CRITICAL \x1b]0;owned\x07**',
      '',
      'Notification Type: ACKNOWLEDGEMENT',
      'Service: HTTP',
      'Host: web\x1b[31m01\x1b[0m',
      'State: CRIT\x07ICAL\x9b2J',
      'Author: j\x1b]2;title\x1b\\doe\x00',
      'Comment: on\x08 it',
      '',
    ].join('\r\n'), 'latin1');
    const a = await parseAlertMail(Buffer.from(raw.toString('latin1'), 'utf8'));
    for (const v of [a.subject, a.host, a.severity, a.sentence, a.ackBy]) {
      expect(v).toBeDefined();
      expect(v!).not.toMatch(CONTROL);
    }
    expect(a).toMatchObject({ kind: 'ack', host: 'web01', severity: 'CRITICAL', level: 'critical', ackBy: 'jdoe', problemKey: 'nagios:web01/http' });
    expect(a.subject).toBe('** ACKNOWLEDGEMENT Service Alert: web01/HTTP is CRITICAL **');
    expect(a.text).not.toMatch(CONTROL);
  });

  it('renders <br style=…>, rows and cells as breaks and tabs; drops head, style and script', () => {
    const t = htmlToText('<html><head><title>T</title><style>p{}</style></head><body><p>one</p>two<br style="margin:0">three<table><tr><td>k</td><td>v</td></tr><tr><td>k2</td><td>v2</td></tr></table><script>x()</script>&amp;&lt;&#x41;</body></html>');
    expect(t.split('\n')).toEqual(['one', 'two', 'three', 'k\tv', 'k2\tv2', '&<A']);
  });

  it('subject grammar: Nagios acknowledgements are acks; Grafana\'s mixed prefix is a monitor prefix', () => {
    expect(alertKind('** ACKNOWLEDGEMENT Service Alert: web01/HTTP is CRITICAL **')).toBe('ack');
    expect(alertKind('** FLAPPINGSTART Service Alert: web01/HTTP is OK **')).toBe('problem');
    expect(alertKind('** DOWNTIMESTART Service Alert: web01/HTTP is OK **')).toBe('update');
    expect(alertKind('[FIRING:1, RESOLVED:1] DiskFull Servers')).toBe('problem');
    expect(normalizeSubject('[FIRING:1, RESOLVED:1] DiskFull Servers')).toBe(normalizeSubject('[RESOLVED] DiskFull Servers'));
    expect(normalizeSubject(`** PROBLEM Service Alert: web01/HTTP${' '.repeat(5000)}is CRITICAL **`)).toBe('web01/http');
  });

  it('In-Reply-To ids are read only in Zabbix form, long or odd references included', () => {
    expect(zabbixEventIdFromReference('<21.9ff56bcaca168ef9148d90da12ce3c29.3.e34967609cdfa462595b4efda5ecd406@zabbix.com>')).toBe('21');
    expect(zabbixEventIdFromReference(`<${'1'.repeat(100_000)}@zabbix.com>`)).toBeUndefined();
    expect(zabbixEventIdFromReference('<x.9ff56bcaca168ef9148d90da12ce3c29.3.e349@zabbix.com>')).toBeUndefined();
  });

  it('any subject, text and HTML give an alert with clean single-line fields (property)', () => {
    const hostile = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: fc.constantFrom('<', 'a', '>', '"', '=', '/', ' ', '\n', '\t', '\x1b', '[', ']', ':', 'Host', 'Severity', '&', ';', '\u009b', '\x07', 'Labels', '[1] Firing'), maxLength: 400 }),
    );
    fc.assert(fc.property(hostile, hostile, fc.option(hostile, { nil: undefined }), (subject, text, html) => {
      const a = alertFromMail({ subject, text, ...(html !== undefined ? { html } : {}) });
      for (const v of [a.subject, a.host, a.severity, a.sentence, a.ackBy, a.problemKey]) if (v !== undefined) expect(v).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      expect(a.text).not.toMatch(CONTROL);
      expect(a.subject.length).toBeLessThanOrEqual(1000);
      expect(['problem', 'resolved', 'update', 'ack', 'test', 'other']).toContain(a.kind);
    }), { numRuns: 300 });
  });
});
