/**
 * Runs Kamailio (Debian kamailio + kamailio-tls-modules) in the foreground on 127.0.0.1 as a
 * registrar and proxy listening only on TLS, with a temp config and the test PKI's server
 * certificate. Clients behind connections they opened themselves (Alertline, baresip) are
 * reached over those connections: fix_nated_register() stores each REGISTER's source, and
 * add_contact_alias()/handle_ruri_alias() do the same for the Contact of a dialog's 2xx.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../sipp/helpers.js';
import type { Pki } from './pki.js';

const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';
/** Every user's password at this registrar. */
export const PASSWORD = 's3cret';

export interface Kamailio {
  port: number;
  /** A plain UDP listener too, for test clients without TLS (sipp). */
  udpPort: number;
  output(): string;
  stop(): Promise<void>;
}

function config(port: number, udpPort: number, domain: string, pki: Pki, requireClientCert: boolean): string {
  return `#!KAMAILIO
debug=2
log_stderror=yes
log_facility=LOG_LOCAL0
children=2
tcp_children=2
auto_aliases=no
disable_tcp=no
enable_tls=yes
listen=tls:127.0.0.1:${port}
listen=udp:127.0.0.1:${udpPort}
alias="${domain}"
tcp_connection_lifetime=600
mpath="${MODULES}"

loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "nathelper.so"
loadmodule "auth.so"
loadmodule "tls.so"

modparam("tls", "certificate", "${pki.serverCert}")
modparam("tls", "private_key", "${pki.serverKey}")
modparam("tls", "ca_list", "${pki.ca}")
modparam("tls", "tls_method", "TLSv1.2+")
modparam("tls", "verify_certificate", ${requireClientCert ? 1 : 0})
modparam("tls", "require_certificate", ${requireClientCert ? 1 : 0})
modparam("usrloc", "db_mode", 0)
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("rr", "append_fromtag", 1)

request_route {
  xlog("L_INFO", "REQ $rm $ru from $si:$sp ($pr)\\n");
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (has_totag()) {
    if (loose_route()) {
      handle_ruri_alias();
      route(RELAY);
      exit;
    }
    if (is_method("ACK")) {
      if (t_check_trans()) t_relay();
      exit;
    }
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) {
    if (t_check_trans()) route(RELAY);
    exit;
  }
  t_check_trans();
  if (is_method("REGISTER")) {
    # digest with one password for every user (auth optional in spirit: enough to exercise it over TLS)
    if (!pv_www_authenticate("$td", "${PASSWORD}", "0")) {
      www_challenge("$td", "0");
      exit;
    }
    fix_nated_register();
    if (!save("location")) sl_reply_error();
    exit;
  }
  if (uri == myself) {
    if (!lookup("location")) {
      sl_send_reply("404", "Not Found");
      exit;
    }
  }
  if (is_method("INVITE")) record_route();
  route(RELAY);
}

route[RELAY] {
  if (is_method("INVITE")) t_on_reply("REPLY");
  if (!t_relay()) sl_reply_error();
  exit;
}

onreply_route[REPLY] {
  xlog("L_INFO", "REPLY $rs from $si:$sp\\n");
  if (status =~ "^[12][0-9][0-9]$" && is_present_hf("Contact")) add_contact_alias();
}
`;
}

/**
 * Starts Kamailio; `port` given reuses one (a restart), else a free one is chosen. With
 * `requireClientCert` clients must present a certificate signed by the test CA (mutual TLS).
 */
export async function startKamailio(pki: Pki, domain: string, opts: { port?: number; requireClientCert?: boolean } = {}): Promise<Kamailio> {
  let port = opts.port;
  const dir = mkdtempSync(join(tmpdir(), 'alertline-kamailio-'));
  port ??= await freePort();
  let udpPort = await freePort();
  while (udpPort === port) udpPort = await freePort();
  writeFileSync(join(dir, 'kamailio.cfg'), config(port, udpPort, domain, pki, opts.requireClientCert ?? false));
  const child: ChildProcess = spawn('kamailio', ['-f', join(dir, 'kamailio.cfg'), '-DD', '-E', '-m', '64', '-M', '8', '-Y', dir, '-w', dir, '-P', join(dir, 'kamailio.pid')], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const onData = (d: Buffer) => (out = (out + d.toString()).slice(-60000));
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let up = false;
  for (let i = 0; i < 100 && child.exitCode === null && !up; i++) {
    up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  if (!up) {
    child.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`kamailio did not start: ${out.slice(-4000)}`);
  }
  return {
    port,
    udpPort,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
