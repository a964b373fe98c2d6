-- Webhooks: where run, stage, group, member and gate transitions are sent, as CloudEvents.
CREATE TABLE webhooks (
    name         TEXT    PRIMARY KEY NOT NULL,
    spec         TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    -- Events up to this id happened before the webhook existed: they are never sent to it.
    since_event  INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);

-- The deliveries' outbox and history: one row per webhook and event, queued in the same
-- transaction that moves the dispatcher's cursor past the event (so a crash loses none and
-- queues none twice), then sent, retried with backoff, and kept as history.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook          TEXT    NOT NULL REFERENCES webhooks (name) ON DELETE CASCADE,
    event_id         INTEGER NOT NULL,
    event_type       TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('Pending', 'Delivered', 'Failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    -- Wall-clock milliseconds: retries follow real time, not fleet time.
    next_attempt_at  INTEGER NOT NULL,
    last_attempt_at  INTEGER,
    last_status      INTEGER,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    UNIQUE (webhook, event_id)
);

CREATE INDEX webhook_deliveries_due ON webhook_deliveries (webhook, state, next_attempt_at);
