/**
 * On call, in the core (pure, no I/O): schedules (who is on call at an instant), contact rules
 * (which channels, quiet hours), silences, escalation policies. The store keeps the values these
 * functions take; the dispatcher and the CLI call them with the clock's instant.
 */
export * from './time.js';
export * from './schedule.js';
export * from './contact.js';
export * from './pattern.js';
export * from './silence.js';
export * from './policy.js';
