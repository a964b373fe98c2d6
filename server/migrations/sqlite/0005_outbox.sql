-- Effects a decision committed, carried out after the commit. A row stays until the provider has
-- accepted the operation, so a crash in between is finished at the next start. The operation id
-- (run/member/attempt) makes carrying one out twice harmless.
CREATE TABLE outbox (
    operation_id  TEXT    PRIMARY KEY NOT NULL,
    fleet         TEXT    NOT NULL,
    run           TEXT    NOT NULL,
    effect        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    done          INTEGER NOT NULL DEFAULT 0,
    FOREIGN KEY (fleet, run) REFERENCES runs (fleet, name) ON DELETE CASCADE
);

CREATE INDEX outbox_pending ON outbox (fleet, run, done);
CREATE INDEX runs_by_state ON runs (state);
