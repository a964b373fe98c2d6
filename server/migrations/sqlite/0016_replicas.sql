-- Which server drives each run (several replicas may share one database): the replica's id,
-- until when its hold lasts (milliseconds since the epoch, by the database's clock, so replicas'
-- clocks need not agree) and a fencing token raised by every taking. Every write of a run names
-- the token it was taken with: a replica that lost the run (paused, partitioned, presumed dead)
-- cannot commit anything for it after another took it.
ALTER TABLE runs ADD COLUMN driver TEXT;
ALTER TABLE runs ADD COLUMN driver_until INTEGER;
ALTER TABLE runs ADD COLUMN driver_fence INTEGER NOT NULL DEFAULT 0;
CREATE INDEX runs_by_driver ON runs (driver);

-- Operator commands (start, stop, skip) for a run another replica drives: the replica that was
-- asked writes the command here, the run's driver carries it out and writes the answer in the
-- same transaction as the run's change (so a command is applied once, even across a crash), and
-- the replica that was asked reads the answer back. `audit` is the request's audit entry, which
-- the driver writes with the change.
CREATE TABLE run_commands (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_uid      TEXT    NOT NULL REFERENCES runs (uid) ON DELETE CASCADE,
    command      TEXT    NOT NULL,
    audit        TEXT,
    created_at   INTEGER NOT NULL,
    answer       TEXT,
    audit_id     INTEGER,
    answered_at  INTEGER
);
CREATE INDEX run_commands_waiting ON run_commands (run_uid) WHERE answer IS NULL;

-- The simulated world, shared by replicas: every change to it is numbered (`sim_changes.last`,
-- one row that every writing transaction updates first, so numbers become visible in order), and
-- a replica reads the changes after the last one it saw before it answers for the world.
ALTER TABLE sim_catalog ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sim_clusters ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sim_operations ADD COLUMN changed INTEGER NOT NULL DEFAULT 0;
CREATE INDEX sim_clusters_by_change ON sim_clusters (changed);
CREATE INDEX sim_operations_by_change ON sim_operations (changed);
CREATE TABLE sim_changes (
    id    INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    last  INTEGER NOT NULL
);
INSERT INTO sim_changes (id, last) VALUES (1, 0);
-- Clusters deleted, so replicas that saw them forget them too.
CREATE TABLE sim_removed (
    name     TEXT NOT NULL,
    changed  INTEGER NOT NULL
);
CREATE INDEX sim_removed_by_change ON sim_removed (changed);

-- Work one replica does for all (sending webhooks): who does it, until when (the database's
-- clock), renewed while it does.
CREATE TABLE duties (
    name    TEXT PRIMARY KEY NOT NULL,
    holder  TEXT NOT NULL,
    until   INTEGER NOT NULL
);
