-- The upgrade targets of a run's members, each stored once per run under a digest of its
-- content (stored format 2): an upgrading member's row names its target's digest instead of
-- holding a copy (350 of an upgrading row's 537 bytes in a bench run). A fleet's clusters share
-- few targets (the bench's 10,000 have 228), and every start grew a row enough to split its
-- page. Rows written before this migration hold their targets inline and are still read; a
-- member's next change writes it in the new form.
CREATE TABLE run_targets (
    fleet  TEXT NOT NULL,
    run    TEXT NOT NULL,
    digest TEXT NOT NULL,
    body   TEXT NOT NULL,
    PRIMARY KEY (fleet, run, digest),
    FOREIGN KEY (fleet, run) REFERENCES runs (fleet, name) ON DELETE CASCADE
) WITHOUT ROWID;
