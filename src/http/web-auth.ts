/**
 * Web console credentials: passwords hashed with scrypt (node:crypto; N=2^15, r=8, p=1, 16-byte
 * salt, 32-byte key), compared in constant time; session ids and CSRF tokens of 256 random bits
 * (the store keeps only the SHA-256 of a session id); login attempts limited per client address
 * and per login.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

const N = 1 << 15;
const R = 8;
const P = 1;
const KEYLEN = 32;
const MAXMEM = 64 * 1024 * 1024;

/** The shortest password accepted (NIST SP 800-63B: at least 8). */
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 256;

export function checkPassword(pw: string): string | null {
  if (pw.length < MIN_PASSWORD) return `password: at least ${MIN_PASSWORD} characters`;
  if (pw.length > MAX_PASSWORD) return `password: at most ${MAX_PASSWORD} characters`;
  return null;
}

function derive(pw: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(pw.normalize('NFC'), salt, KEYLEN, { N: n, r, p, maxmem: MAXMEM }, (e, k) => (e ? reject(e) : resolve(k))));
}

export async function hashPassword(pw: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(pw, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(pw: string, stored: string): Promise<boolean> {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (!m || pw.length > MAX_PASSWORD) return false;
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // A stored hash is ours, but a damaged one must fail the login, not crash it.
  if (n < 1 << 10 || n > 1 << 20 || (n & (n - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const want = Buffer.from(m[5]!, 'base64url');
  let got: Buffer;
  try {
    got = await derive(pw, Buffer.from(m[4]!, 'base64url'), n, r, p);
  } catch {
    return false;
  }
  return got.length === want.length && timingSafeEqual(got, want);
}

/** A hash to compare against when the login is unknown (the answer takes as long either way). */
let dummy: Promise<string> | null = null;
export function dummyHash(): Promise<string> {
  return (dummy ??= hashPassword(randomBytes(12).toString('hex')));
}

export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** Constant-time equality of two short strings (CSRF and setup tokens). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

interface Window { start: number; failures: number }

/**
 * Failed logins per key (client address, login) in a sliding minute. Above the limit the next
 * try is refused before any password is checked.
 */
export class LoginLimiter {
  private readonly windows = new Map<string, Window>();
  private static readonly WINDOW_MS = 60_000;
  private static readonly MAX_KEYS = 10_000;

  constructor(private readonly d: { now: () => number; perMinute: number }) {}

  /** Seconds to wait before trying again, or 0 when a try is allowed. */
  blocked(keys: string[]): number {
    const now = this.d.now();
    let wait = 0;
    for (const k of keys) {
      const w = this.windows.get(k);
      if (!w || now - w.start >= LoginLimiter.WINDOW_MS) continue;
      if (w.failures >= this.d.perMinute) wait = Math.max(wait, Math.ceil((w.start + LoginLimiter.WINDOW_MS - now) / 1000));
    }
    return wait;
  }

  failed(keys: string[]): void {
    const now = this.d.now();
    for (const k of keys) {
      let w = this.windows.get(k);
      if (!w || now - w.start >= LoginLimiter.WINDOW_MS) {
        if (!w && this.windows.size >= LoginLimiter.MAX_KEYS) {
          for (const [key, v] of this.windows) if (now - v.start >= LoginLimiter.WINDOW_MS) this.windows.delete(key);
          if (this.windows.size >= LoginLimiter.MAX_KEYS) this.windows.delete(this.windows.keys().next().value!);
        }
        w = { start: now, failures: 0 };
        this.windows.set(k, w);
      }
      w.failures++;
    }
  }
}
