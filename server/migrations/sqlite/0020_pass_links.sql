-- Chains of passes (`hops: PerStrategyPass`): a completed pass's row here says its next pass
-- was created (and started), so a person deleting that next pass ends the chain instead of
-- the server creating it again.
CREATE TABLE pass_links (
    fleet  TEXT NOT NULL,
    run    TEXT NOT NULL,
    next   TEXT NOT NULL,
    PRIMARY KEY (fleet, run),
    FOREIGN KEY (fleet, run) REFERENCES runs (fleet, name) ON DELETE CASCADE
);
