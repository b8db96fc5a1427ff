import { describe, expect, it } from 'vitest';
import { prepareSpeechText } from '../../src/audio/text-prep.js';
import { LANGUAGE_WORDS, phraseText, wordsFor } from '../../src/audio/phrases.js';

describe('text preparation for speech', () => {
  it('speaks symbols and units as words', () => {
    expect(prepareSpeechText('Disk usage 95% on /var/log', 'en')).toBe('Disk usage 95 percent on slash var slash log');
    expect(prepareSpeechText('CPU temp 85°C > 80', 'en')).toBe('CPU temp 85 degrees Celsius greater than 80');
    expect(prepareSpeechText('load < 2 && free >= 10%', 'en')).toBe('load less than 2 and free greater than or equal to 10 percent');
    expect(prepareSpeechText('disk_usage_high', 'en')).toBe('disk usage high');
    expect(prepareSpeechText('Uso de disco 95% en /var', 'es')).toBe('Uso de disco 95 por ciento en barra var');
    expect(prepareSpeechText('Temperatura 40°C', 'es-MX')).toBe('Temperatura 40 grados Celsius');
  });

  it('drops URLs, UUIDs and long hex ids but keeps numbers', () => {
    expect(prepareSpeechText('See https://grafana.example.com/d/abc?x=1 for host 10.0.0.5', 'en')).toBe('See for host 10.0.0.5');
    expect(prepareSpeechText('trace 4bf92f3577b34da6a3ce929d0e0e4736 failed 3 times', 'en')).toBe('trace failed 3 times');
    expect(prepareSpeechText('id 123e4567-e89b-12d3-a456-426614174000 commit a1b2c3d4e5', 'en')).toBe('id commit');
    expect(prepareSpeechText('Original problem ID: 123456789012', 'en')).toBe('Original problem ID: 123456789012');
    expect(prepareSpeechText('www.example.com is down', 'en')).toBe('is down');
  });

  it('removes control characters and engine markup, collapses whitespace', () => {
    expect(prepareSpeechText('  Problem:\r\n\tHost\x1b[31m  db1  \x00 down!!!  ', 'en')).toBe('Problem: Host db1 down!');
    expect(prepareSpeechText('[[h@l@U]] <speak>hi</speak> {x}', 'en')).not.toMatch(/[[\]<>{}]/);
  });

  it('bounds the length at a word boundary', () => {
    const long = 'word '.repeat(500);
    const out = prepareSpeechText(long, 'en', 100);
    expect(out.length).toBeLessThanOrEqual(101);
    expect(out.endsWith('word.')).toBe(true);
    expect(prepareSpeechText('x'.repeat(1000), 'en', 50)).toHaveLength(51);
  });

  it('returns an empty string when nothing speakable is left', () => {
    expect(prepareSpeechText('https://example.com/x   ', 'en')).toBe('');
  });
});

describe('phrases', () => {
  it('has every phrase in English and Spanish', () => {
    for (const lang of ['en', 'es']) {
      for (const key of ['intro', 'hold', 'keyPrompt', 'acknowledged', 'escalated', 'snoozed', 'resolved', 'goodbye'] as const) {
        expect(LANGUAGE_WORDS[lang]!.phrases[key].length).toBeGreaterThan(3);
      }
    }
    expect(phraseText('intro', 'en')).toBe('Alert from Alertline.');
    expect(phraseText('keyPrompt', 'en')).toBe('Press 1 to acknowledge, 2 to repeat, 3 to escalate, 5 to snooze, 9 to resolve.');
    expect(phraseText('acknowledged', 'en')).toBe('Acknowledged. Goodbye.');
    expect(phraseText('goodbye', 'en')).toBe('Goodbye.');
    expect(phraseText('intro', 'es_ES')).toBe(LANGUAGE_WORDS.es!.phrases.intro);
    expect(wordsFor('de')).toBe(LANGUAGE_WORDS.en); // languages without words fall back to English
  });
});
