/** The config contract, as tables: what is accepted, what is refused and which key the message names. */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig, loadConfig, locateConfig, checkConfigDirectories, ConfigError, SYSTEM_CONFIG, LOCAL_CONFIG } from '../../src/config/load.js';
import { checkTlsFiles } from '../../src/config/tls-files.js';
import { inspectDirectory, prepareDirectory, DirectoryError } from '../../src/config/dirs.js';
import { tempDir } from '../helpers/env.js';

const tmp = tempDir('alertline-config-');
afterAll(() => tmp.cleanup());

function refusal(yaml: string): { keys: string[]; message: string } | null {
  try {
    parseConfig(yaml, 'test.yaml');
    return null;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { keys: e.issues.map((i) => i.key), message: e.message };
  }
}

describe('parseConfig: accepted and refused values, each refusal naming its key', () => {
  const refused: [string, string, RegExp][] = [
    ['smtp: { maxMessageSize: 0 }', 'smtp.maxMessageSize', /0 bytes would refuse every alert mail/],
    ['smtp: { maxMessageSize: 10 }', 'smtp.maxMessageSize', /10 bytes would refuse every alert mail/],
    ['smtp: { maxMessageSize: "0KB" }', 'smtp.maxMessageSize', /at least 1KB/],
    ['smtp: { maxMessageSize: "lots" }', 'smtp.maxMessageSize', /invalid size "lots"/],
    ['smtp: { allowFrom: [] }', 'smtp.allowFrom', /empty list refuses every client/],
    ['smtp: { allowFrom: ["bogus"] }', 'smtp.allowFrom.0', /invalid address "bogus"/],
    ['smtp: { allowFrom: ["127.0.0.0/8", "10.0.0.0/33"] }', 'smtp.allowFrom.1', /invalid prefix length in "10.0.0.0\/33" \(0 to 32\)/],
    ['smtp: { allowFrom: ["::1/129"] }', 'smtp.allowFrom.0', /0 to 128/],
    ['smtp: { allowFrom: ["10.0.0.0/x"] }', 'smtp.allowFrom.0', /invalid prefix length/],
    ['dataDir: ""', 'dataDir', /must name a directory/],
    ['audioCacheDir: ""', 'audioCacheDir', /must name a directory/],
    ['smtp: { port: "twenty-five" }', 'smtp.port', /number/],
    ['smtp: { tls: { key: /k.pem } }', 'smtp.tls.cert', /Required/],
    ['bogus: 1', '(top level)', /unknown key\(s\) bogus/],
    ['filter: { ignoreSubjects: ["("] }', 'filter.ignoreSubjects', /invalid regular expression/],
    ['channels: { voip: { servers: [] } }', 'channels.voip.servers', /empty list leaves no server to register to/],
    ['channels: { voip: { servers: ["pbx1:5060", "pbx 2"] } }', 'channels.voip.servers.1', /"pbx 2" is not host\[:port\]/],
    ['channels: { voip: { servers: ["pbx1:99999"] } }', 'channels.voip.servers.0', /is not host\[:port\]/],
    ['channels: { voip: { servers: ["[2001:db8::zz]:5060"] } }', 'channels.voip.servers.0', /is not host\[:port\]/],
    ['channels: { voip: { servers: ["pbx1:5060", "PBX1:5060"] } }', 'channels.voip.servers.1', /"PBX1:5060" is listed twice \(also at 0\)/],
    ['channels: { voip: { server: pbx1, servers: [pbx2] } }', 'channels.voip.servers', /voip.server \("pbx1"\) and voip.servers are both set/],
    ['channels: { voip: { servers: [a, b, c, d, e, f, g, h, i] } }', 'channels.voip.servers', /at most 8 servers/],
    ['channels: { voip: { server: "pbx:5060;transport=tcp" } }', 'channels.voip.server', /is not host\[:port\]/],
    ['channels: { voip: { probeInterval: 100ms } }', 'channels.voip.probeInterval', /at least 1s/],
    ['channels: { voip: { serverTimeout: 0 } }', 'channels.voip.serverTimeout', /at least 200ms/],
    ['channels: { voip: { failback: maybe } }', 'channels.voip.failback', /boolean/],
  ];
  it.each(refused)('%s → refused, naming %s', (yaml, key, msg) => {
    const r = refusal(yaml);
    expect(r, yaml).not.toBeNull();
    expect(r!.keys).toContain(key);
    expect(r!.message).toContain('test.yaml');
    expect(r!.message).toContain(key === '(top level)' ? 'bogus' : key);
    expect(r!.message).toMatch(msg);
  });

  const accepted: [string, (c: ReturnType<typeof parseConfig>) => unknown, unknown][] = [
    ['', (c) => c.smtp.maxMessageSize, 1024 * 1024],
    ['smtp: { maxMessageSize: 1KB }', (c) => c.smtp.maxMessageSize, 1024],
    ['smtp: { maxMessageSize: 2048 }', (c) => c.smtp.maxMessageSize, 2048],
    ['smtp: { allowFrom: ["10.0.0.5"] }', (c) => c.smtp.allowFrom, ['10.0.0.5']],
    ['smtp: { allowFrom: ["0.0.0.0/0", "::/0", "192.0.2.0/24", "fe80::/10"] }', (c) => c.smtp.allowFrom.length, 4],
    ['dataDir: /var/lib/alertline', (c) => c.dataDir, '/var/lib/alertline'],
    // voip.server (the one-server form) is a pool of one; voip.servers lists the pool in order
    ['', (c) => [c.channels.voip.server, c.channels.voip.servers, c.channels.voip.failback], ['pbx.example.com:5060', ['pbx.example.com:5060'], true]],
    ['channels: { voip: { server: " pbx.lan:5070 " } }', (c) => [c.channels.voip.server, c.channels.voip.servers], ['pbx.lan:5070', ['pbx.lan:5070']]],
    ['channels: { voip: { servers: [pbx1.lan, "192.0.2.7:5070", "[2001:db8::7]:5060"], failback: false } }', (c) => [c.channels.voip.server, c.channels.voip.servers, c.channels.voip.failback], ['pbx1.lan', ['pbx1.lan', '192.0.2.7:5070', '[2001:db8::7]:5060'], false]],
    ['channels: { voip: { probeInterval: 5s, serverTimeout: 2s } }', (c) => [c.channels.voip.probeInterval, c.channels.voip.serverTimeout], [5000, 2000]],
    // the parsed form (server = first of servers) reads back the same
    ['channels: { voip: { server: pbx1, servers: [pbx1, pbx2] } }', (c) => [c.channels.voip.server, c.channels.voip.servers], ['pbx1', ['pbx1', 'pbx2']]],
  ];
  it.each(accepted)('%s → accepted', (yaml, pick, want) => {
    expect(pick(parseConfig(yaml, 'test.yaml'))).toEqual(want);
  });
});

describe('locateConfig: the one lookup used by run, doctor, config check and every other command', () => {
  const none = () => false;
  const only = (p: string) => (q: string) => q === p;
  const table: [string, string | undefined, NodeJS.ProcessEnv, (p: string) => boolean, { path: string | null; source: string }][] = [
    ['flag wins over everything', 'my.yaml', { ALERTLINE_CONFIG: 'env.yaml' }, () => true, { path: 'my.yaml', source: 'flag' }],
    ['env next', undefined, { ALERTLINE_CONFIG: 'env.yaml' }, () => true, { path: 'env.yaml', source: 'env' }],
    ['empty env counts as unset', undefined, { ALERTLINE_CONFIG: '' }, only(SYSTEM_CONFIG), { path: SYSTEM_CONFIG, source: 'system' }],
    ['system file before the local one', undefined, {}, () => true, { path: SYSTEM_CONFIG, source: 'system' }],
    ['local file', undefined, {}, only(LOCAL_CONFIG), { path: LOCAL_CONFIG, source: 'local' }],
    ['nothing: built-in defaults', undefined, {}, none, { path: null, source: 'defaults' }],
  ];
  it.each(table)('%s', (_name, flag, env, exists, want) => {
    expect(locateConfig(flag, env, exists)).toEqual(want);
  });

  it.each(['', '  '])('--config %j is a usage error, never a silent fall-back to defaults', (flag) => {
    let err: unknown;
    try {
      locateConfig(flag, {}, none);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).usage).toBe(true);
    expect((err as ConfigError).message).toMatch(/--config needs a file name/);
  });
});

describe('directories: real, writable, on a file system that holds files; checked quickly, created one level at a time', () => {
  const file = join(tmp.dir, 'a-file');
  writeFileSync(file, 'x');
  const table: [string, string, string, RegExp][] = [
    ['under /proc (mkdir recursive would spin there)', '/proc/alertline/data', 'ENOTSUP', /is on proc, a kernel pseudo file system/],
    ['/proc itself', '/proc', 'ENOTSUP', /on proc/],
    ['an existing /proc directory', '/proc/self', 'ENOTSUP', /on proc/],
    ['under /sys', '/sys/alertline', 'ENOTSUP', /is on sysfs/],
    ['a file', file, 'ENOTDIR', /a-file is not a directory/],
    ['below a file', join(file, 'data', 'deeper'), 'ENOTDIR', /a-file is not a directory/],
  ];
  it.each(table)('%s → %s', (_name, dir, code, msg) => {
    let err: unknown;
    try {
      inspectDirectory(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DirectoryError);
    expect((err as DirectoryError).code).toBe(code);
    expect((err as DirectoryError).message).toMatch(msg);
    expect(() => prepareDirectory(dir)).toThrow(DirectoryError);
  });

  it('an existing directory passes; a missing one is reported as such, then created with its parents', () => {
    expect(inspectDirectory(tmp.dir)).toEqual({ path: tmp.dir, exists: true, base: tmp.dir });
    const deep = join(tmp.dir, 'new', 'nested', 'data');
    expect(inspectDirectory(deep)).toEqual({ path: deep, exists: false, base: tmp.dir });
    expect(prepareDirectory(deep)).toBe(deep);
    expect(inspectDirectory(deep).exists).toBe(true);
    expect(prepareDirectory(deep)).toBe(deep); // again: nothing to do
  });

  it('checkConfigDirectories names the key of each bad directory', () => {
    const c = parseConfig(`dataDir: /proc/alertline\naudioCacheDir: ${file}\n`);
    expect(checkConfigDirectories(c).map((i) => i.key)).toEqual(['dataDir', 'audioCacheDir']);
    expect(checkConfigDirectories(parseConfig(`dataDir: ${join(tmp.dir, 'd')}\naudioCacheDir: ${join(tmp.dir, 'a')}\n`))).toEqual([]);
  });
});

describe('TLS files: checked at load, the message names the key and the file', () => {
  const dir = join(tmp.dir, 'tls');
  mkdirSync(dir);
  const gen = (name: string) => {
    const key = join(dir, `${name}.key`);
    const cert = join(dir, `${name}.crt`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}.test`], { stdio: 'ignore' });
    return { key, cert };
  };
  const a = gen('a');
  const b = gen('b');
  const garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, 'not a pem at all\n');
  const encrypted = join(dir, 'enc.key');
  execFileSync('openssl', ['pkey', '-in', a.key, '-out', encrypted, '-aes256', '-passout', 'pass:secret'], { stdio: 'ignore' });
  const missing = join(dir, 'missing.key');

  const table: [string, { key: string; cert: string }, string, RegExp][] = [
    ['a key that is not PEM', { key: garbage, cert: a.cert }, 'smtp.tls.key', /garbage\.pem is not a usable private key/],
    ['an encrypted key', { key: encrypted, cert: a.cert }, 'smtp.tls.key', /enc\.key is not a usable private key: the key is encrypted/],
    ['a missing key file', { key: missing, cert: a.cert }, 'smtp.tls.key', /cannot read .*missing\.key: ENOENT/],
    ['a certificate that is not PEM', { key: a.key, cert: garbage }, 'smtp.tls.cert', /garbage\.pem is not a PEM certificate/],
    ['a key of another certificate', { key: b.key, cert: a.cert }, 'smtp.tls.key', /b\.key does not belong to the certificate in smtp\.tls\.cert \(.*a\.crt\)/],
  ];
  it.each(table)('%s → refused naming %s', (_name, files, key, msg) => {
    const r = checkTlsFiles('smtp.tls', files);
    expect(r.issues.map((i) => i.key)).toContain(key);
    expect(r.issues.find((i) => i.key === key)!.message).toMatch(msg);
    // loadConfig refuses the same file with the config's own path in front
    const conf = join(dir, 'c.yaml');
    writeFileSync(conf, `smtp:\n  tls: { key: ${files.key}, cert: ${files.cert} }\n`);
    expect(() => loadConfig(conf, {})).toThrow(new RegExp(`c\\.yaml: .*${key.replace(/\./g, '\\.')}: `));
  });

  it('a matching pair passes; an expired certificate is a warning, not a refusal', () => {
    expect(checkTlsFiles('smtp.tls', a)).toEqual({ issues: [], warnings: [] });
    const later = Date.now() + 10 * 86_400_000;
    const r = checkTlsFiles('smtp.tls', a, later);
    expect(r.issues).toEqual([]);
    expect(r.warnings[0]).toMatch(/smtp\.tls\.cert: .*a\.crt expired on /);
  });
});
