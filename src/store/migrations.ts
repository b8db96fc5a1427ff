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
  /* 5: the xmpp channel's address */ `
  ALTER TABLE users ADD COLUMN xmpp TEXT;         -- bare JID, lower-cased
  CREATE INDEX users_xmpp ON users(xmpp);
  `,
];
