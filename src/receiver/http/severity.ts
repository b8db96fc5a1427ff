/** A monitor's severity word ("critical", "P1", "warning") on the common scale. Pure. */
import type { SeverityLevel } from '../../core/model.js';

const WORDS: Record<string, SeverityLevel> = {
  critical: 'critical', crit: 'critical', disaster: 'critical', emergency: 'critical', emerg: 'critical', fatal: 'critical', page: 'critical', p1: 'critical', sev1: 'critical',
  high: 'high', error: 'high', err: 'high', major: 'high', alert: 'high', p2: 'high', sev2: 'high',
  average: 'average', medium: 'average', moderate: 'average', p3: 'average', sev3: 'average',
  warning: 'warning', warn: 'warning', minor: 'warning', low: 'warning', p4: 'warning', sev4: 'warning',
  info: 'info', information: 'info', informational: 'info', notice: 'info', none: 'info', ok: 'info', debug: 'info', p5: 'info', sev5: 'info',
};

export function severityLevel(word: string | undefined): SeverityLevel | undefined {
  if (!word) return undefined;
  return WORDS[word.trim().toLowerCase().slice(0, 32)];
}
