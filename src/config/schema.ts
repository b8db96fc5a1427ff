/**
 * The configuration contract (YAML). config/alertline.example.yaml documents every key.
 * Durations and sizes are parsed here, so the rest of the code sees milliseconds and bytes.
 */
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

export const smtpSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(2525),
    hostname: z.string().default('alertline'),
    maxMessageSize: size.default('1MB'),
    allowFrom: z.array(z.string()).default(['127.0.0.0/8', '::1/128']),
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
  })
  .strict();

export const voipSchema = z
  .object({
    enabled: z.boolean().default(false),
    server: z.string().default('pbx.example.com:5060'),
    transport: z.enum(['udp', 'tcp']).default('udp'),
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
  })
  .strict();

export const configSchema = z
  .object({
    dataDir: z.string().default('./data'),
    audioCacheDir: z.string().default('./audio-cache'),
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
        xmpp: xmppSchema.default({}),
      })
      .strict()
      .default({}),
    escalation: escalationSchema.default({}),
    admins: adminsSchema.default({}),
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
export type XmppConfig = Config['channels']['xmpp'];
export type EscalationConfig = Config['escalation'];

export function defaultConfig(): Config {
  return configSchema.parse({});
}
