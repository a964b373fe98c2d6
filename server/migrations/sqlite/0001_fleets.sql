-- Fleets and their members (intent), settings, and the simulated provider's own state.
-- Every mutable row carries `version` for compare-and-set writes.

CREATE TABLE fleets (
    name        TEXT    PRIMARY KEY NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE members (
    fleet               TEXT    NOT NULL REFERENCES fleets (name) ON DELETE CASCADE,
    name                TEXT    NOT NULL,
    cluster_resource_id TEXT    NOT NULL,
    update_group        TEXT,
    labels              TEXT    NOT NULL DEFAULT '{}',
    version             INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    PRIMARY KEY (fleet, name),
    -- A cluster joins a fleet at most once.
    UNIQUE (fleet, cluster_resource_id)
);

CREATE INDEX members_by_cluster ON members (cluster_resource_id);

CREATE TABLE settings (
    key    TEXT PRIMARY KEY NOT NULL,
    value  TEXT NOT NULL
);

CREATE TABLE sim_catalog (
    id       INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    catalog  TEXT    NOT NULL,
    version  INTEGER NOT NULL
);

CREATE TABLE sim_clusters (
    name     TEXT    PRIMARY KEY NOT NULL,
    state    TEXT    NOT NULL,
    version  INTEGER NOT NULL
);
