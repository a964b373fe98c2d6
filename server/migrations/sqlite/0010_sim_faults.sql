-- More faults the simulator can inject, so Drydock is tested against a provider that misbehaves
-- the way real ones do: calls that fail for now (a share of them, or all while unreachable), and
-- an operation the provider loses track of once it has started, one that never ends.
ALTER TABLE sim_clusters ADD COLUMN transient_rate REAL NOT NULL DEFAULT 0;
ALTER TABLE sim_clusters ADD COLUMN unreachable INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sim_clusters ADD COLUMN lose_next INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sim_clusters ADD COLUMN stuck_next INTEGER NOT NULL DEFAULT 0;

-- Effects are no longer replayed from an outbox: the runtime follows every member a run shows
-- as upgrading until its operation ends, starting it if the provider never saw it.
DROP TABLE outbox;
