-- Update runs (the engine's run as JSON, with its public state for listing) and their timeline.
CREATE TABLE runs (
    fleet       TEXT    NOT NULL REFERENCES fleets (name) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('NotStarted', 'Running', 'Stopping', 'Stopped',
                                                  'Skipped', 'Failed', 'Pending', 'Completed')),
    version     INTEGER NOT NULL,
    -- When the engine asked to be woken (a window opens, a wait ends); NULL: only on input.
    wake_at     INTEGER,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (fleet, name)
);

CREATE TABLE run_events (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    fleet  TEXT    NOT NULL,
    run    TEXT    NOT NULL,
    at     INTEGER NOT NULL,
    event  TEXT    NOT NULL,
    FOREIGN KEY (fleet, run) REFERENCES runs (fleet, name) ON DELETE CASCADE
);

CREATE INDEX run_events_by_run ON run_events (fleet, run, id);
