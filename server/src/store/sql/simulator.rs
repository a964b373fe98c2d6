use super::known_targets::{Known, Naming};
use super::records::{StoredTarget, TargetRecord};
use super::statement::{ROWS_PER_STATEMENT, Statement};
use super::{SqlStore, corrupt};
use crate::store::{
    Faults, HeldClusters, Recorded, SimApplied, SimApplyOutcome, SimChange, SimChanges, SimCluster,
    SimOperation, SimResourceFaults, SimulatorSnapshot, SimulatorStore, StoreResult,
};
use app::model::catalog::Catalog;
use app::model::cluster::ClusterState;
use app::model::names::ClusterName;
use app::model::time::Timestamp;
use sqlx::any::{Any, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe, Row, Transaction};

fn cluster_from_row(row: &AnyRow) -> StoreResult<(ClusterName, SimCluster)> {
    let name = ClusterName::parse(&row.try_get::<String, _>("name")?)
        .map_err(|e| corrupt("cluster", e))?;
    let state: ClusterState = serde_json::from_str(&row.try_get::<String, _>("state")?)
        .map_err(|e| corrupt("cluster", e))?;
    let cluster = SimCluster {
        state: std::sync::Arc::new(state),
        faults: Faults {
            fail_next: row.try_get::<i64, _>("fail_next")? != 0,
            failure_rate: row.try_get("failure_rate")?,
            transient_rate: row.try_get("transient_rate")?,
            unreachable: row.try_get::<i64, _>("unreachable")? != 0,
            lose_next: row.try_get::<i64, _>("lose_next")? != 0,
            stuck_next: row.try_get::<i64, _>("stuck_next")? != 0,
        },
    };
    Ok((name, cluster))
}

fn operation_from_row(row: &AnyRow) -> StoreResult<SimOperation> {
    Ok(SimOperation {
        operation_id: row.try_get("operation_id")?,
        cluster: ClusterName::parse(&row.try_get::<String, _>("cluster")?)
            .map_err(|e| corrupt("operation", e))?,
        kind: row.try_get("kind")?,
        target: super::records::from_text::<TargetRecord>(&row.try_get::<String, _>("target")?)
            .map_err(|e| corrupt("operation", e))?,
        started_at: Timestamp(row.try_get("started_at")?),
        ends_at: Timestamp(row.try_get("ends_at")?),
        failure: row.try_get("failure")?,
        applied: row.try_get::<i64, _>("applied")? != 0,
    })
}

/// Numbers the change a transaction makes to the simulated world. The counter is one row, so
/// writers wait for each other here and numbers become visible in the order they were drawn: a
/// reader that saw number n has seen every change up to n.
async fn next_change(tx: &mut Transaction<'_, Any>) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("UPDATE sim_changes SET last = last + 1 WHERE id = 1 RETURNING last")
            .fetch_one(&mut **tx)
            .await?,
    )
}

async fn last_change(pool: &AnyPool) -> StoreResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT last FROM sim_changes WHERE id = 1")
            .fetch_one(pool)
            .await?,
    )
}

fn catalog_from_row(row: &AnyRow) -> StoreResult<Catalog> {
    serde_json::from_str(&row.try_get::<String, _>("catalog")?).map_err(|e| corrupt("catalog", e))
}

const CLUSTER_COLUMNS: &str = "name, state, fail_next, failure_rate, transient_rate, unreachable, lose_next, stuck_next, changed";
/// Operations with their targets: an operation names its target by digest (`sim_targets`);
/// one recorded before migration 29 holds it.
const OPERATION_COLUMNS: &str = "o.operation_id, o.cluster, o.kind, COALESCE(t.body, o.target) AS target, o.started_at, o.ends_at, o.failure, o.applied, o.changed";
const OPERATIONS: &str = "sim_operations AS o LEFT JOIN sim_targets AS t ON t.digest = o.target";

impl SqlStore {
    /// Rows of `table` (its `columns`) changed in (`after`, `upto`].
    async fn changed_rows(
        &self,
        table: &str,
        columns: &str,
        after: i64,
        upto: i64,
    ) -> StoreResult<Vec<AnyRow>> {
        let sql = format!(
            "SELECT {columns} FROM {table} WHERE changed > $1 AND changed <= $2 ORDER BY changed"
        );
        Ok(sqlx::query(AssertSqlSafe(sql))
            .bind(after)
            .bind(upto)
            .fetch_all(&self.pool)
            .await?)
    }
}

#[async_trait::async_trait]
impl SimulatorStore for SqlStore {
    async fn apply_sim_resources(
        &self,
        cluster: &ClusterName,
        owner: &str,
        revision: &str,
        manifests: &str,
        now: Timestamp,
    ) -> StoreResult<SimApplyOutcome> {
        self.apply_sim(cluster, owner, revision, manifests, now)
            .await
    }

    async fn sim_resources(&self, cluster: &ClusterName) -> StoreResult<Vec<SimApplied>> {
        self.held_sim(cluster).await
    }

    async fn delete_sim_resources(&self, cluster: &ClusterName, owner: &str) -> StoreResult<bool> {
        self.delete_sim(cluster, owner).await
    }

    async fn drift_sim_resources(
        &self,
        cluster: &ClusterName,
        owner: &str,
        objects: &[String],
    ) -> StoreResult<bool> {
        self.drift_sim(cluster, owner, objects).await
    }

    async fn put_sim_resource_faults(
        &self,
        cluster: &ClusterName,
        faults: SimResourceFaults,
    ) -> StoreResult<()> {
        self.put_sim_faults(cluster, faults).await
    }

    async fn sim_resource_faults(&self, cluster: &ClusterName) -> StoreResult<SimResourceFaults> {
        self.sim_faults(cluster).await
    }

    async fn load_simulator(&self) -> StoreResult<SimulatorSnapshot> {
        // Read first: rows changed later are read again with the next changes.
        let last_change = last_change(&self.pool).await?;
        let catalog = sqlx::query("SELECT catalog FROM sim_catalog WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(catalog_from_row)
            .transpose()?;
        let sql = format!("SELECT {CLUSTER_COLUMNS} FROM sim_clusters ORDER BY name");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        let clusters = rows
            .iter()
            .map(cluster_from_row)
            .collect::<StoreResult<_>>()?;
        // In no order: the simulator keys them by id (an order by start, once asked of an
        // index, cost every step of a run pages written to that index).
        let sql = format!("SELECT {OPERATION_COLUMNS} FROM {OPERATIONS}");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        let operations = rows
            .iter()
            .map(operation_from_row)
            .collect::<StoreResult<_>>()?;
        Ok(SimulatorSnapshot {
            catalog,
            clusters,
            operations,
            last_change,
        })
    }

    async fn simulator_changes(&self, after: i64) -> StoreResult<Option<SimChanges>> {
        let upto = last_change(&self.pool).await?;
        if upto <= after {
            return Ok(None);
        }
        let mut changes = Vec::new();
        for row in self
            .changed_rows("sim_catalog", "catalog, changed", after, upto)
            .await?
        {
            changes.push((
                row.try_get("changed")?,
                SimChange::Catalog(catalog_from_row(&row)?),
            ));
        }
        for row in self
            .changed_rows("sim_clusters", CLUSTER_COLUMNS, after, upto)
            .await?
        {
            let (name, cluster) = cluster_from_row(&row)?;
            changes.push((row.try_get("changed")?, SimChange::Cluster(name, cluster)));
        }
        for row in self
            .changed_rows("sim_removed", "name, changed", after, upto)
            .await?
        {
            let name = ClusterName::parse(&row.try_get::<String, _>("name")?)
                .map_err(|e| corrupt("cluster", e))?;
            changes.push((row.try_get("changed")?, SimChange::Removed(name)));
        }
        for row in self
            .changed_rows(OPERATIONS, OPERATION_COLUMNS, after, upto)
            .await?
        {
            changes.push((
                row.try_get("changed")?,
                SimChange::Operation(operation_from_row(&row)?),
            ));
        }
        changes.sort_by_key(|(number, _)| *number);
        Ok(Some(SimChanges {
            changes,
            last_change: upto,
        }))
    }

    async fn save_catalog(&self, catalog: &Catalog) -> StoreResult<()> {
        let text = serde_json::to_string(catalog).map_err(|e| corrupt("catalog", e))?;
        let mut tx = self.begin_write().await?;
        let change = next_change(&mut tx).await?;
        sqlx::query("INSERT INTO sim_catalog (id, catalog, version, changed) VALUES (1, $1, 1, $2) ON CONFLICT (id) DO UPDATE SET catalog = excluded.catalog, version = sim_catalog.version + 1, changed = excluded.changed")
            .bind(text)
            .bind(change)
            .execute(&mut *tx)
            .await?;
        super::commit_audited(tx).await
    }

    async fn save_cluster(&self, name: &ClusterName, cluster: &SimCluster) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        write_cluster(&mut tx, name, cluster).await?;
        super::commit_audited(tx).await
    }

    async fn delete_cluster(&self, name: &ClusterName) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let change = next_change(&mut tx).await?;
        let done = sqlx::query("DELETE FROM sim_clusters WHERE name = $1")
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        let deleted = done.rows_affected() == 1;
        if deleted {
            sqlx::query("INSERT INTO sim_removed (name, changed) VALUES ($1, $2)")
                .bind(name.as_str())
                .bind(change)
                .execute(&mut *tx)
                .await?;
            super::commit_audited(tx).await?;
        }
        Ok(deleted)
    }

    async fn save_operations(
        &self,
        ops: &[SimOperation],
        held: HeldClusters,
    ) -> StoreResult<(i64, Vec<Recorded>)> {
        let known = self.sim_targets.take(SIMULATOR);
        let mut stored = Known::new();
        let saved = self
            .save_operations_tx(ops, held, (&known, &mut stored))
            .await;
        let stored = saved.is_ok().then_some(stored);
        self.sim_targets.give_back(SIMULATOR, known, stored);
        saved
    }

    async fn complete_operations(
        &self,
        ops: &[SimOperation],
        held: HeldClusters,
    ) -> StoreResult<(i64, Vec<Option<SimCluster>>)> {
        let started = std::time::Instant::now();
        let mut tx = self.begin_write().await?;
        let change = next_change(&mut tx).await?;
        let mut marked = std::collections::HashSet::new();
        for chunk in ops.chunks(ROWS_PER_STATEMENT) {
            marked.extend(mark_applied(&mut tx, chunk, change).await?);
        }
        let to_apply: Vec<&SimOperation> = ops
            .iter()
            .filter(|op| marked.contains(&op.operation_id))
            .collect();
        let held = (change == held.synced + 1).then_some(held);
        let mut applied = apply_to_clusters(&mut tx, &to_apply, change, held)
            .await?
            .into_iter();
        tx.commit().await?;
        crate::metrics::metrics().transaction("simulator", started.elapsed());
        let clusters = ops
            .iter()
            .map(|op| match marked.contains(&op.operation_id) {
                true => applied.next().flatten(),
                false => None,
            })
            .collect();
        Ok((change, clusters))
    }
}

/// The key of the simulator's targets in its `KnownTargets` (of its own: no run's uid).
const SIMULATOR: &str = "simulator";

impl SqlStore {
    /// `save_operations`' transaction, told which targets are stored already (see
    /// `known_targets`) and adding to `targets.1` those it stores.
    async fn save_operations_tx(
        &self,
        ops: &[SimOperation],
        held: HeldClusters,
        targets: (&Known, &mut Known),
    ) -> StoreResult<(i64, Vec<Recorded>)> {
        let started = std::time::Instant::now();
        let mut tx = self.begin_write().await?;
        let change = next_change(&mut tx).await?;
        let succeeded: Vec<&SimOperation> = ops.iter().filter(|op| op.applied).collect();
        // The clusters they change are worked out while the operations are recorded, when the
        // caller's copies are the stored world (the usual case: no read needed).
        let (recorded, ahead) =
            tokio::join!(record_operations(&mut tx, ops, change, targets), async {
                (change == held.synced + 1)
                    .then(|| applied_to(&succeeded, clusters_held(&succeeded, held), change))
            });
        let recorded = recorded?;
        let ended: Vec<&SimOperation> = succeeded
            .into_iter()
            .filter(|op| recorded.contains(&op.operation_id))
            .collect();
        let mut applied = match ahead.transpose()? {
            // Every success was recorded here: the clusters worked out are the ones to write.
            Some((applied, writes)) if applied.len() == ended.len() => {
                for write in writes {
                    write.query_for(&tx).execute(&mut *tx).await?;
                }
                applied
            }
            // Another server recorded some first (or changed the world): as stored.
            Some(_) | None => apply_to_clusters(&mut tx, &ended, change, None).await?,
        }
        .into_iter();
        tx.commit().await?;
        crate::metrics::metrics().transaction("simulator", started.elapsed());
        let answers = ops
            .iter()
            .map(|op| match recorded.contains(&op.operation_id) {
                false => Recorded::Clashed,
                true if op.applied => Recorded::Applied(applied.next().flatten().map(Box::new)),
                true => Recorded::Started,
            })
            .collect();
        Ok((change, answers))
    }
}

/// Records operations unless their ids are recorded already: the ids it recorded.
async fn record_operations(
    tx: &mut Transaction<'_, Any>,
    ops: &[SimOperation],
    change: i64,
    (known, stored): (&Known, &mut Known),
) -> StoreResult<std::collections::HashSet<String>> {
    let mut recorded = std::collections::HashSet::new();
    for chunk in ops.chunks(ROWS_PER_STATEMENT) {
        let (digests, new_targets) = digests(chunk, known, stored)?;
        if !new_targets.is_empty() {
            targets_insert(new_targets)
                .query_for(tx)
                .execute(&mut **tx)
                .await?;
        }
        recorded.extend(insert_operations(tx, chunk, &digests, change).await?);
    }
    Ok(recorded)
}

/// Applies successful operations' targets to their clusters as stored and writes them back:
/// per operation, in order, the cluster as it is now (`None`: deleted meanwhile; the operation
/// is done, nothing is left to change). The clusters are the caller's when it holds the stored
/// world (`held`: `change` comes right after the one it holds), else read.
async fn apply_to_clusters(
    tx: &mut Transaction<'_, Any>,
    ops: &[&SimOperation],
    change: i64,
    held: Option<HeldClusters>,
) -> StoreResult<Vec<Option<SimCluster>>> {
    if ops.is_empty() {
        return Ok(Vec::new());
    }
    let clusters = match held {
        Some(held) => clusters_held(ops, held),
        None => {
            let names: Vec<&str> = ops.iter().map(|op| op.cluster.as_str()).collect();
            read_clusters(tx, &names).await?
        }
    };
    let (applied, writes) = applied_to(ops, clusters, change)?;
    for write in writes {
        write.query_for(tx).execute(&mut **tx).await?;
    }
    Ok(applied)
}

/// Applies `ops`' targets to `clusters`: per operation, the cluster after it, and the
/// statements that write the clusters changed.
fn applied_to(
    ops: &[&SimOperation],
    mut clusters: std::collections::BTreeMap<ClusterName, SimCluster>,
    change: i64,
) -> StoreResult<(Vec<Option<SimCluster>>, Vec<Statement>)> {
    let applied = ops
        .iter()
        .map(|op| {
            clusters.get_mut(&op.cluster).map(|cluster| {
                op.target
                    .apply_to(std::sync::Arc::make_mut(&mut cluster.state));
                cluster.clone()
            })
        })
        .collect();
    let changed: Vec<(&ClusterName, &SimCluster)> = clusters.iter().collect();
    let writes = changed
        .chunks(ROWS_PER_STATEMENT)
        .map(|chunk| clusters_upsert(chunk, change))
        .collect::<StoreResult<_>>()?;
    Ok((applied, writes))
}

/// The held clusters `ops` change (those the caller's copy has: the others do not exist).
fn clusters_held(
    ops: &[&SimOperation],
    mut held: HeldClusters,
) -> std::collections::BTreeMap<ClusterName, SimCluster> {
    let changed: std::collections::BTreeSet<&ClusterName> =
        ops.iter().map(|op| &op.cluster).collect();
    held.clusters.retain(|name, _| changed.contains(name));
    held.clusters
}

/// Records operations unless their ids are recorded already, each naming its target by its
/// digest in `digests`: the ids it recorded.
async fn insert_operations(
    tx: &mut Transaction<'_, Any>,
    ops: &[SimOperation],
    digests: &[String],
    change: i64,
) -> StoreResult<Vec<String>> {
    let rows = ops.iter().zip(digests);
    let mut insert = Statement::new(
        "INSERT INTO sim_operations (operation_id, cluster, kind, target, started_at, ends_at, failure, applied, changed) VALUES ",
    );
    insert.values(rows, |row, (op, target)| {
        row.bind(op.operation_id.clone())
            .bind(op.cluster.as_str().to_owned())
            .bind(op.kind.clone())
            .bind(target.clone())
            .bind(op.started_at.millis())
            .bind(op.ends_at.millis())
            .bind(op.failure.clone())
            .bind(i64::from(op.applied))
            .bind(change);
    });
    insert.push(" ON CONFLICT (operation_id) DO NOTHING");
    let done = insert.query_for(tx).execute(&mut **tx).await?;
    written_by(tx, ops, done.rows_affected(), change).await
}

/// The digest of each of `ops`' targets, which their rows name, and the targets to store: those
/// neither `known` stored nor in `stored` (added to it).
fn digests(
    ops: &[SimOperation],
    known: &Known,
    stored: &mut Known,
) -> StoreResult<(Vec<String>, Vec<StoredTarget>)> {
    let mut naming = Naming::new(known, stored);
    let digests = ops
        .iter()
        .map(|op| naming.digest(&op.target))
        .collect::<Result<_, _>>()
        .map_err(|e| corrupt("operation", e))?;
    Ok((digests, naming.new))
}

/// Stores targets in `sim_targets`, those stored already left as they are.
fn targets_insert(targets: Vec<StoredTarget>) -> Statement {
    let mut insert = Statement::new("INSERT INTO sim_targets (digest, body) VALUES ");
    insert.values(targets, |row, target| {
        row.bind(target.digest).bind(target.body);
    });
    insert.push(" ON CONFLICT (digest) DO NOTHING");
    insert
}

/// Marks operations applied unless they are already: the ids it marked.
async fn mark_applied(
    tx: &mut Transaction<'_, Any>,
    ops: &[SimOperation],
    change: i64,
) -> StoreResult<Vec<String>> {
    let mut update = Statement::new("UPDATE sim_operations SET applied = 1, changed = ");
    update.bind(change);
    update.push(" WHERE applied = 0 AND ");
    ids_in(&mut update, ops);
    let done = update.query_for(tx).execute(&mut **tx).await?;
    written_by(tx, ops, done.rows_affected(), change).await
}

/// `operation_id IN (…)`, the ids of `ops`.
fn ids_in(statement: &mut Statement, ops: &[SimOperation]) {
    statement.push("operation_id IN (");
    statement.list(ops.iter().map(|op| op.operation_id.clone()));
    statement.push(")");
}

/// The ids of `ops` that the statement numbered `change` wrote, having written `written` rows:
/// all of them when it wrote as many (the usual case, told without reading a row back),
/// otherwise those whose row now carries `change`.
async fn written_by(
    tx: &mut Transaction<'_, Any>,
    ops: &[SimOperation],
    written: u64,
    change: i64,
) -> StoreResult<Vec<String>> {
    if written as usize == ops.len() {
        return Ok(ops.iter().map(|op| op.operation_id.clone()).collect());
    }
    let mut select = Statement::new("SELECT operation_id FROM sim_operations WHERE changed = ");
    select.bind(change);
    select.push(" AND ");
    ids_in(&mut select, ops);
    let rows = select.query_for(tx).fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|row| Ok(row.try_get("operation_id")?))
        .collect()
}

/// The stored clusters of these names (those that exist).
async fn read_clusters(
    tx: &mut Transaction<'_, Any>,
    names: &[&str],
) -> StoreResult<std::collections::BTreeMap<ClusterName, SimCluster>> {
    let mut clusters = std::collections::BTreeMap::new();
    for chunk in names.chunks(ROWS_PER_STATEMENT) {
        let mut select = Statement::new(&format!(
            "SELECT {CLUSTER_COLUMNS} FROM sim_clusters WHERE name IN ("
        ));
        select.list(chunk.iter().map(|name| (*name).to_owned()));
        select.push(")");
        for row in select.query_for(tx).fetch_all(&mut **tx).await? {
            let (name, cluster) = cluster_from_row(&row)?;
            clusters.insert(name, cluster);
        }
    }
    Ok(clusters)
}

/// Creates or replaces a cluster, as a change of its own.
async fn write_cluster(
    tx: &mut Transaction<'_, Any>,
    name: &ClusterName,
    cluster: &SimCluster,
) -> StoreResult<()> {
    let change = next_change(tx).await?;
    write_cluster_numbered(tx, name, cluster, change).await
}

async fn write_cluster_numbered(
    tx: &mut Transaction<'_, Any>,
    name: &ClusterName,
    cluster: &SimCluster,
    change: i64,
) -> StoreResult<()> {
    let insert = clusters_upsert(&[(name, cluster)], change)?;
    insert.query_for(tx).execute(&mut **tx).await?;
    Ok(())
}

/// Creates or replaces clusters, numbered `change`, in one statement.
fn clusters_upsert(
    clusters: &[(&ClusterName, &SimCluster)],
    change: i64,
) -> StoreResult<Statement> {
    let mut rows = Vec::with_capacity(clusters.len());
    for (name, cluster) in clusters {
        let text = serde_json::to_string(&cluster.state).map_err(|e| corrupt("cluster", e))?;
        rows.push((name.as_str().to_owned(), text, cluster.faults));
    }
    let mut insert = Statement::new(
        "INSERT INTO sim_clusters (name, state, version, fail_next, failure_rate, transient_rate, unreachable, lose_next, stuck_next, changed) VALUES ",
    );
    insert.values(rows, |row, (name, text, faults)| {
        row.bind(name)
            .bind(text)
            .bind(1_i64)
            .bind(i64::from(faults.fail_next))
            .bind(faults.failure_rate)
            .bind(faults.transient_rate)
            .bind(i64::from(faults.unreachable))
            .bind(i64::from(faults.lose_next))
            .bind(i64::from(faults.stuck_next))
            .bind(change);
    });
    insert.push(
        " ON CONFLICT (name) DO UPDATE SET state = excluded.state, version = sim_clusters.version + 1, \
         fail_next = excluded.fail_next, failure_rate = excluded.failure_rate, \
         transient_rate = excluded.transient_rate, unreachable = excluded.unreachable, \
         lose_next = excluded.lose_next, stuck_next = excluded.stuck_next, changed = excluded.changed",
    );
    Ok(insert)
}
