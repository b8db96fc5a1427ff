/** Branch parameters (RFC 3261 §8.1.1.7): unique per transaction, starting with the magic cookie. */
import { randomBytes } from 'node:crypto';
import { BRANCH_COOKIE } from '../syntax/via.js';

export function newBranch(): string {
  return BRANCH_COOKIE + randomBytes(10).toString('hex');
}

/** Random token for tags and Call-IDs (RFC 3261 §19.3: at least 32 bits of randomness). */
export function randomToken(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}
