/**
 * Answers 401/407 challenges for one request cycle (RFC 3261 §22.2, §22.3). A fresh challenge is
 * answered once; a second one is a failure (wrong credentials) unless it says stale=true, which
 * only means "retry with this new nonce" and does not count as a failed attempt.
 */
import { DigestClient, parseChallenge, type Credentials, type DigestChallenge } from '../auth/digest.js';
import type { SipResponse } from '../syntax/message.js';

const PREFERENCE = ['SHA-256', 'SHA-256-sess', 'MD5', 'MD5-sess'];
const MAX_STALE_RETRIES = 3;

export class ChallengeRound {
  private answered = 0;
  private staleRetries = 0;

  constructor(private readonly digest: DigestClient) {}

  /**
   * Header fields to add to the retried request, or a reason why we must not retry.
   */
  answer(res: SipResponse, method: string, uri: string): { headers: [string, string][] } | { error: string } {
    const [challengeHeader, authHeader] =
      res.status === 407 ? ['Proxy-Authenticate', 'Proxy-Authorization'] : ['WWW-Authenticate', 'Authorization'];
    const byRealm = new Map<string, DigestChallenge>();
    for (const v of res.headers.getAll(challengeHeader)) {
      let ch: DigestChallenge;
      try {
        ch = parseChallenge(v);
      } catch {
        continue; // a scheme or algorithm we don't speak; another header may offer one we do
      }
      const prev = byRealm.get(ch.realm);
      if (!prev || PREFERENCE.indexOf(ch.algorithm) < PREFERENCE.indexOf(prev.algorithm)) byRealm.set(ch.realm, ch);
    }
    if (byRealm.size === 0) return { error: `${res.status} without a usable Digest challenge` };
    const challenges = [...byRealm.values()];
    const stale = challenges.every((c) => c.stale);
    if (this.answered > 0) {
      if (!stale) return { error: `${res.status} ${res.reason}: credentials rejected` };
      if (++this.staleRetries > MAX_STALE_RETRIES) return { error: `${res.status}: server keeps reporting a stale nonce` };
    }
    this.answered++;
    try {
      return { headers: challenges.map((ch) => [authHeader, this.digest.authorize(ch, method, uri)] as [string, string]) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }
}

export function isChallenge(res: SipResponse): boolean {
  return res.status === 401 || res.status === 407;
}

export type { Credentials };
