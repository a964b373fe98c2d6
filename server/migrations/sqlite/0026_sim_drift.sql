-- Objects changed by hand on a simulated cluster since they were applied (`kind ns/name`, a
-- JSON array): what the simulator's API server reports as drift until a new revision is applied.
ALTER TABLE sim_resources ADD COLUMN drifted TEXT NOT NULL DEFAULT '[]';
