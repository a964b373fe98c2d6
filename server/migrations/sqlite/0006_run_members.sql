-- One row per member of a run, written only when a decision changes that member, so a decision
-- over a large run writes what changed instead of the whole run. `runs.body` keeps the rest
-- (stages, groups and their states) with the groups' member lists empty.
CREATE TABLE run_members (
    fleet  TEXT    NOT NULL,
    run    TEXT    NOT NULL,
    stage  INTEGER NOT NULL,
    grp    INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    body   TEXT    NOT NULL,
    PRIMARY KEY (fleet, run, stage, grp, idx),
    FOREIGN KEY (fleet, run) REFERENCES runs (fleet, name) ON DELETE CASCADE
) WITHOUT ROWID;

-- Runs stored whole before this migration: their members move to rows (their bodies still list
-- them until the next save; loading always takes the members from here).
INSERT INTO run_members (fleet, run, stage, grp, idx, body)
SELECT r.fleet, r.name, s.key, g.key, m.key, m.value
FROM runs AS r,
     json_each(r.body, '$.stages') AS s,
     json_each(s.value, '$.groups') AS g,
     json_each(g.value, '$.members') AS m;
