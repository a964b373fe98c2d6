-- Who may sign in and with what: users (Argon2id password hashes), their browser sessions and
-- their API tokens. Secrets are never stored, only their SHA-256 (sessions, tokens) or PHC
-- Argon2id string (passwords). Times are wall-clock milliseconds.
CREATE TABLE users (
    name                 TEXT    PRIMARY KEY NOT NULL,
    -- NULL for users who sign in only through single sign-on.
    password_hash        TEXT,
    -- JSON list of {"role", "fleet"?}.
    grants               TEXT    NOT NULL,
    version              INTEGER NOT NULL,
    created_at           INTEGER NOT NULL,
    password_changed_at  INTEGER NOT NULL
);

CREATE TABLE sessions (
    id_hash       TEXT    PRIMARY KEY NOT NULL,
    user          TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    address       TEXT
);

CREATE INDEX sessions_of_user ON sessions (user);

CREATE TABLE api_tokens (
    id            TEXT    PRIMARY KEY NOT NULL,
    secret_hash   TEXT    NOT NULL UNIQUE,
    owner         TEXT    NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    fleet         TEXT,
    description   TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    revoked_at    INTEGER,
    last_used_at  INTEGER
);
