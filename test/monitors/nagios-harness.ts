/**
 * Nagios Core 4.4 (Debian nagios4) in the foreground with its own nagios.cfg in a temp dir: one
 * host and one service whose check command reads a state file, the package's stock
 * notify-host-by-email / notify-service-by-email commands (printf | /usr/bin/mail, delivering
 * through msmtp to the SMTP port given: a sink, or a real Alertline daemon), state driven through
 * the external command file. A second contact uses the same template plus the
 * $NOTIFICATIONAUTHOR$ / $NOTIFICATIONCOMMENT$ macros.
 */
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Proc, until } from './harness.js';

const NAGIOS = '/usr/sbin/nagios4';
const STOCK_COMMANDS = '/etc/nagios4/objects/commands.cfg';
const MSMTP = '/usr/bin/msmtp';
const MAILX = '/usr/bin/mail';

export const STOCK = 'oncall@alerts.test';
export const DETAIL = 'detail@alerts.test';

function objects(d: string): string {
  const detail = (host: boolean) => host
    ? String.raw`/usr/bin/printf "%b" "***** Nagios *****\n\nNotification Type: $NOTIFICATIONTYPE$\nHost: $HOSTNAME$\nState: $HOSTSTATE$\nAddress: $HOSTADDRESS$\nInfo: $HOSTOUTPUT$\nAuthor: $NOTIFICATIONAUTHOR$\nComment: $NOTIFICATIONCOMMENT$\n\nDate/Time: $LONGDATETIME$\n" | /usr/bin/mail -s "** $NOTIFICATIONTYPE$ Host Alert: $HOSTNAME$ is $HOSTSTATE$ **" $CONTACTEMAIL$`
    : String.raw`/usr/bin/printf "%b" "***** Nagios *****\n\nNotification Type: $NOTIFICATIONTYPE$\n\nService: $SERVICEDESC$\nHost: $HOSTALIAS$\nAddress: $HOSTADDRESS$\nState: $SERVICESTATE$\nAuthor: $NOTIFICATIONAUTHOR$\nComment: $NOTIFICATIONCOMMENT$\n\nDate/Time: $LONGDATETIME$\n\nAdditional Info:\n\n$SERVICEOUTPUT$\n" | /usr/bin/mail -s "** $NOTIFICATIONTYPE$ Service Alert: $HOSTALIAS$/$SERVICEDESC$ is $SERVICESTATE$ **" $CONTACTEMAIL$`;
  const week = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'].map((w) => `  ${w} 00:00-24:00`).join('\n');
  return `
define command {
  command_name check_state_svc
  command_line /bin/sh ${d}/check.sh ${d}/svc.state
}
define command {
  command_name check_state_host
  command_line /bin/sh ${d}/check.sh ${d}/host.state
}
define command {
  command_name notify-host-by-email-detail
  command_line ${detail(true)}
}
define command {
  command_name notify-service-by-email-detail
  command_line ${detail(false)}
}
define timeperiod {
  timeperiod_name always
  alias Always
${week}
}
define contact {
  contact_name oncall
  alias On call
  email ${STOCK}
  service_notification_period always
  host_notification_period always
  service_notification_options w,u,c,r,f,s
  host_notification_options d,u,r,f,s
  service_notification_commands notify-service-by-email
  host_notification_commands notify-host-by-email
}
define contact {
  contact_name detail
  alias Detail
  email ${DETAIL}
  service_notification_period always
  host_notification_period always
  service_notification_options w,u,c,r,f,s
  host_notification_options d,u,r,f,s
  service_notification_commands notify-service-by-email-detail
  host_notification_commands notify-host-by-email-detail
}
define host {
  host_name web01
  alias web01
  address 127.0.0.1
  check_command check_state_host
  max_check_attempts 1
  check_interval 3600
  retry_interval 1
  check_period always
  notification_period always
  notification_interval 0
  notification_options d,u,r,f,s
  contacts oncall,detail
}
define service {
  host_name web01
  service_description HTTP
  check_command check_state_svc
  max_check_attempts 1
  check_interval 3600
  retry_interval 1
  check_period always
  notification_period always
  notification_interval 0
  notification_options w,u,c,r,f,s
  flap_detection_enabled 0
  low_flap_threshold 5
  high_flap_threshold 20
  contacts oncall,detail
}
`;
}

function nagiosCfg(d: string): string {
  return [
    `log_file=${d}/nagios.log`, `cfg_file=${STOCK_COMMANDS}`, `cfg_file=${d}/objects.cfg`,
    `resource_file=${d}/resource.cfg`, `object_cache_file=${d}/objects.cache`, `precached_object_file=${d}/objects.precache`,
    `status_file=${d}/status.dat`, 'status_update_interval=1', 'nagios_user=root', 'nagios_group=root',
    'check_external_commands=1', `command_file=${d}/nagios.cmd`, `lock_file=${d}/nagios.lock`, `temp_file=${d}/nagios.tmp`,
    `temp_path=${d}`, `state_retention_file=${d}/retention.dat`, 'retain_state_information=0', `check_result_path=${d}/checkresults`,
    'interval_length=1', 'enable_notifications=1', 'enable_flap_detection=1', 'use_syslog=0', `query_socket=${d}/nagios.qh`,
    'check_workers=1', 'date_format=us', "illegal_macro_output_chars=`~$&|'\"<>", 'max_service_check_spread=1', 'max_host_check_spread=1', '',
  ].join('\n');
}

export interface Nagios {
  dir: string;
  proc: Proc;
  command(c: string): void;
  service(code: number, output: string): void;
  host(code: number, output: string): void;
  readLog(): string;
  stop(): Promise<void>;
}

/** One external command through the command file (a FIFO Nagios reads). */
function command(dir: string, c: string): void {
  appendFileSync(join(dir, 'nagios.cmd'), `[${Math.floor(Date.now() / 1000)}] ${c}\n`);
}

/** The plugin the check command runs: prints the state file's output line, exits with its code. */
function setState(dir: string, which: 'svc' | 'host', code: number, output: string): void {
  writeFileSync(join(dir, `${which}.state`), `${code}\n${output}\n`);
}

function service(dir: string, code: number, output: string): void {
  setState(dir, 'svc', code, output);
  command(dir, `PROCESS_SERVICE_CHECK_RESULT;web01;HTTP;${code};${output}`);
}

function host(dir: string, code: number, output: string): void {
  setState(dir, 'host', code, output);
  command(dir, `PROCESS_HOST_CHECK_RESULT;web01;${code};${output}`);
}

/** Starts Nagios e-mailing 127.0.0.1:smtpPort; resolves once it reads its command file. */
export async function startNagios(smtpPort: number): Promise<Nagios> {
  for (const f of [NAGIOS, STOCK_COMMANDS, MSMTP, MAILX]) if (!existsSync(f)) throw new Error(`${f} missing: apt-get install nagios4 msmtp bsd-mailx`);
  const dir = mkdtempSync(join(tmpdir(), 'alertline-nagios-'));
  mkdirSync(join(dir, 'checkresults'));
  const readLog = (): string => { try { return readFileSync(join(dir, 'nagios.log'), 'utf8'); } catch { return ''; } };
  writeFileSync(join(dir, 'msmtprc'), `account default\nhost 127.0.0.1\nport ${smtpPort}\nfrom nagios@monitor.test\ndomain monitor.test\nauth off\ntls off\n`);
  chmodSync(join(dir, 'msmtprc'), 0o600);
  writeFileSync(join(dir, 'sendmail'), `#!/bin/sh\nexec ${MSMTP} -C ${dir}/msmtprc "$@"\n`);
  chmodSync(join(dir, 'sendmail'), 0o755);
  // bsd-mailx reads $MAILRC; "sendmail" names the program it hands the message to.
  writeFileSync(join(dir, 'mailrc'), `set sendmail=${dir}/sendmail\n`);
  writeFileSync(join(dir, 'check.sh'), 'code=$(head -n1 "$1"); out=$(sed -n 2p "$1"); echo "$out"; exit "$code"\n');
  writeFileSync(join(dir, 'resource.cfg'), '$USER1$=/usr/lib/nagios/plugins\n');
  setState(dir, 'svc', 0, 'HTTP OK: HTTP/1.1 200 OK - 512 bytes in 0.002 second response time');
  setState(dir, 'host', 0, 'PING OK - Packet loss = 0%, RTA = 0.05 ms');
  writeFileSync(join(dir, 'objects.cfg'), objects(dir));
  writeFileSync(join(dir, 'nagios.cfg'), nagiosCfg(dir));
  const nagios = Proc.start('nagios4', NAGIOS, [join(dir, 'nagios.cfg')], { env: { MAILRC: join(dir, 'mailrc'), HOME: dir } });
  await until('Nagios command file', () => existsSync(join(dir, 'nagios.cmd')) && readLog().includes('Successfully launched command file worker'), 15_000, () => nagios.output);
  return {
    dir, proc: nagios,
    command: (c) => command(dir, c),
    service: (code, out) => service(dir, code, out),
    host: (code, out) => host(dir, code, out),
    readLog,
    async stop() { await nagios.stop(); rmSync(dir, { recursive: true, force: true }); },
  };
}
