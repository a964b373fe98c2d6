-- Members' taints (placements that do not tolerate one do not pick the member), and placements:
-- which resources go to which members, by a KubeFleet placement policy, rolled out how.
ALTER TABLE members ADD COLUMN taints TEXT NOT NULL DEFAULT '[]';

CREATE TABLE placements (
    fleet       TEXT    NOT NULL REFERENCES fleets (name) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    placement   TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (fleet, name)
);
