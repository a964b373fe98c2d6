-- Stored update strategies: reusable stage layouts, copied into runs at creation.
CREATE TABLE strategies (
    fleet       TEXT    NOT NULL REFERENCES fleets (name) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    strategy    TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (fleet, name)
);
