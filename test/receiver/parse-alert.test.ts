import { describe, expect, it } from 'vitest';
import { parseAlertMail, alertKind, normalizeSubject, zabbixEventIdFromReference } from '../../src/receiver/parse-alert.js';
import { fixture, fixtureNames } from '../helpers/env.js';

describe('parsing the fixtures', () => {
  it('finds every fixture', () => {
    expect(fixtureNames()).toEqual(['alertmanager-firing.eml', 'nagios-problem.eml', 'zabbix-problem-utf8.eml', 'zabbix-problem.eml', 'zabbix-resolved.eml']);
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
