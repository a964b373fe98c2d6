-- The last snapshot index each resource name reached, kept when the resource is deleted: a
-- resource created again under the name goes on from there, so a revision (`web@3`) never names
-- two different sets of objects. Clusters and placement records compare revisions, not objects:
-- a reused one would let a cluster keep old objects as if it held the new ones.
CREATE TABLE resource_indices (
    fleet       TEXT    NOT NULL REFERENCES fleets (name) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    last_index  INTEGER  NOT NULL,
    PRIMARY KEY (fleet, name)
);

INSERT INTO resource_indices (fleet, name, last_index) SELECT fleet, name, latest FROM resources;
