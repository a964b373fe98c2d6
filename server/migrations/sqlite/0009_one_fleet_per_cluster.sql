-- A cluster is a member of one fleet only (as in Azure Fleet Manager): otherwise two fleets'
-- runs could upgrade it at once. Triggers rather than a unique index, so a database that
-- already has such a cluster in two fleets still migrates (those members stay, and can be
-- edited; no new ones can be made). The message matches a unique index's, which the store maps
-- to `ClusterAlreadyJoined`.
CREATE TRIGGER members_one_fleet_per_cluster_on_insert
BEFORE INSERT ON members
WHEN EXISTS (SELECT 1 FROM members WHERE cluster_resource_id = NEW.cluster_resource_id)
BEGIN
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: members.cluster_resource_id');
END;

CREATE TRIGGER members_one_fleet_per_cluster_on_update
BEFORE UPDATE OF cluster_resource_id ON members
WHEN NEW.cluster_resource_id <> OLD.cluster_resource_id
 AND EXISTS (SELECT 1 FROM members WHERE cluster_resource_id = NEW.cluster_resource_id)
BEGIN
    SELECT RAISE(ABORT, 'UNIQUE constraint failed: members.cluster_resource_id');
END;
