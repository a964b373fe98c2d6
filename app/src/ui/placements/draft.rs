//! The placement editor's fields as text, and the placement they make: the form's words for
//! KubeFleet's shapes (labels as `env=prod, tier=web`, a spread key, tolerate every taint), so
//! the common placements need no JSON. What the form cannot say is for the REST API.

use crate::model::limits::RolloutAmount;
use crate::model::names::{PlacementName, ResourceName};
use crate::model::placement::{
    Affinity, ClusterAffinity, ClusterSelector, ClusterSelectorTerm, LabelSelector, Placement,
    PlacementPolicy, PlacementType, RollingUpdate, RolloutStrategy, RolloutType, Toleration,
    TolerationOperator, TopologySpreadConstraint, WhenUnsatisfiable,
};
use std::collections::BTreeMap;

/// What the form holds, as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DraftText {
    pub name: String,
    pub resources: Vec<String>,
    /// `PickAll`, `PickN` or `PickFixed`.
    pub kind: String,
    pub count: String,
    /// PickFixed: member names, separated by commas or spaces.
    pub members: String,
    /// `key=value` pairs every picked member must carry.
    pub labels: String,
    /// PickN: a label key to spread the picked members over.
    pub spread: String,
    pub tolerate_taints: bool,
    /// `1`, `25%`; empty for KubeFleet's default.
    pub max_unavailable: String,
    /// Rolled out by update runs (`External`), not by itself.
    pub by_runs: bool,
}

/// `env=prod, tier=web` as labels.
pub fn parse_labels(text: &str) -> Result<BTreeMap<String, String>, String> {
    text.split([',', ' '])
        .filter(|pair| !pair.trim().is_empty())
        .map(|pair| {
            let (key, value) = pair
                .trim()
                .split_once('=')
                .ok_or_else(|| format!("Labels: '{}' is not key=value", pair.trim()))?;
            Ok((key.trim().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

impl DraftText {
    /// The placement the fields make, checked as the server checks it, or the first problem.
    pub fn placement(&self) -> Result<(PlacementName, Placement), String> {
        let name = PlacementName::parse(self.name.trim()).map_err(|why| format!("Name: {why}"))?;
        let resources = self
            .resources
            .iter()
            .map(|r| ResourceName::parse(r))
            .collect::<Result<Vec<_>, _>>()?;
        if resources.is_empty() {
            return Err("Resources: pick at least one".into());
        }
        let placement = Placement {
            resources,
            policy: self.policy()?,
            strategy: self.strategy()?,
        };
        placement.checked()?;
        Ok((name, placement))
    }

    fn policy(&self) -> Result<PlacementPolicy, String> {
        let placement_type = match self.kind.as_str() {
            "PickN" => PlacementType::PickN,
            "PickFixed" => PlacementType::PickFixed,
            _ => PlacementType::PickAll,
        };
        let mut policy = PlacementPolicy {
            placement_type,
            ..Default::default()
        };
        if placement_type == PlacementType::PickFixed {
            policy.cluster_names = self
                .members
                .split([',', ' '])
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect();
            return Ok(policy);
        }
        if placement_type == PlacementType::PickN {
            let count = self.count.trim();
            let n = count
                .parse::<u32>()
                .map_err(|_| format!("Members: '{count}' is not a whole number"))?;
            policy.number_of_clusters = Some(n);
            if !self.spread.trim().is_empty() {
                policy.topology_spread_constraints = vec![TopologySpreadConstraint {
                    max_skew: None,
                    topology_key: self.spread.trim().to_owned(),
                    when_unsatisfiable: WhenUnsatisfiable::DoNotSchedule,
                }];
            }
        }
        let labels = parse_labels(&self.labels)?;
        if !labels.is_empty() {
            let term = ClusterSelectorTerm {
                label_selector: Some(LabelSelector {
                    match_labels: labels,
                    match_expressions: Vec::new(),
                }),
                ..Default::default()
            };
            policy.affinity = Some(Affinity {
                cluster_affinity: Some(ClusterAffinity {
                    required_during_scheduling_ignored_during_execution: Some(ClusterSelector {
                        cluster_selector_terms: vec![term],
                    }),
                    ..Default::default()
                }),
            });
        }
        if self.tolerate_taints {
            policy.tolerations = vec![Toleration {
                operator: TolerationOperator::Exists,
                ..Default::default()
            }];
        }
        Ok(policy)
    }

    fn strategy(&self) -> Result<RolloutStrategy, String> {
        let text = self.max_unavailable.trim();
        if self.by_runs {
            if !text.is_empty() {
                return Err("At most unavailable: a placement rolled out by update runs is paced by the run's stages".into());
            }
            return Ok(RolloutStrategy {
                kind: RolloutType::External,
                rolling_update: None,
            });
        }
        if text.is_empty() {
            return Ok(RolloutStrategy::default());
        }
        let amount =
            RolloutAmount::parse(text).map_err(|why| format!("At most unavailable: {why}"))?;
        Ok(RolloutStrategy {
            kind: RolloutType::RollingUpdate,
            rolling_update: Some(RollingUpdate {
                max_unavailable: amount,
                ..Default::default()
            }),
        })
    }

    /// The fields filled from a stored placement (what the form can say of it).
    pub fn of(name: &str, placement: &Placement) -> Self {
        let policy = &placement.policy;
        let labels = policy
            .required()
            .and_then(|r| r.cluster_selector_terms.first())
            .and_then(|t| t.label_selector.as_ref())
            .map(|l| {
                l.match_labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        Self {
            name: name.to_owned(),
            resources: placement
                .resources
                .iter()
                .map(ToString::to_string)
                .collect(),
            kind: format!("{:?}", policy.placement_type),
            count: policy
                .number_of_clusters
                .map(|n| n.to_string())
                .unwrap_or_default(),
            members: policy.cluster_names.join(", "),
            labels,
            spread: policy
                .topology_spread_constraints
                .first()
                .map(|c| c.topology_key.clone())
                .unwrap_or_default(),
            tolerate_taints: !policy.tolerations.is_empty(),
            max_unavailable: placement
                .strategy
                .rolling_update
                .as_ref()
                .map(|r| r.max_unavailable.to_string())
                .unwrap_or_default(),
            by_runs: placement.strategy.kind == RolloutType::External,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> DraftText {
        DraftText {
            name: "web".into(),
            resources: vec!["web".into()],
            kind: "PickN".into(),
            count: "2".into(),
            labels: "env=prod, tier=front".into(),
            spread: "fleet.azure.com/location".into(),
            tolerate_taints: true,
            max_unavailable: "1".into(),
            ..Default::default()
        }
    }

    #[test]
    fn the_fields_make_kubefleets_shapes_and_come_back_from_them() {
        let (name, placement) = draft().placement().unwrap();
        assert_eq!(name.as_str(), "web");
        assert_eq!(
            serde_json::to_value(&placement).unwrap(),
            serde_json::json!({"resources": ["web"], "policy": {"placementType": "PickN", "numberOfClusters": 2,
                "affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
                    {"labelSelector": {"matchLabels": {"env": "prod", "tier": "front"}}}]}}},
                "topologySpreadConstraints": [{"topologyKey": "fleet.azure.com/location", "whenUnsatisfiable": "DoNotSchedule"}],
                "tolerations": [{"operator": "Exists"}]},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "1", "maxSurge": "25%", "unavailablePeriodSeconds": 60}}})
        );
        assert_eq!(DraftText::of("web", &placement), draft());
    }

    #[test]
    fn a_placement_rolled_out_by_runs_is_external() {
        let by_runs = DraftText {
            max_unavailable: String::new(),
            by_runs: true,
            ..draft()
        };
        let (_, placement) = by_runs.placement().unwrap();
        assert_eq!(
            serde_json::to_value(&placement.strategy).unwrap(),
            serde_json::json!({"type": "External"})
        );
        assert_eq!(DraftText::of("web", &placement), by_runs);
    }

    #[test]
    fn each_problem_is_said_by_the_field_it_is_in() {
        type Change = fn(&mut DraftText);
        let cases: [(Change, &str); 7] = [
            (|d| d.name = "Web Site".into(), "Name: "),
            (|d| d.resources.clear(), "Resources: pick at least one"),
            (
                |d| d.count = "two".into(),
                "Members: 'two' is not a whole number",
            ),
            (
                |d| d.labels = "env".into(),
                "Labels: 'env' is not key=value",
            ),
            (
                |d| d.max_unavailable = "lots".into(),
                "At most unavailable: 'lots'",
            ),
            (
                |d| d.by_runs = true,
                "At most unavailable: a placement rolled out by update runs",
            ),
            (
                |d| {
                    d.kind = "PickFixed".into();
                    d.members = String::new();
                },
                "policy.clusterNames: PickFixed needs",
            ),
        ];
        for (change, wanted) in cases {
            let mut d = draft();
            change(&mut d);
            let refused = d.placement().unwrap_err();
            assert!(refused.starts_with(wanted), "{refused}");
        }
    }
}
