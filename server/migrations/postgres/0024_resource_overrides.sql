-- Resource overrides: per-member changes to a placement's objects (KubeFleet's ResourceOverride),
-- stored as given with their version for the etag.
CREATE TABLE resource_overrides (
    fleet       TEXT    NOT NULL REFERENCES fleets (name) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    spec        TEXT    NOT NULL,
    version     BIGINT  NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (fleet, name)
);
