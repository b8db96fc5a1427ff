/**
 * hardware/99-alertline-modem.rules: every active line is well-formed udev syntax (key, optional
 * {attribute}, operator, quoted value) with match keys only before assignments, and it names the
 * four common USB-UART chips /dev/alertline-modem, group dialout, mode 0660, ModemManager off.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const RULES = readFileSync(join(import.meta.dirname, '../../hardware/99-alertline-modem.rules'), 'utf8');
const MATCH_KEYS = new Set(['SUBSYSTEM', 'KERNEL', 'ENV', 'ATTRS', 'KERNELS', 'SUBSYSTEMS', 'ACTION']);
const ASSIGN_KEYS = new Set(['SYMLINK', 'GROUP', 'MODE', 'ENV', 'OWNER']);

interface Term { key: string; attr?: string; op: string; value: string }

function parseLine(line: string): Term[] {
  const terms: Term[] = [];
  const re = /\s*([A-Z_]+)(?:\{([^}]+)\})?\s*(==|!=|\+=|:=|=)\s*"([^"]*)"\s*(,|$)/y;
  let pos = 0;
  while (pos < line.length) {
    re.lastIndex = pos;
    const m = re.exec(line);
    if (!m) throw new Error(`bad udev syntax at column ${pos}: ${line}`);
    terms.push({ key: m[1]!, ...(m[2] ? { attr: m[2] } : {}), op: m[3]!, value: m[4]! });
    pos = re.lastIndex;
  }
  return terms;
}

const active = RULES.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));

describe('udev rule for /dev/alertline-modem', () => {
  it('every active line is well-formed', () => {
    expect(active.length).toBeGreaterThan(0);
    for (const line of active) {
      const terms = parseLine(line);
      const firstAssign = terms.findIndex((t) => t.op !== '==' && t.op !== '!=');
      expect(firstAssign, line).toBeGreaterThan(0);
      for (const t of terms.slice(0, firstAssign)) expect(MATCH_KEYS.has(t.key), `${t.key} in ${line}`).toBe(true);
      for (const t of terms.slice(firstAssign)) {
        expect(t.op === '==' || t.op === '!=', `match after assignment in ${line}`).toBe(false);
        expect(ASSIGN_KEYS.has(t.key), `${t.key} in ${line}`).toBe(true);
      }
    }
  });

  it('names CP2102, CH340, FT232R and PL2303 adapters, group dialout, mode 0660, ignored by ModemManager', () => {
    const ids = active.map(parseLine).map((terms) => {
      const get = (k: string, attr?: string) => terms.find((t) => t.key === k && t.attr === attr)?.value;
      expect(get('SUBSYSTEM')).toBe('tty');
      expect(terms).toContainEqual({ key: 'SYMLINK', op: '+=', value: 'alertline-modem' });
      expect(get('GROUP')).toBe('dialout');
      expect(get('MODE')).toBe('0660');
      expect(terms).toContainEqual({ key: 'ENV', attr: 'ID_MM_DEVICE_IGNORE', op: '=', value: '1' });
      return `${get('ATTRS', 'idVendor')}:${get('ATTRS', 'idProduct')}`;
    });
    expect(ids).toEqual(['10c4:ea60', '1a86:7523', '0403:6001', '067b:2303']);
  });

  it('the commented examples are valid too once uncommented', () => {
    const examples = RULES.split('\n').filter((l) => /^#SUBSYSTEM==/.test(l)).map((l) => l.slice(1));
    expect(examples.length).toBe(2);
    for (const l of examples) expect(() => parseLine(l)).not.toThrow();
  });
});
