-- Resource bundles (issue 17): Kubernetes objects a fleet places on its members. A resource's
-- every change is an immutable, numbered snapshot; `latest` is the newest snapshot's index and
-- the resource's etag, so a PUT that changes nothing makes no snapshot and keeps the etag.
CREATE TABLE resources (
    fleet       TEXT    NOT NULL REFERENCES fleets (name) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    latest      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (fleet, name)
);

-- `manifests` is the checked objects as a JSON array (keys sorted), `hash` its SHA-256: what a
-- provider is asked to apply, and how two snapshots are told apart without reading them.
CREATE TABLE resource_snapshots (
    fleet       TEXT    NOT NULL,
    resource    TEXT    NOT NULL,
    idx         INTEGER NOT NULL,
    manifests   TEXT    NOT NULL,
    hash        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (fleet, resource, idx),
    FOREIGN KEY (fleet, resource) REFERENCES resources (fleet, name) ON DELETE CASCADE
);
