-- The whole schema on PostgreSQL, as SQLite has it after its migration 15 (PostgreSQL support
-- begins there; every later migration is written for both). Integers are BIGINT and reals
-- DOUBLE PRECISION, as SQLite's INTEGER and REAL are; JSON is kept as text, as on SQLite.
-- Constraints are named after their columns: the store tells conflicts apart by those words.

CREATE TABLE fleets (
    name        TEXT    PRIMARY KEY NOT NULL,
    version     BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE members (
    fleet               TEXT    NOT NULL REFERENCES fleets (name) ON DELETE CASCADE,
    name                TEXT    NOT NULL,
    cluster_resource_id TEXT    NOT NULL,
    update_group        TEXT,
    labels              TEXT    NOT NULL DEFAULT '{}',
    version             BIGINT  NOT NULL,
    created_at          BIGINT  NOT NULL,
    PRIMARY KEY (fleet, name)
);

-- A cluster is a member of one fleet at most.
CREATE UNIQUE INDEX members_cluster_resource_id_once ON members (cluster_resource_id);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY NOT NULL,
    value  TEXT NOT NULL
);

CREATE TABLE sim_catalog (
    id       BIGINT  PRIMARY KEY NOT NULL CHECK (id = 1),
    catalog  TEXT    NOT NULL,
    version  BIGINT  NOT NULL
);

CREATE TABLE sim_clusters (
    name            TEXT             PRIMARY KEY NOT NULL,
    state           TEXT             NOT NULL,
    version         BIGINT           NOT NULL,
    fail_next       BIGINT           NOT NULL DEFAULT 0,
    failure_rate    DOUBLE PRECISION NOT NULL DEFAULT 0,
    transient_rate  DOUBLE PRECISION NOT NULL DEFAULT 0,
    unreachable     BIGINT           NOT NULL DEFAULT 0,
    lose_next       BIGINT           NOT NULL DEFAULT 0,
    stuck_next      BIGINT           NOT NULL DEFAULT 0
);

CREATE TABLE strategies (
    fleet       TEXT    NOT NULL REFERENCES fleets (name) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    strategy    TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (fleet, name)
);

CREATE TABLE runs (
    fleet       TEXT    NOT NULL REFERENCES fleets (name) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    uid         TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('NotStarted', 'Running', 'Stopping', 'Stopped',
                                                  'Skipped', 'Failed', 'Pending', 'Completed')),
    version     BIGINT  NOT NULL,
    wake_at     BIGINT,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (fleet, name)
);

CREATE UNIQUE INDEX runs_by_uid ON runs (uid);
CREATE INDEX runs_by_state ON runs (state);

CREATE TABLE run_events (
    id     BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fleet  TEXT    NOT NULL,
    run    TEXT    NOT NULL,
    at     BIGINT  NOT NULL,
    event  TEXT    NOT NULL,
    FOREIGN KEY (fleet, run) REFERENCES runs (fleet, name) ON DELETE CASCADE
);

CREATE INDEX run_events_by_run ON run_events (fleet, run, id);

CREATE TABLE sim_operations (
    operation_id  TEXT    PRIMARY KEY NOT NULL,
    cluster       TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    target        TEXT    NOT NULL,
    started_at    BIGINT  NOT NULL,
    ends_at       BIGINT  NOT NULL,
    failure       TEXT,
    applied       BIGINT  NOT NULL DEFAULT 0
);

CREATE INDEX sim_operations_by_start ON sim_operations (started_at);

CREATE TABLE run_members (
    fleet  TEXT    NOT NULL,
    run    TEXT    NOT NULL,
    stage  BIGINT  NOT NULL,
    grp    BIGINT  NOT NULL,
    idx    BIGINT  NOT NULL,
    body   TEXT    NOT NULL,
    PRIMARY KEY (fleet, run, stage, grp, idx),
    FOREIGN KEY (fleet, run) REFERENCES runs (fleet, name) ON DELETE CASCADE
);

CREATE TABLE cluster_leases (
    cluster       TEXT    PRIMARY KEY NOT NULL,
    fleet         TEXT    NOT NULL,
    run           TEXT    NOT NULL,
    run_uid       TEXT    NOT NULL,
    member        TEXT    NOT NULL,
    operation_id  TEXT    NOT NULL UNIQUE,
    since         BIGINT  NOT NULL,
    FOREIGN KEY (fleet, run) REFERENCES runs (fleet, name) ON DELETE CASCADE
);

CREATE INDEX cluster_leases_by_member ON cluster_leases (run_uid, member);
CREATE INDEX cluster_leases_by_fleet ON cluster_leases (fleet);

CREATE TABLE provider_journal (
    provider      TEXT NOT NULL,
    operation_id  TEXT NOT NULL,
    record        TEXT NOT NULL,
    PRIMARY KEY (provider, operation_id)
);

CREATE TABLE webhooks (
    name         TEXT    PRIMARY KEY NOT NULL,
    spec         TEXT    NOT NULL,
    version      BIGINT  NOT NULL,
    since_event  BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL
);

CREATE TABLE webhook_deliveries (
    id               BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook          TEXT    NOT NULL REFERENCES webhooks (name) ON DELETE CASCADE,
    event_id         BIGINT  NOT NULL,
    event_type       TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('Pending', 'Delivered', 'Failed')),
    attempts         BIGINT  NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT  NOT NULL,
    last_attempt_at  BIGINT,
    last_status      BIGINT,
    last_error       TEXT,
    created_at       BIGINT  NOT NULL,
    UNIQUE (webhook, event_id)
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (webhook, state, next_attempt_at);

CREATE TABLE users (
    name                 TEXT    PRIMARY KEY NOT NULL,
    password_hash        TEXT,
    grants               TEXT    NOT NULL,
    version              BIGINT  NOT NULL,
    created_at           BIGINT  NOT NULL,
    password_changed_at  BIGINT  NOT NULL,
    issuer               TEXT,
    subject              TEXT
);

CREATE UNIQUE INDEX users_by_subject ON users (issuer, subject) WHERE issuer IS NOT NULL;

CREATE TABLE sessions (
    id_hash       TEXT    PRIMARY KEY NOT NULL,
    "user"        TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created_at    BIGINT  NOT NULL,
    last_seen_at  BIGINT  NOT NULL,
    address       TEXT
);

CREATE INDEX sessions_of_user ON sessions ("user");

CREATE TABLE api_tokens (
    id            TEXT    PRIMARY KEY NOT NULL,
    secret_hash   TEXT    NOT NULL UNIQUE,
    owner         TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    fleet         TEXT,
    description   TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT,
    revoked_at    BIGINT,
    last_used_at  BIGINT
);

CREATE TABLE audit_log (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT  NOT NULL,
    actor       TEXT    NOT NULL,
    credential  TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    fleet       TEXT,
    run         TEXT,
    address     TEXT    NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('Pending', 'Succeeded', 'Refused', 'Failed', 'Interrupted')),
    status      BIGINT,
    code        TEXT
);

CREATE INDEX audit_by_actor ON audit_log (actor, id);
CREATE INDEX audit_by_fleet ON audit_log (fleet, run, id);

CREATE TABLE sso_logins (
    state_hash  TEXT    PRIMARY KEY NOT NULL,
    nonce       TEXT    NOT NULL,
    verifier    TEXT    NOT NULL,
    next        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
