/** The SMS reply grammar is the core's (src/core/replies.ts); these names stay for the gsm code and its tests. */
export { parseReply as parseSmsReply, ACK_HINT as SMS_ACK_HINT, type Reply as SmsReply } from '../../core/replies.js';
