-- Resources applied to clusters. `placement_members`: what Drydock applied of a placement to
-- each member (the snapshots, the state, the provider's words), the placement's rollout record.
-- `sim_resources`: what the simulated clusters hold, per owner (a placement), with how many
-- times a new revision was applied; `sim_resource_faults`: the failures a simulated cluster's
-- API server injects into applies, and how long its objects take to become available.
CREATE TABLE placement_members (
    fleet       TEXT    NOT NULL,
    placement   TEXT    NOT NULL,
    member      TEXT    NOT NULL,
    record      TEXT    NOT NULL,
    PRIMARY KEY (fleet, placement, member),
    FOREIGN KEY (fleet, placement) REFERENCES placements (fleet, name) ON DELETE CASCADE
);

CREATE TABLE sim_resources (
    cluster       TEXT    NOT NULL,
    owner         TEXT    NOT NULL,
    revision      TEXT    NOT NULL,
    manifests     TEXT    NOT NULL,
    applies       INTEGER NOT NULL,
    applied_at    INTEGER NOT NULL,
    available_at  INTEGER NOT NULL,
    PRIMARY KEY (cluster, owner)
);

CREATE TABLE sim_resource_faults (
    cluster             TEXT    PRIMARY KEY,
    apply_fail_next     INTEGER NOT NULL DEFAULT 0,
    ready_after_seconds INTEGER NOT NULL DEFAULT 0
);
