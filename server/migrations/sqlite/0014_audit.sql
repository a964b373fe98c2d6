-- The audit trail: every write asked for, written before it is carried out (Pending) and
-- completed after (Succeeded, Refused, Failed); rows still Pending at start were interrupted.
-- Append-only: nothing in Drydock updates an entry after completing it, or deletes one.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    credential  TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    fleet       TEXT,
    run         TEXT,
    address     TEXT    NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('Pending', 'Succeeded', 'Refused', 'Failed', 'Interrupted')),
    status      INTEGER,
    code        TEXT
);

CREATE INDEX audit_by_actor ON audit_log (actor, id);
CREATE INDEX audit_by_fleet ON audit_log (fleet, run, id);
