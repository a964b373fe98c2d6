-- One upgrade at a time per cluster, whichever run asks. A decision that starts an upgrade
-- takes the cluster's lease in the transaction that commits it; a second run's decision to
-- upgrade the same cluster then fails to commit, and that run's member waits instead. The lease
-- goes with the member's upgrade: released in the transaction that records its end.
CREATE TABLE cluster_leases (
    cluster       TEXT    PRIMARY KEY NOT NULL,
    fleet         TEXT    NOT NULL,
    run           TEXT    NOT NULL,
    run_uid       TEXT    NOT NULL,
    member        TEXT    NOT NULL,
    operation_id  TEXT    NOT NULL UNIQUE,
    since         INTEGER NOT NULL,
    FOREIGN KEY (fleet, run) REFERENCES runs (fleet, name) ON DELETE CASCADE
);

CREATE INDEX cluster_leases_by_member ON cluster_leases (run_uid, member);
CREATE INDEX cluster_leases_by_fleet ON cluster_leases (fleet);

-- Upgrades in flight when Drydock was upgraded hold their clusters from now on (of two runs
-- already upgrading one cluster at once, the first keeps the lease).
INSERT OR IGNORE INTO cluster_leases (cluster, fleet, run, run_uid, member, operation_id, since)
SELECT json_extract(m.body, '$.clusterResourceId'), m.fleet, m.run, r.uid,
       json_extract(m.body, '$.name'),
       r.uid || '/' || json_extract(m.body, '$.name') || '/' || json_extract(m.body, '$.state.attempt'),
       r.created_at
FROM run_members AS m
JOIN runs AS r ON r.fleet = m.fleet AND r.name = m.run
WHERE json_extract(m.body, '$.state.state') = 'upgrading'
ORDER BY r.created_at;
