/**
 * A throwaway PKI made with openssl for the TLS tests: a CA, a server certificate it signs for
 * the registrar's name (and 127.0.0.1), and a second, unrelated CA (the "wrong CA").
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  /** The CA that signed the server certificate. */
  ca: string;
  /** A CA that signed nothing here. */
  wrongCa: string;
  serverCert: string;
  serverKey: string;
  /** serverCert and serverKey in one file (baresip's sip_certificate wants that). */
  serverPem: string;
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makePki(serverName: string): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'alertline-pki-'));
  const p = (f: string) => join(dir, f);
  for (const name of ['ca', 'wrong-ca']) {
    openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p(`${name}.key`), '-out', p(`${name}.pem`), '-days', '2', '-subj', `/CN=Alertline test ${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  }
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', `/CN=${serverName}`]);
  writeFileSync(p('server.ext'), `subjectAltName=DNS:${serverName},IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n`);
  openssl(dir, ['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('server.ext')]);
  const both = execFileSync('cat', [p('server.pem'), p('server.key')]);
  writeFileSync(p('server-both.pem'), both);
  return {
    dir,
    ca: p('ca.pem'),
    wrongCa: p('wrong-ca.pem'),
    serverCert: p('server.pem'),
    serverKey: p('server.key'),
    serverPem: p('server-both.pem'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
