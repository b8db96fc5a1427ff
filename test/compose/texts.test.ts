import { describe, expect, it } from 'vitest';
import { cleanSubject, voiceText } from '../../src/compose/texts.js';
import { fullSms, shortSms } from '../../src/channels/gsm/sms-text.js';
import { parseAlertMail } from '../../src/receiver/parse-alert.js';
import { encodeAlertSms } from '../../src/channels/gsm/index.js';
import { fixture, fixtureNames } from '../helpers/env.js';
import type { AlertView } from '../../src/channels/channel.js';

async function view(name: string, id = 42): Promise<AlertView> {
  const raw = fixture(name);
  const p = await parseAlertMail(raw);
  return { id, kind: p.kind, subject: p.subject, text: p.text, receivedAt: Date.UTC(2026, 10, 22, 3, 7), raw, ...(p.host ? { host: p.host } : {}), ...(p.severity ? { severity: p.severity } : {}), ...(p.sentence ? { sentence: p.sentence } : {}) };
}

describe('compose', () => {
  it('voice: cleaned subject without the monitor prefix doubled, host and severity when known', async () => {
    expect(voiceText(await view('zabbix-problem.eml'), 'en')).toBe('Problem: Zabbix agent on Wordpress Server is unreachable for 5 minutes. severity Average.');
    // Alertmanager: the summary annotation is what is spoken (the instance is named in it).
    expect(voiceText(await view('alertmanager-firing.eml'), 'en')).toBe('Problem: p99 latency above 2s for 10 minutes on api-7f9c:9100. severity critical.');
    expect(voiceText(await view('real-nagios44-service-problem.eml'), 'en')).toBe('Problem: web01/HTTP is CRITICAL: CRITICAL - Socket timeout after 10 seconds.');
    expect(voiceText(await view('real-nagios44-service-ack.eml'), 'en')).toMatch(/^Acknowledged: web01\/HTTP is CRITICAL, acknowledged\./);
    expect(voiceText(await view('zabbix-problem-utf8.eml'), 'es')).toMatch(/^Problema: Servidor de base de datos no responde: conexión rechazada en el puerto 5432\. equipo Base de datos principal\. severidad Desastre\.$/);
    expect(cleanSubject('** PROBLEM Service Alert: web01/HTTP is CRITICAL **')).toBe('web01/HTTP is CRITICAL');
  });

  it('SMS: one part with the alert id and the ack hint, for every fixture', async () => {
    for (const name of fixtureNames()) {
      const sms = shortSms(await view(name, 12345), 'en');
      expect(sms).toContain('#12345');
      const enc = encodeAlertSms('+34600123456', sms, 1, 1);
      expect(enc.parts, name).toHaveLength(1);
      expect(enc.truncated, name).toBe(false); // fits as composed: nothing cut
      expect(enc.text).toMatch(/Reply 1 to ack/);
    }
  });

  it('SMS full text carries the body', async () => {
    expect(fullSms(await view('nagios-problem.eml'), 'en')).toContain('Connection refused');
  });
});
