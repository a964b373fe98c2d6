-- The simulator's operations name their upgrade targets by digest, each distinct target stored
-- once (as a run's upgrading members do since migration 28): a target was most of an
-- operation's row, and a wide run's step recorded a hundred operations. Rows recorded before
-- this migration hold their targets inline and are still read (a digest never starts with `{`).
CREATE TABLE sim_targets (
    digest TEXT PRIMARY KEY NOT NULL,
    body   TEXT NOT NULL
);
