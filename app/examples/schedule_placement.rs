//! How long the placement scheduler takes over a large fleet, in the browser's preview and on
//! every rollout pass: `cargo run --release -p app --example schedule_placement [members]`.
//! Prints one line per policy: members, picked, and the best of five runs.

use app::engine::{Candidate, schedule_placement};
use app::model::placement::PlacementPolicy;
use app::model::version::KubernetesVersion;
use std::time::{Duration, Instant};

fn fleet(members: usize) -> Vec<Candidate> {
    let regions = ["eastus", "westeurope", "southeastasia", "australiaeast"];
    (0..members)
        .map(|i| Candidate {
            name: format!("member-{i:06}"),
            labels: [
                (
                    "env".to_owned(),
                    if i % 3 == 0 { "dev" } else { "prod" }.to_owned(),
                ),
                (
                    "fleet.azure.com/location".to_owned(),
                    regions[i % regions.len()].to_owned(),
                ),
            ]
            .into_iter()
            .collect(),
            taints: Vec::new(),
            node_count: Some((i % 50) as u64 + 1),
            kubernetes_version: Some(KubernetesVersion::new(1, 28 + (i % 3) as u32, 5)),
        })
        .collect()
}

fn best_of_five(policy: &PlacementPolicy, candidates: &[Candidate]) -> (usize, Duration) {
    let mut best = Duration::MAX;
    let mut picked = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let schedule = schedule_placement(policy, candidates);
        best = best.min(started.elapsed());
        picked = schedule.selected.len();
    }
    (picked, best)
}

fn main() {
    let members: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let candidates = fleet(members);
    let policies = [
        (
            "PickAll, env=prod",
            r#"{"affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"env": "prod"}}}]}}}}"#,
        ),
        (
            "PickN 1000, spread over regions, sorted by nodes",
            r#"{"placementType": "PickN", "numberOfClusters": 1000,
            "affinity": {"clusterAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 50, "preference": {"propertySorter": {"name": "kubernetes-fleet.io/node-count", "sortOrder": "Descending"}}}]}},
            "topologySpreadConstraints": [{"topologyKey": "fleet.azure.com/location"}]}"#,
        ),
        (
            "PickN 50000, spread over regions",
            r#"{"placementType": "PickN", "numberOfClusters": 50000,
            "topologySpreadConstraints": [{"topologyKey": "fleet.azure.com/location"}]}"#,
        ),
    ];
    for (what, json) in policies {
        let policy: PlacementPolicy = serde_json::from_str(json).expect("a valid policy");
        policy.checked().expect("a valid policy");
        let (picked, took) = best_of_five(&policy, &candidates);
        println!("{what}: {members} members, {picked} picked, {took:.1?}");
    }
}
