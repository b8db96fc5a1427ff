/** The phone conversation shared by the call channels (gsm, voip). */
export { converse, CALL_TIMINGS } from './conversation.js';
export type { CallTimings, ConversationOptions } from './conversation.js';
export { CALL_KEYS, keyRule } from './keys.js';
export type { KeyAction, KeyRule } from './keys.js';
export { MESSAGE, phrase, Prepared } from './call-leg.js';
export type { CallLeg, LegEvent, PlayResult, Prompt } from './call-leg.js';
