/**
 * The configuration contract (YAML). config/alertline.example.yaml documents every key.
 * Durations and sizes are parsed here, so the rest of the code sees milliseconds and bytes.
 */
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseDuration, parseSize } from './units.js';
import { CHANNEL_NAMES } from './channel-names.js';

const duration = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    try {
      return parseDuration(v);
    } catch (e) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message });
      return z.NEVER;
    }
  });

const size = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    try {
      return parseSize(v);
    } catch (e) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message });
      return z.NEVER;
    }
  });

const channelName = z.enum(CHANNEL_NAMES);

const portRange = z
  .string()
  .regex(/^\d+-\d+$/, 'write a port range like 10000-10999')
  .transform((s, ctx) => {
    const [a, b] = s.split('-').map(Number) as [number, number];
    if (a < 1024 || b > 65535 || a > b || (b - a) < 1) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `bad port range ${s}` });
      return z.NEVER;
    }
    return { min: a, max: b };
  });

/** Smaller than any real alert mail (headers alone take a few hundred bytes). */
const MIN_MESSAGE_SIZE = 1024;

/** An IPv4 or IPv6 address with an optional prefix length: 192.0.2.0/24, ::1/128, 10.0.0.5. */
const cidr = z.string().superRefine((c, ctx) => {
  const slash = c.indexOf('/');
  const addr = (slash < 0 ? c : c.slice(0, slash)).trim();
  const bits = slash < 0 ? null : c.slice(slash + 1).trim();
  const family = isIP(addr);
  if (!family) return ctx.addIssue({ code: z.ZodIssueCode.custom, message: `invalid address ${JSON.stringify(c)}` });
  const max = family === 4 ? 32 : 128;
  if (bits !== null && (!/^\d{1,3}$/.test(bits) || Number(bits) > max)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: `invalid prefix length in ${JSON.stringify(c)} (0 to ${max})` });
  }
});

export const smtpSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(2525),
    hostname: z.string().default('alertline'),
    maxMessageSize: size.refine((n) => n >= MIN_MESSAGE_SIZE, (n) => ({ message: `${n} bytes would refuse every alert mail: at least 1KB (the default is 1MB)` })).default('1MB'),
    allowFrom: z.array(cidr).min(1, 'an empty list refuses every client: list the networks of the monitors that send alerts, e.g. ["127.0.0.0/8", "::1/128"]').default(['127.0.0.0/8', '::1/128']),
    tls: z.object({ key: z.string(), cert: z.string() }).strict().optional(),
    auth: z
      .object({
        required: z.boolean().default(false),
        users: z.record(z.string(), z.string()).default({}),
        /** With smtp.tls: also offer AUTH before STARTTLS (password in clear). */
        allowInsecure: z.boolean().default(false),
        /** Failed AUTH per client address: delay (doubling per failure) and lockout. */
        failureDelay: duration.default('1s'),
        maxFailures: z.number().int().positive().default(10),
        lockout: duration.default('15m'),
      })
      .strict()
      .default({}),
    maxClients: z.number().int().positive().default(100),
    /** Sessions per client address (IPv6: per /64); more wait for a slot. Default: half of maxClients. */
    maxClientsPerAddress: z.number().int().positive().optional(),
    /** A session must start a transaction (MAIL) this soon after connecting or after its last one. */
    idleTimeout: duration.refine((ms) => ms > 0, 'must be more than 0 (0 would close every session at once); 10s suits real senders').default('10s'),
    socketTimeout: duration.default('60s'),
    /**
     * Worker threads that parse mail (MIME decoding) beside the main thread: `auto` = 1 with two
     * cores or more, none on one core; 0 = parse on the main thread. They start when mail comes
     * and stop after 30 s without any.
     */
    parseWorkers: z.union([z.literal('auto'), z.number().int().min(0).max(32)]).default('auto'),
  })
  .strict();

export const filterSchema = z
  .object({
    dedupeWindow: duration.default('30m'),
    ignoreSubjects: z.array(z.string()).default([]),
    maxPending: z.number().int().positive().default(10000),
  })
  .strict();

export const voiceSchema = z
  .object({
    engine: z.enum(['espeak-wasm', 'command']).default('espeak-wasm'),
    /** argv template for engine "command": {text} and {file} are replaced; no shell. */
    command: z.array(z.string()).optional(),
    lang: z.string().default('en'),
    rate: z.number().int().min(80).max(450).default(160),
    repeat: z.number().int().min(1).max(10).default(2),
    /** Sample rate of WAV files played by gsm.audioCommand. */
    wavRate: z.number().int().positive().default(8000),
    cacheMaxBytes: size.default('200MB'),
    /**
     * espeak-wasm: the engine (a worker thread, ~100 MB) stops after this long without speech to
     * make and starts again for the next new message (~0.3 s, while the phone rings); the VoIP
     * media worker stops after this long without calls. 0 keeps both loaded.
     */
    unloadAfter: duration.default('60s'),
  })
  .strict();

/** A SIP server as host[:port]: a name, an IPv4 address or a [bracketed] IPv6 one. */
const sipServer = z
  .string()
  .trim()
  .superRefine((v, ctx) => {
    const m = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)(?::(\d{1,5}))?$/.exec(v);
    const port = m?.[2] !== undefined ? Number(m[2]) : undefined;
    const v6 = m?.[1]?.startsWith('[') ? m[1].slice(1, -1) : undefined;
    if (!m || (port !== undefined && (port < 1 || port > 65535)) || (v6 !== undefined && isIP(v6) !== 6)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(v)} is not host[:port] (e.g. pbx1.example.com:5060, 192.0.2.7, [2001:db8::7]:5070)` });
    }
  });

const DEFAULT_SIP_SERVER = 'pbx.example.com:5060';
/** More servers than any sensible pool: each down one costs a timeout before a call reaches the next. */
const MAX_SIP_SERVERS = 8;

export const voipSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** One registrar / outbound proxy: the same as `servers: [server]`. */
    server: sipServer.optional(),
    /**
     * The pool: registrars / outbound proxies in order of preference. Alertline registers to the
     * first healthy one, fails over on timeout / transport error / 5xx, and (failback) returns.
     */
    servers: z
      .array(sipServer)
      .min(1, 'an empty list leaves no server to register to: list at least one host:port')
      .max(MAX_SIP_SERVERS, `at most ${MAX_SIP_SERVERS} servers (each one down costs a call a serverTimeout before the next)`)
      .optional(),
    /** Move back to a more preferred server once its probes are answered again. */
    failback: z.boolean().default(true),
    /** How often servers that are down are probed (OPTIONS). */
    probeInterval: duration.refine((ms) => ms >= 1000, 'at least 1s (probes are OPTIONS requests to every server that is down)').default('30s'),
    /** An INVITE the server answers nothing at all to (not even 100 Trying) for this long: the server is down, the call goes to the next one. */
    serverTimeout: duration.refine((ms) => ms >= 200, 'at least 200ms (a live server answers an INVITE with 100 Trying within a round trip)').default('5s'),
    /** tls: SIP over TLS (RFC 3261 §26) to the servers (port 5061 when none is written). */
    transport: z.enum(['udp', 'tcp', 'tls']).default('udp'),
    /** For transport tls: file paths; the server certificate is verified unless rejectUnauthorized is false. */
    tls: z
      .object({
        ca: z.string().optional(),
        rejectUnauthorized: z.boolean().default(true),
        cert: z.string().optional(),
        key: z.string().optional(),
      })
      .strict()
      .default({}),
    domain: z.string().default('pbx.example.com'),
    username: z.string().default('200'),
    authUsername: z.string().optional(),
    password: z.string().default(''),
    displayName: z.string().default('Alertline'),
    register: z.boolean().default(true),
    registerExpires: duration.default('3600s'),
    localAddress: z.string().optional(),
    localPort: z.number().int().min(0).max(65535).default(5060),
    rtpPorts: portRange.default('10000-10999'),
    ringTimeout: duration.default('30s'),
    maxCallDuration: duration.default('180s'),
    maxConcurrentCalls: z.number().int().positive().default(4),
    codecs: z.array(z.enum(['PCMU', 'PCMA'])).min(1).default(['PCMU', 'PCMA']),
    srtp: z.enum(['off', 'optional', 'required']).default('off'),
  })
  .strict()
  .superRefine((v, ctx) => {
    // Both set is accepted only as the parsed form writes them (server = the first of servers).
    if (v.server !== undefined && v.servers !== undefined && v.server.toLowerCase() !== v.servers[0]?.toLowerCase()) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['servers'], message: `voip.server (${JSON.stringify(v.server)}) and voip.servers are both set: list every server in voip.servers (voip.server is the one-server form)` });
    }
    const seen = new Map<string, number>();
    (v.servers ?? []).forEach((name, i) => {
      const key = name.toLowerCase();
      const first = seen.get(key);
      if (first !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['servers', i], message: `${JSON.stringify(name)} is listed twice (also at ${first})` });
      else seen.set(key, i);
    });
  })
  .transform(({ server, servers, ...rest }) => {
    const pool = servers ?? [server ?? DEFAULT_SIP_SERVER];
    /** `server` is the preferred (first) server of the pool. */
    return { ...rest, servers: pool, server: pool[0]! };
  });

/** SIP MESSAGE (RFC 3428) text to people's SIP addresses, through the voip channel's registration. */
export const sipmsgSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** Retries of a retryable failure (timeout, 5xx, voip not up yet), doubling from retryBackoff. */
    retries: z.number().int().min(0).max(20).default(3),
    retryBackoff: duration.default('10s'),
    /**
     * Replies are read only from MESSAGEs that came through the voip server (the registrar /
     * proxy), whose From the PBX vouches for. true also reads those sent straight to our port.
     */
    acceptDirect: z.boolean().default(false),
  })
  .strict();

/** The web console as a channel: alerts shown (with an alarm) to recipients logged in to the console. */
export const consoleSchema = z
  .object({
    enabled: z.boolean().default(false),
  })
  .strict();

export const gsmSchema = z
  .object({
    enabled: z.boolean().default(false),
    port: z.string().default('/dev/ttyUSB0'),
    baudRate: z.number().int().positive().default(9600),
    pin: z.string().regex(/^(\d{4,8})?$/, 'PIN must be 4-8 digits').default(''),
    audioCommand: z.array(z.string()).min(1).default(['aplay', '-q', '{file}']),
    ringTimeout: duration.default('30s'),
    maxCallDuration: duration.default('180s'),
    healthInterval: duration.default('60s'),
    commandTimeout: duration.default('5s'),
  })
  .strict();

export const smsSchema = z
  .object({
    enabled: z.boolean().default(false),
    fullText: z.boolean().default(false),
    maxParts: z.number().int().min(1).max(16).default(4),
    /** Retries of a transient failure (network error, modem busy), doubling from retryBackoff. */
    retries: z.number().int().min(0).max(20).default(3),
    retryBackoff: duration.default('10s'),
  })
  .strict();

export const mailChannelSchema = z
  .object({
    enabled: z.boolean().default(false),
    host: z.string().default('smtp.example.com'),
    port: z.number().int().min(1).max(65535).default(587),
    secure: z.boolean().default(false),
    requireTLS: z.boolean().default(true),
    /** Accept self-signed relay certificates (lab setups only). */
    tlsRejectUnauthorized: z.boolean().default(true),
    user: z.string().default(''),
    password: z.string().default(''),
    from: z.string().default('alertline@example.com'),
    retries: z.number().int().min(0).max(20).default(3),
    retryBackoff: duration.default('10s'),
    timeout: duration.default('30s'),
  })
  .strict();

export const xmppSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** The appliance's own account (bare JID). */
    jid: z.string().default('alertline@example.org'),
    password: z.string().default(''),
    /** host:port of the server's client port; empty: the JID's domain, port 5222 (no SRV lookup). */
    server: z.string().default(''),
    /** Verify the server's certificate (always against the JID's domain). false only in a lab. */
    tlsRejectUnauthorized: z.boolean().default(true),
    /** A PEM file with the CA(s) that signed the server's certificate, instead of the system's. */
    ca: z.string().optional(),
    resource: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - (at most 64)').default('alertline'),
    /** A page not delivered by then is dropped by servers that honour expiry (XEP-0079) and never sent later by us. */
    expireAfter: duration.default('30m'),
    /** First reconnect wait; doubles per failed try up to reconnectMax, with jitter. */
    reconnectMin: duration.default('1s'),
    reconnectMax: duration.default('60s'),
    /** One connection attempt (TCP, STARTTLS, SASL, bind) must finish this soon. */
    connectTimeout: duration.default('20s'),
    /** XEP-0199 ping this often to notice a dead connection; 0s turns it off. */
    pingInterval: duration.default('60s'),
    retries: z.number().int().min(0).max(20).default(3),
    retryBackoff: duration.default('10s'),
  })
  .strict();

export const escalationSchema = z
  .object({
    mode: z.enum(['until-acknowledged', 'all']).default('until-acknowledged'),
    rounds: z.number().int().min(1).max(50).default(3),
    roundInterval: duration.default('5m'),
    /** When the first call of a round went unanswered, the next round starts this soon (repeat calls pass DND). */
    quickRetry: duration.default('2m'),
    maxCallsPerHour: z.number().int().min(1).default(6),
    notifyResolved: z.boolean().default(true),
    /**
     * When every channel that could reach a person is down, the round does not count: the delivery
     * waits for one to come back, this long at most (then the round goes on and may fail).
     */
    maxWait: duration.default('30m'),
    /** An alert acknowledged but not resolved after this long notifies the acknowledger again, once (0: never). */
    ackTimeout: duration.default('1h'),
    /** Tell the people already paged, by text, when someone acknowledges or resolves. */
    ackNotice: z.boolean().default(true),
    /** When a silence ends, deliver the problems it held that are still open (false: they stay held, as cancelled). */
    deliverAfterSilence: z.boolean().default(true),
  })
  .strict();

/** The appliance's own alarms (a dead modem, a failing relay, an alert nobody answered) go to this group. */
export const adminsSchema = z
  .object({
    group: z.string().default('admins'),
    /** A channel down this long raises an alarm. */
    channelDownAfter: duration.default('2m'),
    /** The oldest due delivery waiting this long raises an alarm. */
    queueAgeMax: duration.default('10m'),
    /** Free space under dataDir below this raises an alarm. */
    minFreeDisk: size.default('100MB'),
    /** Database errors (I/O error, corruption, locked, read-only) going on this long raise an alarm, sent without the database. */
    databaseErrorsAfter: duration.default('10s'),
  })
  .strict();

/** How long history is kept (alerts, deliveries, attempts, events) and the raw messages; 0 keeps forever. */
export const retentionSchema = z
  .object({
    /** Ended alerts whose last change is older than this are deleted with their deliveries, attempts and events. */
    history: duration.default('180d'),
    /** Raw messages of ended alerts older than this are emptied (the alert row, text and history stay). */
    raw: duration.default('30d'),
    /** How often pruning runs (off the hot path, in small transactions). */
    interval: duration.refine((ms) => ms >= 1000, 'must be at least 1s').default('1h'),
    /** Rows per transaction: small, so a mail arriving meanwhile waits milliseconds, not seconds. */
    batch: z.number().int().min(1).max(10_000).default(500),
  })
  .strict();

export const storeSchema = z
  .object({
    /** sqlite: the embedded file under dataDir (one appliance). postgres: a PostgreSQL shared by several appliances (HA). */
    engine: z.enum(['sqlite', 'postgres']).default('sqlite'),
    /** engine postgres: postgres://user[:password]@host[:port]/database (libpq URL; ?sslmode=... as libpq). */
    url: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
    /** Below this much free space on dataDir's file system new alerts get a temporary failure (452 / 503). 0 disables the check. */
    minFreeSpace: size.default('50MB'),
  })
  .strict()
  .refine((v) => v.engine !== 'postgres' || v.url !== undefined, { message: 'engine postgres needs url: postgres://user@host/alertline', path: ['url'] });

export const nodeSchema = z
  .object({
    /** This appliance's name among the nodes sharing one PostgreSQL (default: the host name). */
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, . _ - (up to 63)').default(() => hostname()),
    /** How long a delivery a node works on stays its own without renewal (renewed every second while a step runs); after it, another node takes the delivery over. */
    lease: duration.refine((ms) => ms >= 3000, 'must be at least 3s').default('30s'),
    /** A node not seen for this long is reported down (status, self-alarm). */
    downAfter: duration.refine((ms) => ms >= 5000, 'must be at least 5s').default('30s'),
  })
  .strict();

export const httpSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8025),
    tls: z.object({ key: z.string(), cert: z.string() }).strict().optional(),
    /** /metrics without a token (for a Prometheus that scrapes without credentials). */
    metricsPublic: z.boolean().default(false),
    /** Recipients of webhook alerts that name none (no ?to= and no alertline_to label). */
    defaultTo: z.array(z.string()).default([]),
    maxBodySize: size.default('1MB'),
    /** Failed authentications allowed per client address per minute before 429. */
    authFailuresPerMinute: z.number().int().min(1).default(10),
    /** How often the heartbeat checker looks for quiet monitors. */
    heartbeatCheckInterval: duration.default('10s'),
  })
  .strict();

export const configSchema = z
  .object({
    dataDir: z.string().min(1, 'must name a directory').default('./data'),
    audioCacheDir: z.string().min(1, 'must name a directory').default('./audio-cache'),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    smtp: smtpSchema.default({}),
    filter: filterSchema.default({}),
    voice: voiceSchema.default({}),
    channels: z
      .object({
        order: z.array(channelName).default(['voip', 'gsm', 'sms', 'mail']),
        voip: voipSchema.default({}),
        gsm: gsmSchema.default({}),
        sms: smsSchema.default({}),
        mail: mailChannelSchema.default({}),
        sipmsg: sipmsgSchema.default({}),
        xmpp: xmppSchema.default({}),
        console: consoleSchema.default({}),
      })
      .strict()
      .default({}),
    escalation: escalationSchema.default({}),
    admins: adminsSchema.default({}),
    retention: retentionSchema.default({}),
    store: storeSchema.default({}),
    node: nodeSchema.default({}),
    http: httpSchema.default({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type SmtpConfig = Config['smtp'];
export type FilterConfig = Config['filter'];
export type VoiceConfig = Config['voice'];
export type VoipConfig = Config['channels']['voip'];
export type GsmConfig = Config['channels']['gsm'];
export type SmsConfig = Config['channels']['sms'];
export type MailChannelConfig = Config['channels']['mail'];
export type SipmsgConfig = Config['channels']['sipmsg'];
export type XmppConfig = Config['channels']['xmpp'];
export type ConsoleConfig = Config['channels']['console'];
export type EscalationConfig = Config['escalation'];
export type RetentionConfig = Config['retention'];
export type HttpConfig = Config['http'];

export function defaultConfig(): Config {
  return configSchema.parse({});
}
