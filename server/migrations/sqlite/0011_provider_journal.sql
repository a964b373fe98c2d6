-- What a provider must remember about the operations it started, beyond what the cluster says:
-- for AKS, the URLs of Azure's long-running operations, so a restarted server follows them
-- instead of sending the same PUT again. One row per provider and operation id, opaque JSON.
CREATE TABLE provider_journal (
    provider TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (provider, operation_id)
);
