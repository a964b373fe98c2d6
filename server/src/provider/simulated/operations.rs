//! Upgrade operations: how long they take (the engine's duration model, in fleet time), whether
//! they fail (`failNext`, or a seeded draw against `failureRate`), and what they change. A
//! running operation says when to look again (when it will have ended): the simulator knows.

use super::rng::Rng;
use super::{SimulatedProvider, World};
use crate::provider::{Operation, OperationRef, OperationStatus, ProviderError, UpgradeRequest};
use crate::store::{HeldClusters, Recorded, SimCluster, SimOperation};
use app::model::cluster::{ClusterState, NodePool};
use app::model::member::ClusterResourceId;
use app::model::target::UpgradeProgress;
use app::model::time::Timestamp;

const FAILURES: [&str; 3] = [
    "node pool {pool} did not drain within the timeout (simulated)",
    "the control plane did not become healthy after the upgrade (simulated)",
    "surge nodes could not be created: quota exceeded (simulated)",
];

/// When a stuck operation would end: never, as far as anyone waiting can tell (year 9999).
const STUCK_UNTIL: i64 = 253_402_300_799_000;

/// What starting one upgrade comes to before it is recorded.
enum Prepared {
    Answered(Operation),
    /// A new operation to record, and the answer once it is.
    New(SimOperation, Operation),
}

fn unavailable(error: impl std::fmt::Display) -> ProviderError {
    ProviderError::transient(format!("the simulator could not save: {error}"))
}

impl SimulatedProvider {
    /// A number in [0, 1) that depends only on the seed and the operation id.
    pub(super) fn draw(&self, operation_id: &str) -> f64 {
        let hash = operation_id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let mut rng = Rng::new(self.seed ^ hash);
        (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The failure this operation will end with, if any; consumes `fail_next`.
    fn failure_for(&self, cluster: &mut SimCluster, request: &UpgradeRequest) -> Option<String> {
        let draw = self.draw(&request.operation_id);
        let faults = &mut cluster.faults;
        let fails = std::mem::take(&mut faults.fail_next) || draw < faults.failure_rate;
        let pool = cluster
            .state
            .node_pools
            .first()
            .map_or("system", |p| p.name.as_str());
        fails.then(|| {
            FAILURES[(draw * FAILURES.len() as f64) as usize % FAILURES.len()]
                .replace("{pool}", pool)
        })
    }

    /// Starts upgrades (or answers for those started under the same ids), recording the new
    /// ones in one transaction. An answer of success always means the cluster runs the target:
    /// finished operations are applied first.
    pub(super) async fn start(
        &self,
        requests: &[UpgradeRequest],
    ) -> Vec<Result<Operation, ProviderError>> {
        let mut answers = self.begin(requests).await;
        let succeeded: Vec<&str> = requests
            .iter()
            .zip(&answers)
            .filter(
                |(_, answer)| matches!(answer, Ok(op) if op.status == OperationStatus::Succeeded),
            )
            .map(|(request, _)| request.operation_id.as_str())
            .collect();
        if let Err((error, failed)) = self.apply_succeeded(&succeeded).await {
            for (request, answer) in requests.iter().zip(&mut answers) {
                if failed.contains(&request.operation_id) {
                    *answer = Err(error.clone());
                }
            }
        }
        answers
    }

    async fn begin(&self, requests: &[UpgradeRequest]) -> Vec<Result<Operation, ProviderError>> {
        let _guard = self.writes.lock().await;
        let mut answers = Vec::with_capacity(requests.len());
        let mut new = Vec::new();
        for (i, request) in requests.iter().enumerate() {
            match self.prepare(request).await {
                Ok(Prepared::Answered(operation)) => answers.push(Ok(operation)),
                Ok(Prepared::New(operation, answer)) => {
                    new.push((i, operation));
                    answers.push(Ok(answer));
                }
                Err(error) => answers.push(Err(error)),
            }
        }
        if new.is_empty() {
            return answers;
        }
        let (places, operations): (Vec<usize>, Vec<SimOperation>) = new.into_iter().unzip();
        let held = self.held(operations.iter().filter(|op| op.applied));
        let (change, recorded) = match self.store.save_operations(&operations, held).await {
            Ok(saved) => saved,
            Err(error) => {
                for i in places {
                    answers[i] = Err(unavailable(&error));
                }
                return answers;
            }
        };
        let mut clashed = Vec::new();
        self.write(|world| {
            let new = places.into_iter().zip(operations);
            for ((i, operation), recorded) in new.zip(recorded) {
                match recorded {
                    Recorded::Clashed => {
                        clashed.push(i);
                        continue;
                    }
                    Recorded::Applied(Some(cluster)) => {
                        world.clusters.insert(operation.cluster.clone(), *cluster);
                    }
                    Recorded::Started | Recorded::Applied(None) => {}
                }
                world
                    .operations
                    .insert(operation.operation_id.clone(), operation);
            }
            world.wrote(change);
        });
        if !clashed.is_empty() {
            // Another server started them just now: answer for those.
            let synced = self.sync().await.map_err(unavailable);
            for i in clashed {
                answers[i] = synced.clone().and_then(|()| {
                    self.operation_in(&self.read(), &requests[i].operation_id)
                        .ok_or_else(|| {
                            ProviderError::transient("the operation was started elsewhere")
                        })
                });
            }
        }
        answers
    }

    /// What starting `request` comes to, short of recording it: an answer for an operation
    /// already known (or one lost on purpose), or a new operation to record.
    async fn prepare(&self, request: &UpgradeRequest) -> Result<Prepared, ProviderError> {
        // An id seen before is answered for as it was started, whatever this request asks:
        // like a real provider, the simulator does not second-guess its caller. (One another
        // server started that this copy has not seen yet is found when recording it clashes.)
        if let Some(operation) = self.operation_in(&self.read(), &request.operation_id) {
            return Ok(Prepared::Answered(operation));
        }
        let name = request
            .cluster
            .as_simulated()
            .ok_or_else(|| ProviderError::ForeignId {
                id: request.cluster.clone(),
                hint: super::FOREIGN_HINT.into(),
            })?;
        let mut cluster = self
            .cluster(&name)
            .ok_or_else(|| ProviderError::ClusterNotFound(request.cluster.clone()))?;
        self.answers(&cluster.faults)?;
        let faults_before = cluster.faults;
        let failure = self.failure_for(&mut cluster, request);
        let lost = std::mem::take(&mut cluster.faults.lose_next);
        let stuck = std::mem::take(&mut cluster.faults.stuck_next);
        let now = self.clock.now();
        let duration = self.durations.upgrade_ms(&request.target, &cluster.state);
        let ends_at = match (stuck, &failure) {
            (true, _) => Timestamp(STUCK_UNTIL),
            // A failing operation gives up halfway.
            (false, Some(_)) => now.plus_millis(duration / 2),
            (false, None) => now.plus_millis(duration),
        };
        let operation = SimOperation {
            operation_id: request.operation_id.clone(),
            cluster: name.clone(),
            kind: request.target.kind(),
            target: request.target.clone(),
            started_at: now,
            ends_at,
            // An upgrade that takes no time has succeeded as it starts: it is recorded applied,
            // in the same transaction, instead of recorded and then applied in a second one.
            applied: failure.is_none() && ends_at <= now,
            failure,
        };
        let answer = self.account(&operation, now, Some(&cluster.state));
        if faults_before != cluster.faults {
            // The faults it used up are gone whatever becomes of the operation.
            self.store
                .save_cluster(&name, &cluster)
                .await
                .map_err(unavailable)?;
            self.write(|world| {
                world.clusters.insert(name, cluster);
            });
        }
        if lost {
            // Answered, then forgotten: nothing is recorded and nothing will change.
            return Ok(Prepared::Answered(Operation {
                status: OperationStatus::running(),
                ..answer
            }));
        }
        Ok(Prepared::New(operation, answer))
    }

    /// An operation's status at `now`, without side effects; `cluster` is what it upgrades (its
    /// node counts make the progress).
    fn evaluate(
        &self,
        op: &SimOperation,
        now: Timestamp,
        cluster: Option<&ClusterState>,
    ) -> OperationStatus {
        match &op.failure {
            _ if now < op.ends_at => OperationStatus::Running {
                progress: cluster.map(|c| self.progress(op, now, c)),
                message: None,
                look_again_at: Some(op.ends_at),
            },
            Some(message) => OperationStatus::Failed {
                message: message.clone(),
            },
            None => OperationStatus::Succeeded,
        }
    }

    /// What the operation is and where it is at `now`.
    fn account(
        &self,
        op: &SimOperation,
        now: Timestamp,
        cluster: Option<&ClusterState>,
    ) -> Operation {
        Operation {
            cluster: Some(ClusterResourceId::simulated(&op.cluster)),
            target: Some(op.target.clone()),
            status: self.evaluate(op, now, cluster),
        }
    }

    /// How far the operation has come at `now`, by the duration model's steps: the control
    /// plane, then each pool's nodes in turn.
    fn progress(
        &self,
        op: &SimOperation,
        now: Timestamp,
        cluster: &ClusterState,
    ) -> UpgradeProgress {
        let mut elapsed = now.millis() - op.started_at.millis();
        let pools: Vec<&NodePool> = op
            .target
            .node_pools
            .iter()
            .filter_map(|p| cluster.node_pools.iter().find(|c| c.name == p.name))
            .collect();
        let nodes_total: u32 = pools.iter().map(|p| p.count).sum();
        let mut progress = UpgradeProgress {
            nodes_done: 0,
            nodes_total,
            step: "control plane".into(),
        };
        if op.target.control_plane.is_some() {
            if elapsed < self.durations.control_plane_ms {
                return progress;
            }
            elapsed -= self.durations.control_plane_ms;
        }
        for pool in pools {
            let length = self.durations.batches(pool.count) * self.durations.node_batch_ms
                + i64::from(pool.count) * self.durations.per_node_ms;
            progress.step = format!("node pool {}", pool.name);
            if elapsed < length {
                let share = elapsed as f64 / length.max(1) as f64;
                progress.nodes_done += (f64::from(pool.count) * share) as u32;
                return progress;
            }
            elapsed -= length;
            progress.nodes_done += pool.count;
        }
        progress
    }

    fn operation_in(&self, world: &World, operation_id: &str) -> Option<Operation> {
        world.operations.get(operation_id).map(|op| {
            let cluster = world.clusters.get(&op.cluster).map(|c| &*c.state);
            self.account(op, self.clock.now(), cluster)
        })
    }

    /// Operations and their status; finished, successful ones are applied to their clusters
    /// first (in one transaction).
    pub(super) async fn status(
        &self,
        asked: &[OperationRef],
    ) -> Vec<Result<Option<Operation>, ProviderError>> {
        let unknown = {
            let world = self.read();
            asked
                .iter()
                .any(|op| !world.operations.contains_key(&op.operation_id))
        };
        // Perhaps another server started them.
        let synced = match unknown {
            true => self.sync().await.map_err(unavailable),
            false => Ok(()),
        };
        let now = self.clock.now();
        let answered: Vec<Result<(), ProviderError>> = asked
            .iter()
            .map(|op| synced.clone().and_then(|()| self.answers_for(&op.cluster)))
            .collect();
        let answers: Vec<Result<Option<Operation>, ProviderError>> = {
            let world = self.read();
            asked
                .iter()
                .zip(answered)
                .map(|(asked, answered)| {
                    answered?;
                    Ok(world.operations.get(&asked.operation_id).map(|op| {
                        let cluster = world.clusters.get(&op.cluster).map(|c| &*c.state);
                        self.account(op, now, cluster)
                    }))
                })
                .collect()
        };
        let succeeded: Vec<&str> = asked
            .iter()
            .zip(&answers)
            .filter(|(_, answer)| {
                matches!(answer, Ok(Some(op)) if op.status == OperationStatus::Succeeded)
            })
            .map(|(asked, _)| asked.operation_id.as_str())
            .collect();
        let mut answers = answers;
        if let Err((error, failed)) = self.apply_succeeded(&succeeded).await {
            for (asked, answer) in asked.iter().zip(&mut answers) {
                if failed.contains(&asked.operation_id) {
                    *answer = Err(error.clone());
                }
            }
        }
        answers
    }

    /// Applies the operations among `succeeded` (ids answered as succeeded) that are not
    /// applied yet, together. On failure, the error and the ids it was applying: their answers
    /// must become the error (success is never said of a cluster that does not show it).
    async fn apply_succeeded(
        &self,
        succeeded: &[&str],
    ) -> Result<(), (ProviderError, std::collections::BTreeSet<String>)> {
        let finished: Vec<SimOperation> = {
            let world = self.read();
            succeeded
                .iter()
                .filter_map(|id| world.operations.get(*id))
                .filter(|op| !op.applied)
                .cloned()
                .collect()
        };
        if finished.is_empty() {
            return Ok(());
        }
        self.apply(&finished).await.map_err(|error| {
            let ids = finished.into_iter().map(|op| op.operation_id).collect();
            (error, ids)
        })
    }

    /// This copy's clusters that `ops` change, with the last change the copy holds: the store
    /// starts from them instead of reading them when no one changed the world since. (Taken
    /// under `writes`, so no write of this server comes between.)
    fn held<'o>(&self, ops: impl Iterator<Item = &'o SimOperation>) -> HeldClusters {
        let world = self.read();
        let clusters = ops
            .filter_map(|op| {
                let cluster = world.clusters.get(&op.cluster)?;
                Some((op.cluster.clone(), cluster.clone()))
            })
            .collect();
        HeldClusters {
            synced: world.synced,
            clusters,
        }
    }

    /// Applies finished operations to their clusters, once: another server may have done it.
    async fn apply(&self, ops: &[SimOperation]) -> Result<(), ProviderError> {
        let _guard = self.writes.lock().await;
        let held = self.held(ops.iter());
        let (change, applied) = self
            .store
            .complete_operations(ops, held)
            .await
            .map_err(unavailable)?;
        let mut elsewhere = false;
        self.write(|world| {
            world.wrote(change);
            for (op, cluster) in ops.iter().zip(applied) {
                let Some(cluster) = cluster else {
                    elsewhere = true;
                    continue;
                };
                world.clusters.insert(op.cluster.clone(), cluster);
                if let Some(stored) = world.operations.get_mut(&op.operation_id) {
                    stored.applied = true;
                }
            }
        });
        if elsewhere {
            self.sync().await.map_err(unavailable)?;
        }
        Ok(())
    }

    /// Every operation ever started, oldest first, with its status now.
    pub fn operations(&self) -> Vec<(SimOperation, OperationStatus)> {
        let now = self.clock.now();
        let world = self.read();
        let mut ops: Vec<_> = world
            .operations
            .values()
            .map(|op| {
                let cluster = world.clusters.get(&op.cluster).map(|c| &*c.state);
                (op.clone(), self.evaluate(op, now, cluster))
            })
            .collect();
        ops.sort_by(|a, b| {
            (a.0.started_at, &a.0.operation_id).cmp(&(b.0.started_at, &b.0.operation_id))
        });
        ops
    }
}
