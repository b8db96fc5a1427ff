/** Silences: which alerts a silence covers, when, and how operator input is checked. */
import { describe, expect, it } from 'vitest';
import { activeSilenceFor, SilenceMatcher, silenceFromOptions, type Silence, type SilenceSubject } from '../../../src/core/oncall/silence.js';

const t = (iso: string) => new Date(iso).getTime();
const from = t('2027-03-28T08:00+02:00');
const until = t('2027-03-28T10:00+02:00');
const during = t('2027-03-28T09:00+02:00');
const S = (over: Partial<Silence>): Silence => ({ id: 1, from, until, comment: 'kernel upgrade', ...over });
const db: SilenceSubject = { host: 'db-01', subject: 'Problem: Disk full on /var', level: 'warning' };

describe('what a silence covers', () => {
  it.each([
    { name: 'host pattern matching the whole host', s: { host: 'db-.*' }, a: db, hit: true },
    { name: 'host pattern, case-insensitive', s: { host: 'DB-\\d+' }, a: db, hit: true },
    { name: 'host pattern only part of the host does not match', s: { host: 'db' }, a: db, hit: false },
    { name: 'host pattern against another host', s: { host: 'db-.*' }, a: { ...db, host: 'mydb-01' }, hit: false },
    { name: 'host pattern, alert without a host', s: { host: '.*' }, a: { subject: db.subject, level: 'warning' }, hit: false },
    { name: 'subject found anywhere', s: { subject: 'disk full' }, a: db, hit: true },
    { name: 'subject anchored', s: { subject: '^disk' }, a: db, hit: false },
    { name: 'host and subject must both match', s: { host: 'db-.*', subject: 'cpu' }, a: db, hit: false },
    { name: 'severity: the same level', s: { severity: 'warning' }, a: db, hit: true },
    { name: 'severity: a lower level', s: { severity: 'warning' }, a: { ...db, level: 'info' }, hit: true },
    { name: 'severity: a higher level is not covered', s: { severity: 'warning' }, a: { ...db, level: 'average' }, hit: false },
    { name: 'severity: unknown level counts as critical', s: { severity: 'high' }, a: { host: 'db-01', subject: 'x' }, hit: false },
    { name: 'severity critical covers unknown levels', s: { severity: 'critical' }, a: { host: 'db-01', subject: 'x' }, hit: true },
    { name: 'host and severity', s: { host: 'db-.*', severity: 'average' }, a: { ...db, level: 'high' }, hit: false },
    { name: "--subject '.*' covers everything", s: { subject: '.*' }, a: { subject: '' }, hit: true },
  ] as { name: string; s: Partial<Silence>; a: SilenceSubject; hit: boolean }[])('$name', ({ s, a, hit }) => {
    expect(activeSilenceFor([S(s)], a, during)?.id).toBe(hit ? 1 : undefined);
  });

  it('only between from (inclusive) and until (exclusive)', () => {
    const s = [S({ host: 'db-.*' })];
    expect(activeSilenceFor(s, db, from - 1)).toBeUndefined();
    expect(activeSilenceFor(s, db, from)?.id).toBe(1);
    expect(activeSilenceFor(s, db, until - 1)?.id).toBe(1);
    expect(activeSilenceFor(s, db, until)).toBeUndefined();
  });

  it('the longest of several, and when silencing really ends across overlapping silences', () => {
    const a = S({ id: 'a', host: 'db-.*' });
    const b = S({ id: 'b', subject: 'disk', from: t('2027-03-28T09:30+02:00'), until: t('2027-03-28T12:00+02:00') });
    const c = S({ id: 'c', severity: 'warning', from: t('2027-03-28T12:00+02:00'), until: t('2027-03-28T13:00+02:00') });
    const other = S({ id: 'x', host: 'web-.*', until: t('2027-03-29T00:00+02:00') });
    const m = new SilenceMatcher([a, b, c, other]);
    expect(m.activeFor(db, during)?.id).toBe('a');
    expect(m.activeFor(db, t('2027-03-28T09:45+02:00'))?.id).toBe('b');
    expect(m.allFor(db, t('2027-03-28T09:45+02:00')).map((s) => s.id)).toEqual(['a', 'b']);
    expect(m.silencedUntil(db, during)).toBe(t('2027-03-28T13:00+02:00'));
    expect(m.silencedUntil({ ...db, level: 'high' }, during)).toBe(t('2027-03-28T12:00+02:00'));
    expect(m.silencedUntil(db, t('2027-03-28T13:00+02:00'))).toBeUndefined();
  });

  it('a stored silence that does not compile is skipped and reported, the others still work', () => {
    const m = new SilenceMatcher([S({ id: 'bad', host: '(a)\\1' }), S({ id: 'ok', host: 'db-.*' })]);
    expect(m.activeFor(db, during)?.id).toBe('ok');
    expect(m.rejected.map((r) => [r.silence.id, r.error])).toEqual([['bad', expect.stringMatching(/^host: .*back-references/)]]);
  });
});

describe('silences add', () => {
  const now = t('2027-03-28T08:00+02:00');
  it('--host --for --comment', () => {
    expect(silenceFromOptions({ host: 'db-.*', for: '2h', comment: 'kernel upgrade' }, now, 'Europe/Madrid')).toEqual({ host: 'db-.*', from: now, until: t('2027-03-28T10:00+02:00'), comment: 'kernel upgrade' });
  });
  it('--until local time in the zone, --severity', () => {
    expect(silenceFromOptions({ severity: 'Warning', until: '2027-03-28T23:00', comment: 'noisy' }, now, 'Europe/Madrid')).toEqual({ severity: 'warning', from: now, until: t('2027-03-28T23:00+02:00'), comment: 'noisy' });
  });
  it.each([
    [{ host: 'db-(', for: '2h', comment: 'x' }, /^host: bad regular expression "db-\("/],
    [{ subject: '(?=x)', for: '2h', comment: 'x' }, /^subject: .*look-arounds/],
    [{ host: 'db', comment: 'x' }, /exactly one of --for/],
    [{ host: 'db', for: '2h', until: '2027-03-29', comment: 'x' }, /exactly one of --for/],
    [{ host: 'db', for: 'soon', comment: 'x' }, /^for: bad duration "soon"/],
    [{ host: 'db', until: '2027-03-28T07:00', comment: 'x' }, /not after the start/],
    [{ host: 'db', for: '2h', comment: '  ' }, /^comment: say why/],
    [{ for: '2h', comment: 'everything' }, /give --host, --subject or --severity/],
    [{ severity: 'disaster', for: '2h', comment: 'x' }, /unknown severity "disaster"/],
  ])('%j is refused', (o, why) => {
    expect(() => silenceFromOptions(o, now, 'Europe/Madrid')).toThrow(why);
  });
});
