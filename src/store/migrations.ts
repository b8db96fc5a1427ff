/** Schema migrations, applied in order; user_version holds how many have run. Never edit a shipped one: add a new one. */
export const MIGRATIONS: string[] = [
  /* 1: initial schema */ `
  CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name TEXT,
    phone TEXT,
    sip TEXT,
    grp TEXT COLLATE NOCASE,
    lang TEXT,
    channel_order TEXT,            -- JSON array overriding channels.order, or NULL
    created_at INTEGER NOT NULL
  );
  CREATE INDEX users_grp ON users(grp);

  CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,           -- JSON
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at INTEGER NOT NULL,
    kind TEXT NOT NULL,            -- problem | resolved | update | test | other
    subject TEXT NOT NULL,
    host TEXT,
    severity TEXT,
    event_id TEXT,
    problem_key TEXT NOT NULL,     -- event id, or normalized subject + host: what a Resolved mail matches
    text TEXT NOT NULL,
    mail_from TEXT,
    rcpt TEXT NOT NULL,            -- JSON array of envelope recipients
    message_id TEXT,
    client TEXT,
    raw BLOB NOT NULL,
    state TEXT NOT NULL,           -- pending | notifying | acknowledged | resolved | unacknowledged | delivered | failed | ignored | suppressed | cancelled
    ack_by TEXT,
    ack_via TEXT,
    ack_at INTEGER,
    resolved_by INTEGER,
    resolved_at INTEGER,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX alerts_event ON alerts(event_id);
  CREATE INDEX alerts_problem ON alerts(problem_key, kind);
  CREATE INDEX alerts_state ON alerts(state);

  CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    user_email TEXT NOT NULL COLLATE NOCASE,
    dedupe_key TEXT NOT NULL,
    state TEXT NOT NULL,           -- queued | running | done | unacknowledged | failed | acknowledged | cancelled | suppressed | ignored
    round INTEGER NOT NULL DEFAULT 1,
    step INTEGER NOT NULL DEFAULT 0,
    tries INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    text_only INTEGER NOT NULL DEFAULT 0,  -- 1: only sms/mail (resolved notices)
    plan TEXT,                     -- JSON channel list overriding the user's/global order (send-test --channel), or NULL
    informed INTEGER NOT NULL DEFAULT 0,   -- 1 once a channel delivered/answered for this recipient
    result TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX deliveries_due ON deliveries(state, next_at, alert_id);
  CREATE INDEX deliveries_dedupe ON deliveries(user_email, dedupe_key, created_at);
  CREATE INDEX deliveries_alert ON deliveries(alert_id);

  CREATE TABLE attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    channel TEXT NOT NULL,
    target TEXT,
    round INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at INTEGER,
    outcome TEXT,                  -- channel outcome, or skipped / interrupted
    reason TEXT,
    detail TEXT                    -- JSON
  );
  CREATE INDEX attempts_delivery ON attempts(delivery_id);
  CREATE INDEX attempts_alert ON attempts(alert_id);
  CREATE INDEX attempts_open ON attempts(ended_at);

  CREATE TABLE alert_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,            -- received | ignored | suppressed | acknowledged | resolved | cancelled | exhausted | note
    detail TEXT
  );
  CREATE INDEX alert_events_alert ON alert_events(alert_id);

  CREATE TABLE daemon_status (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pid INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    status TEXT NOT NULL           -- JSON snapshot written by the running daemon for 'alertline status'
  );
  `,
  /* 2: per-group channel order */ `
  CREATE TABLE groups (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    channel_order TEXT NOT NULL,   -- JSON array overriding channels.order for the group's members
    updated_at INTEGER NOT NULL
  );
  `,
  /* 3: what the monitor recognisers derive */ `
  ALTER TABLE alerts ADD COLUMN level TEXT;       -- severity on the common scale: info | warning | average | high | critical
  ALTER TABLE alerts ADD COLUMN sentence TEXT;    -- the one-line sentence spoken and texted
  ALTER TABLE alerts ADD COLUMN monitor TEXT;     -- zabbix | alertmanager | nagios | grafana | generic | alertline
  `,
  /* 4: a delivery waiting for a channel to come back */ `
  ALTER TABLE deliveries ADD COLUMN waiting_since INTEGER;  -- set while every channel that could reach the person is down
  `,
  /* 5: on call: schedules with layers, overrides, escalation policies, routes, silences */ `
  CREATE TABLE schedules (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE schedule_layers (
    schedule TEXT NOT NULL REFERENCES schedules(name) ON DELETE CASCADE,
    name TEXT NOT NULL COLLATE NOCASE,  -- primary | secondary | ...
    position INTEGER NOT NULL,          -- layer order (the first layer is the default one)
    members TEXT NOT NULL,              -- JSON array of user e-mails, rotation order
    rotation TEXT NOT NULL,             -- JSON {kind: daily|weekly} or {kind: days, days: N}
    handoff TEXT NOT NULL,              -- JSON {weekday?: 1..7, minute: 0..1439} (local time)
    start TEXT NOT NULL,                -- local date/time in zone, or ISO instant
    zone TEXT NOT NULL,                 -- IANA zone
    created_at INTEGER NOT NULL,
    PRIMARY KEY (schedule, name)
  );
  CREATE TABLE schedule_overrides (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule TEXT NOT NULL REFERENCES schedules(name) ON DELETE CASCADE,
    layer TEXT COLLATE NOCASE,          -- NULL: the schedule's first layer
    member TEXT NOT NULL COLLATE NOCASE,
    replaces TEXT COLLATE NOCASE,       -- only while this member would be on call; NULL: whoever is
    from_at INTEGER NOT NULL,
    to_at INTEGER NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX schedule_overrides_schedule ON schedule_overrides(schedule, to_at);
  CREATE TABLE policies (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    steps TEXT NOT NULL,                -- JSON array of {type: notify, target} | {type: wait, ms}
    repeat INTEGER NOT NULL DEFAULT 0,  -- extra passes after the first
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE routes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    position INTEGER NOT NULL,          -- routes are tried in this order; the first that matches wins
    address TEXT NOT NULL COLLATE NOCASE, -- recipient local part (noc for noc@anything)
    policy TEXT NOT NULL REFERENCES policies(name),
    host TEXT,                          -- pattern the whole host must match
    subject TEXT,                       -- pattern found anywhere in the subject
    severity TEXT,                      -- the alert's level is this or above
    created_at INTEGER NOT NULL
  );
  CREATE INDEX routes_address ON routes(address, position);
  CREATE TABLE silences (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    host TEXT,
    subject TEXT,
    severity TEXT,                      -- the alert's level is this or below
    from_at INTEGER NOT NULL,
    until_at INTEGER NOT NULL,
    comment TEXT NOT NULL,
    created_by TEXT,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX silences_until ON silences(until_at);
  `,
  /* 6: escalation policies running for alerts; silenced alerts wait for their silence to end */ `
  CREATE TABLE alert_policies (
    alert_id INTEGER NOT NULL REFERENCES alerts(id),
    policy TEXT NOT NULL,
    definition TEXT NOT NULL,      -- JSON: the policy as it was when the alert came (steps, repeat)
    started_at INTEGER NOT NULL,
    events TEXT NOT NULL DEFAULT '[]',  -- JSON: escalate / snooze / ack / resolve events
    done TEXT NOT NULL DEFAULT '[]',    -- JSON: keys of the notifications already made
    next_at INTEGER,               -- when the policy wants to be looked at again; NULL: nothing due
    ended INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (alert_id, policy)
  );
  CREATE INDEX alert_policies_due ON alert_policies(ended, next_at);
  ALTER TABLE alerts ADD COLUMN silenced_until INTEGER;
  CREATE INDEX alerts_silenced ON alerts(state, silenced_until);
  `,
  /* 7: per-user contact rules (quiet hours, channels per severity) */ `
  ALTER TABLE users ADD COLUMN contact_rules TEXT;  -- JSON {zone?, quiet?: {windows, callsFrom, below}, bySeverity?}, or NULL: none
  `,
  /* 8: retention finds old rows by age */ `
  CREATE INDEX alerts_received ON alerts(received_at);
  `,
  /* 9: HTTP API tokens, heartbeats (dead-man's switches), change feed for the event stream */ `
  CREATE TABLE api_tokens (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    hash TEXT NOT NULL UNIQUE,     -- hex SHA-256 of the token; the token itself is never stored
    scope TEXT NOT NULL,           -- read | write | ingest
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
  );

  CREATE TABLE heartbeats (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    every_ms INTEGER NOT NULL,     -- a ping is expected this often
    grace_ms INTEGER NOT NULL,     -- and may be this late before the monitor counts as quiet
    grp TEXT,                      -- who is told (a user group); NULL: http.defaultTo
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER,          -- last ping, NULL before the first
    quiet_since INTEGER,           -- set while the quiet-monitor alert is raised
    quiet_alert_id INTEGER
  );

  CREATE INDEX alerts_updated ON alerts(updated_at);
  `,
  /* 10: the xmpp channel's address */ `
  ALTER TABLE users ADD COLUMN xmpp TEXT;         -- bare JID, lower-cased
  CREATE INDEX users_xmpp ON users(xmpp);
  `,
  /* 11: one row the daemon rewrites to learn whether the database still takes writes (self-alarm "database errors") */ `
  CREATE TABLE store_probe (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at INTEGER NOT NULL
  );
  `,
  /* 12: web console users (scrypt password hashes) and their sessions */ `
  CREATE TABLE web_users (
    login TEXT PRIMARY KEY COLLATE NOCASE,
    role TEXT NOT NULL,            -- admin | responder | viewer
    password TEXT NOT NULL,        -- scrypt$N$r$p$salt$hash (base64url); never the password
    user_email TEXT COLLATE NOCASE, -- the person (users.email) this login is: console pages reach them here
    created_at INTEGER NOT NULL,
    last_login_at INTEGER
  );
  CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,      -- hex SHA-256 of the session cookie; the cookie itself is never stored
    login TEXT NOT NULL REFERENCES web_users(login) ON DELETE CASCADE,
    csrf TEXT NOT NULL,            -- the token every state change must carry
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX web_sessions_login ON web_sessions(login);
  `,
  /* 13: several nodes on one database: who is up, and leases on the deliveries they work */ `
  CREATE TABLE nodes (
    name TEXT PRIMARY KEY,           -- node.name of the appliance
    pid INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    seen_at INTEGER NOT NULL,        -- its last heartbeat
    status TEXT NOT NULL             -- JSON: channels with their health, what it is running
  );
  ALTER TABLE deliveries ADD COLUMN lease_node TEXT;      -- the node working on it, while lease_until is ahead
  ALTER TABLE deliveries ADD COLUMN lease_until INTEGER;  -- renewed while the step runs; past: another node may take it
  ALTER TABLE attempts ADD COLUMN node TEXT;              -- the node that made the attempt
  CREATE INDEX deliveries_lease ON deliveries(state, lease_until);
  `,
];

/**
 * The one definition above, for each engine. SQLite runs it as written. PostgreSQL gets the same
 * statements with its types: INTEGER → BIGINT (millisecond times), INTEGER PRIMARY KEY
 * [AUTOINCREMENT] → BIGSERIAL (CHECK-ed singleton keys stay plain BIGINT), BLOB → BYTEA, and
 * TEXT COLLATE NOCASE (and text keys referencing those) → CITEXT, which compares, sorts and
 * enforces UNIQUE case-insensitively like NOCASE does. Write new migrations in that vocabulary.
 */
export function translate(sql: string, dialect: 'sqlite' | 'postgres'): string {
  if (dialect === 'sqlite') return sql;
  return sql
    .replace(/\bINTEGER PRIMARY KEY AUTOINCREMENT\b/g, 'BIGSERIAL PRIMARY KEY')
    .replace(/\bINTEGER PRIMARY KEY CHECK\b/g, 'BIGINT PRIMARY KEY CHECK')
    .replace(/\bINTEGER PRIMARY KEY\b/g, 'BIGSERIAL PRIMARY KEY')
    .replace(/\bINTEGER\b/g, 'BIGINT')
    .replace(/\bBLOB\b/g, 'BYTEA')
    .replace(/\bTEXT\b([^,\n]*?)\s+COLLATE NOCASE/g, 'CITEXT$1')
    .replace(/\bTEXT( NOT NULL)? REFERENCES\b/g, 'CITEXT$1 REFERENCES');
}

export function migrationsFor(dialect: 'sqlite' | 'postgres'): string[] {
  return MIGRATIONS.map((m, i) => (dialect === 'postgres' && i === 0 ? `CREATE EXTENSION IF NOT EXISTS citext;\n${translate(m, dialect)}` : translate(m, dialect)));
}
