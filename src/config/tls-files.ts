/**
 * TLS key and certificate files named in the config, checked when the config is loaded: readable,
 * PEM, the key unencrypted and matching the certificate. Without this, a bad file surfaces at
 * listen time as a bare OpenSSL code naming neither the file nor the key.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { ConfigIssue } from './errors.js';

/** node:crypto takes ~20 ms to load: only configs that name TLS files pay for it. */
const crypto = (): typeof import('node:crypto') => createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');

export interface TlsFiles {
  key: string;
  cert: string;
}

function firstLine(e: unknown): string {
  return ((e as Error).message ?? String(e)).split('\n')[0]!.replace(/^error:[0-9A-F]+:/i, '');
}

/**
 * `prefix` is the config key holding {key, cert} (e.g. "smtp.tls"). Returns problems by key and
 * warnings (e.g. an expired certificate, which clients will refuse but which does not stop a start).
 */
export function checkTlsFiles(prefix: string, files: TlsFiles, now = Date.now()): { issues: ConfigIssue[]; warnings: string[] } {
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const { createPrivateKey, X509Certificate } = crypto();
  const read = (which: 'key' | 'cert'): Buffer | null => {
    try {
      return readFileSync(files[which]);
    } catch (e) {
      issues.push({ key: `${prefix}.${which}`, message: `cannot read ${files[which]}: ${(e as NodeJS.ErrnoException).code ?? firstLine(e)}` });
      return null;
    }
  };
  const keyPem = read('key');
  const certPem = read('cert');
  let key: KeyObject | null = null;
  let cert: X509Certificate | null = null;
  if (keyPem) {
    try {
      key = createPrivateKey({ key: keyPem });
    } catch (e) {
      const msg = firstLine(e);
      const hint = /passphrase|encrypted/i.test(msg) || keyPem.includes('ENCRYPTED') ? 'the key is encrypted; give an unencrypted key (openssl pkey -in FILE -out FILE.plain)' : 'expected a PEM private key (-----BEGIN PRIVATE KEY-----)';
      issues.push({ key: `${prefix}.key`, message: `${files.key} is not a usable private key: ${hint} (${msg})` });
    }
  }
  if (certPem) {
    try {
      cert = new X509Certificate(certPem);
    } catch (e) {
      issues.push({ key: `${prefix}.cert`, message: `${files.cert} is not a PEM certificate (-----BEGIN CERTIFICATE-----): ${firstLine(e)}` });
    }
  }
  if (key && cert) {
    let matches = false;
    try {
      matches = cert.checkPrivateKey(key);
    } catch {
      matches = false;
    }
    if (!matches) issues.push({ key: `${prefix}.key`, message: `${files.key} does not belong to the certificate in ${prefix}.cert (${files.cert})` });
    else if (Date.parse(cert.validTo) < now) warnings.push(`${prefix}.cert: ${files.cert} expired on ${cert.validTo}; clients that check certificates will refuse it`);
  }
  return { issues, warnings };
}
