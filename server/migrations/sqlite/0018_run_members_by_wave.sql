-- A run's members keyed stage, index in the group, group: the members a step of a stage
-- changes (the k-th of each group finishing, the (k+1)-th starting: groups move side by side)
-- sit next to each other, so a decision over a wide run writes a few pages instead of one per
-- group. (Keyed by group first, a step of 100 groups dirtied about 100 pages.)
CREATE TABLE run_members_by_wave (
    fleet  TEXT    NOT NULL,
    run    TEXT    NOT NULL,
    stage  INTEGER NOT NULL,
    grp    INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    body   TEXT    NOT NULL,
    PRIMARY KEY (fleet, run, stage, idx, grp),
    FOREIGN KEY (fleet, run) REFERENCES runs (fleet, name) ON DELETE CASCADE
) WITHOUT ROWID;

INSERT INTO run_members_by_wave (fleet, run, stage, grp, idx, body)
SELECT fleet, run, stage, grp, idx, body FROM run_members;

DROP TABLE run_members;

ALTER TABLE run_members_by_wave RENAME TO run_members;
