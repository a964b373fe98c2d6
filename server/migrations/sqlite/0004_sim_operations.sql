-- The simulated provider performs upgrades: failure injection per cluster, and every operation
-- it was asked to start (idempotent by operation id).
ALTER TABLE sim_clusters ADD COLUMN fail_next INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sim_clusters ADD COLUMN failure_rate REAL NOT NULL DEFAULT 0;

CREATE TABLE sim_operations (
    operation_id  TEXT    PRIMARY KEY NOT NULL,
    cluster       TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    target        TEXT    NOT NULL,
    started_at    INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL,
    -- The failure drawn at start, if the operation is to fail.
    failure       TEXT,
    -- Whether a successful operation's target has been applied to the cluster.
    applied       INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX sim_operations_by_start ON sim_operations (started_at);
