-- Auto-upgrade profiles: a fleet's standing policy. `profile` is what the user set (its version
-- the etag), `status` what the last trigger did (written by the server, no new etag).
CREATE TABLE auto_upgrade_profiles (
    fleet       TEXT    NOT NULL REFERENCES fleets (name) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    profile     TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT '{}',
    version     BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (fleet, name)
);
