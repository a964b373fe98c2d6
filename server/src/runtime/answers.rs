//! A provider's answer is checked before the run believes it: the operation must be the one the
//! run asked for (its cluster and target), and a success must show on the cluster. An answer
//! that fails either check fails the attempt with the reason; it is never taken for success.

use crate::provider::{Operation, OperationStatus, ProviderError};
use app::engine::Outcome;
use app::model::cluster::ClusterState;
use app::model::member::ClusterResourceId;
use app::model::target::UpgradeTarget;
use app::model::time::Timestamp;
use std::sync::Arc;

/// What the runtime makes of one in-flight attempt's operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Still going; look again when the provider says (if it does).
    Running { look_again_at: Option<Timestamp> },
    /// Finished, one way or the other: report it to the engine.
    Finished(Outcome),
    /// The answer cannot be judged now (the cluster could not be observed): ask again soon.
    Unsure,
}

/// What was asked of the provider for one attempt.
pub(super) struct Asked<'a> {
    pub operation_id: &'a str,
    pub cluster: &'a ClusterResourceId,
    pub target: &'a UpgradeTarget,
}

/// Why an operation is not the one that was asked for, if what the provider says of it (its
/// cluster, its target) shows it is not.
pub(super) fn mismatch(asked: &Asked<'_>, operation: &Operation) -> Option<String> {
    let what = match (&operation.cluster, &operation.target) {
        (Some(cluster), _) if cluster != asked.cluster => format!("cluster {cluster}"),
        (_, Some(target)) if target != asked.target => {
            format!("another target ({})", describe(target))
        }
        _ => return None,
    };
    Some(format!(
        "the provider's operation {} is for {what}, not the upgrade of {} this run asked for; \
         its result was not believed",
        asked.operation_id, asked.cluster
    ))
}

/// Judges an operation the provider reported on; `observe` is asked only for a success.
pub(super) async fn judge<F, Fut>(asked: &Asked<'_>, operation: &Operation, observe: F) -> Verdict
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Arc<ClusterState>, ProviderError>>,
{
    if let Some(why) = mismatch(asked, operation) {
        return Verdict::Finished(Outcome::Failed { message: why });
    }
    match &operation.status {
        OperationStatus::Running { look_again_at, .. } => Verdict::Running {
            look_again_at: *look_again_at,
        },
        OperationStatus::Failed { message } => Verdict::Finished(Outcome::Failed {
            message: message.clone(),
        }),
        OperationStatus::Succeeded => match observe().await {
            Ok(cluster) => match asked.target.unmet_in(&cluster) {
                None => Verdict::Finished(Outcome::Succeeded),
                Some(unmet) => Verdict::Finished(Outcome::Failed {
                    message: format!(
                        "the provider reported operation {} done, but {unmet}",
                        asked.operation_id
                    ),
                }),
            },
            Err(error) if error.is_transient() => {
                tracing::warn!(operation_id = asked.operation_id, %error, "a finished upgrade could not be checked on its cluster; asking again");
                Verdict::Unsure
            }
            Err(error) => Verdict::Finished(Outcome::Failed {
                message: format!(
                    "the provider reported operation {} done, but the cluster cannot be observed: {error}",
                    asked.operation_id
                ),
            }),
        },
    }
}

/// A target in a few words, for messages: `control plane → 1.30.12, 2 node pools`.
fn describe(target: &UpgradeTarget) -> String {
    let mut parts = Vec::new();
    if let Some(step) = &target.control_plane {
        parts.push(format!("control plane → {}", step.to));
    }
    if !target.node_pools.is_empty() {
        parts.push(format!("{} node pool(s)", target.node_pools.len()));
    }
    if parts.is_empty() {
        "nothing".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::target::Step;
    use app::model::version::KubernetesVersion;

    fn v(text: &str) -> KubernetesVersion {
        KubernetesVersion::parse(text).unwrap()
    }

    fn cluster(version: &str) -> ClusterState {
        serde_json::from_value(serde_json::json!({
            "location": "eastus", "kubernetesVersion": version,
            "nodePools": [{"name": "system", "count": 3, "kubernetesVersion": version,
                           "osSku": "AKSUbuntu-2204gen2containerd",
                           "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202409.01.0"}]
        }))
        .unwrap()
    }

    fn control_plane_to(version: &str) -> UpgradeTarget {
        UpgradeTarget {
            control_plane: Some(Step {
                from: v("1.29.7"),
                to: v(version),
            }),
            node_pools: vec![],
            resources: None,
        }
    }

    fn operation(cluster: &str, target: UpgradeTarget, status: OperationStatus) -> Operation {
        Operation {
            cluster: Some(ClusterResourceId::parse(cluster).unwrap()),
            target: Some(target),
            status,
        }
    }

    fn done() -> OperationStatus {
        OperationStatus::Succeeded
    }

    async fn verdict(asked_cluster: &str, op: &Operation, now_runs: &str) -> Verdict {
        let id = ClusterResourceId::parse(asked_cluster).unwrap();
        let target = control_plane_to("1.30.12");
        let asked = Asked {
            operation_id: "u/m/1",
            cluster: &id,
            target: &target,
        };
        let observed = cluster(now_runs);
        judge(&asked, op, || async { Ok(Arc::new(observed)) }).await
    }

    fn failed_with(verdict: &Verdict, words: &str) -> bool {
        matches!(verdict, Verdict::Finished(Outcome::Failed { message }) if message.contains(words))
    }

    #[tokio::test]
    async fn an_operation_on_another_cluster_is_a_failure_never_a_success() {
        let op = operation("sim:other", control_plane_to("1.30.12"), done());
        let verdict = verdict("sim:mine", &op, "1.30.12").await;
        assert!(failed_with(&verdict, "cluster sim:other"), "{verdict:?}");
    }

    #[tokio::test]
    async fn an_operation_with_another_target_is_a_failure() {
        let op = operation("sim:mine", control_plane_to("1.30.5"), done());
        let verdict = verdict("sim:mine", &op, "1.30.12").await;
        assert!(failed_with(&verdict, "another target"), "{verdict:?}");
    }

    #[tokio::test]
    async fn a_success_the_cluster_does_not_show_is_a_failure() {
        let op = operation("sim:mine", control_plane_to("1.30.12"), done());
        let verdict = verdict("sim:mine", &op, "1.29.7").await;
        assert!(
            failed_with(&verdict, "the control plane runs 1.29.7, not 1.30.12"),
            "{verdict:?}"
        );
    }

    #[tokio::test]
    async fn a_success_the_cluster_shows_is_believed() {
        let op = operation("sim:mine", control_plane_to("1.30.12"), done());
        assert_eq!(
            verdict("sim:mine", &op, "1.30.12").await,
            Verdict::Finished(Outcome::Succeeded)
        );
        // Beyond the target (someone upgraded further meanwhile) counts as done too.
        assert_eq!(
            verdict("sim:mine", &op, "1.31.1").await,
            Verdict::Finished(Outcome::Succeeded)
        );
    }

    #[tokio::test]
    async fn a_running_operation_says_when_to_look_again() {
        let running = OperationStatus::Running {
            progress: None,
            message: None,
            look_again_at: Some(Timestamp(99)),
        };
        let op = operation("sim:mine", control_plane_to("1.30.12"), running);
        assert_eq!(
            verdict("sim:mine", &op, "1.29.7").await,
            Verdict::Running {
                look_again_at: Some(Timestamp(99))
            }
        );
    }

    #[tokio::test]
    async fn a_provider_that_does_not_say_which_operation_is_judged_by_the_cluster() {
        let mut op = operation("sim:mine", control_plane_to("1.30.12"), done());
        (op.cluster, op.target) = (None, None);
        assert_eq!(
            verdict("sim:mine", &op, "1.30.12").await,
            Verdict::Finished(Outcome::Succeeded)
        );
        let verdict = verdict("sim:mine", &op, "1.29.7").await;
        assert!(failed_with(&verdict, "runs 1.29.7"), "{verdict:?}");
    }
}
