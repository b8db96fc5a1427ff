/**
 * doctor's checks of the two telephone peers: the GSM modem (answers AT, SIM ready, registered,
 * signal) and the SIP registrar (reachable, registration accepted). Each brings the real driver up
 * the way the daemon would (Sim900Modem, VoipChannel), reads its status, and takes it down again.
 * When a daemon is running it owns the serial port and the SIP binding, so its live report is used
 * instead of opening them a second time.
 */
import type { PromptAudio } from '../audio/prompt-audio.js';
import type { ModemStatus, Sim900ModemOptions } from '../channels/gsm/sim900-modem.js';
import type { VoipChannelOptions } from '../channels/voip/voip-channel.js';
import { silentLogger } from '../util/log.js';
import { fail, pass, skip, warn, type ChannelProbe, type CheckResult, type DoctorEnv } from './doctor-checks.js';

interface LiveChannel { enabled?: boolean; running?: boolean; healthy?: boolean; detail?: string }

function liveChannel(env: DoctorEnv, name: string): LiveChannel | null {
  const chans = env.daemon?.status.channels as Record<string, LiveChannel> | undefined;
  return chans?.[name] ?? null;
}

function fromDaemon(env: DoctorEnv, check: string, channel: string, hint: string): CheckResult {
  const c = liveChannel(env, channel);
  const who = `daemon pid ${env.daemon!.pid}`;
  if (!c || !c.running) return fail(check, `${who} has not started the ${channel} channel${c?.detail ? `: ${c.detail}` : ''}`, hint);
  return c.healthy ? pass(check, `${who} reports: ${c.detail ?? 'healthy'}`) : fail(check, `${who} reports: ${c.detail ?? 'unhealthy'}`, hint);
}

/** Turns a modem's status after bring-up into the four doctor lines. Pure: exported for tests. */
export function modemChecks(s: ModemStatus, baudRate: number): CheckResult[] {
  const out: CheckResult[] = [];
  const err = s.lastError ? `: ${s.lastError}` : '';
  if (s.state === 'disconnected' || s.state === 'opening') {
    out.push(fail('modem', `cannot open ${s.port}${err}`, `is the modem plugged in and powered? ls -l ${s.port}; the daemon's user must be in group dialout; hardware/README.md has the udev rule for /dev/alertline-modem`));
  } else if (s.state === 'no-response') {
    out.push(fail('modem', `${s.port} opened but the modem does not answer AT at ${baudRate} baud`, 'power it on (PWRKEY pulse: the STATUS LED must light), check TX/RX are crossed and grounds joined, and gsm.baudRate'));
  } else if (s.state === 'powered-down') {
    out.push(fail('modem', `the modem on ${s.port} powered down${err}`, 'check its power supply: the SIM900 needs 2 A bursts from its own supply'));
  } else {
    out.push(pass('modem', `answers AT on ${s.port}`));
  }
  if (out[0]!.status === 'fail') {
    for (const n of ['sim', 'gsm-network', 'signal']) out.push(skip(n, 'skipped (modem not answering)'));
    return out;
  }
  if (s.state === 'sim-pin-required') out.push(fail('sim', 'the SIM wants a PIN and gsm.pin is empty', 'set gsm.pin, or remove the PIN with a phone'));
  else if (s.state === 'pin-rejected') out.push(fail('sim', `gsm.pin was refused${err}`, 'correct gsm.pin before anything retries it: after 3 wrong PINs the SIM needs its PUK'));
  else if (s.state === 'sim-error') out.push(fail('sim', `SIM problem${err}`, 'is a SIM inserted (contacts down, notch first)? does it work in a phone?'));
  else if (s.state === 'init-failed' && !s.registration) out.push(fail('sim', `bring-up failed${err}`, 'run with logLevel: debug to see the AT exchange'));
  else out.push(pass('sim', 'ready'));
  if (out[1]!.status === 'fail') {
    for (const n of ['gsm-network', 'signal']) out.push(skip(n, 'skipped (SIM not ready)'));
    return out;
  }
  if (s.registered) out.push(pass('gsm-network', `registered (${s.registration?.text ?? 'home'})${s.operator ? ` on ${s.operator}` : ''}`));
  else out.push(fail('gsm-network', `not registered${s.registration ? ` (${s.registration.text})` : ''}${err}`, 'check the antenna, coverage and that the SIM is activated; roaming SIMs must allow roaming'));
  const sig = s.signal;
  if (!sig || sig.rssi === 99) out.push(fail('signal', 'no signal measured (AT+CSQ 99)', 'connect the antenna; move it away from the Pi and metal'));
  else if (sig.rssi < 5) out.push(warn('signal', `weak: rssi ${sig.rssi}${sig.dbm !== null ? ` (${sig.dbm} dBm)` : ''}`, 'calls may drop: a better antenna placement or an external antenna helps'));
  else out.push(pass('signal', `rssi ${sig.rssi}${sig.dbm !== null ? ` (${sig.dbm} dBm)` : ''}`));
  return out;
}

export function modemProbe(extra: Partial<Omit<Sim900ModemOptions, 'config' | 'logger'>> = {}): ChannelProbe {
  return async (env) => {
    const gsm = env.config.channels.gsm;
    if (env.daemon) return [fromDaemon(env, 'modem', env.config.channels.gsm.enabled ? 'gsm' : 'sms', 'alertline status shows more; the daemon log (journalctl -u alertline) has the AT errors')];
    const { Sim900Modem } = await import('../channels/gsm/sim900-modem.js');
    // No inbound sink: the modem leaves the SIM's messages (replies the daemon will read) alone.
    const modem = new Sim900Modem({ config: gsm, logger: silentLogger, registrationTimeout: 30_000, probeAttempts: 5, ...extra });
    try {
      await modem.start();
      return modemChecks(modem.status(), gsm.baudRate);
    } finally {
      await modem.stop();
    }
  };
}

/** Registration needs no audio: a PromptAudio that would fail loudly if a call were placed. */
const noAudio: PromptAudio = {
  callFrames: () => Promise.reject(new Error('doctor places no calls')),
  phraseFrames: () => Promise.reject(new Error('doctor places no calls')),
  callWav: () => Promise.reject(new Error('doctor places no calls')),
  phraseWav: () => Promise.reject(new Error('doctor places no calls')),
};

export function sipProbe(extra: Partial<Omit<VoipChannelOptions, 'config' | 'voice' | 'audio' | 'logger'>> = {}): ChannelProbe {
  return async (env) => {
    const v = env.config.channels.voip;
    const hint = 'check voip.server(s), username, authUsername and password against the PBX extension; a firewall must let SIP (and RTP) through';
    if (env.daemon) return [fromDaemon(env, 'sip', 'voip', hint)];
    const { VoipChannel } = await import('../channels/voip/voip-channel.js');
    const ch = new VoipChannel({ config: v, voice: env.config.voice, audio: noAudio, logger: silentLogger, ...extra });
    try {
      try {
        await ch.start();
      } catch (e) {
        const m = (e as Error).message;
        if (/EADDRINUSE/.test(m)) return [fail('sip', `cannot bind local SIP port ${v.localPort}: in use`, 'another SIP program (or a running Alertline) holds it: stop it or set voip.localPort')];
        return [fail('sip', `cannot reach ${v.server}: ${m}`, 'check voip.server (host:port) resolves and this machine has a route to it')];
      }
      // A pool: ask the other servers too (OPTIONS), so a dead standby shows before it is needed.
      await ch.serverPool?.probeOthers();
      const s = ch.status();
      const r = s.registration;
      const at = s.server;
      const pool = s.pool && s.pool.servers.length > 1 ? s.pool.servers : [];
      const down = pool.filter((x) => x.state === 'down');
      const downText = down.map((x) => `${x.server} (${x.reason ?? 'down'})`).join(', ');
      const poolHint = 'a server of voip.servers does not answer: calls and the registration use the others until it does (Alertline probes it and fails back)';
      if (r.state === 'disabled') {
        const text = `registration disabled (voip.register false); calls go to ${at}`;
        return [down.length ? warn('sip', `${text}; down: ${downText}`, poolHint) : pass('sip', text)];
      }
      if (r.state === 'registered') {
        const text = `registered ${v.username}@${v.domain} at ${at}${r.grantedExpires ? ` for ${r.grantedExpires} s` : ''}`;
        return [down.length ? warn('sip', `${text}; down: ${downText}`, poolHint) : pass('sip', text)];
      }
      return [fail('sip', `registration at ${at} ${r.state}: ${r.reason}${down.length && down.some((x) => x.server !== at) ? `; also down: ${down.filter((x) => x.server !== at).map((x) => `${x.server} (${x.reason ?? 'down'})`).join(', ')}` : ''}`, hint)];
    } finally {
      await ch.stop().catch(() => {});
    }
  };
}
