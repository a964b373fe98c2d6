//! A placement policy's rules, checked before it is stored or previewed, each problem said at
//! its field (`policy.affinity.clusterAffinity.preferredDuringSchedulingIgnoredDuringExecution[1].weight`).

use super::*;
use crate::model::member::validate_labels;
use crate::model::names::MemberName;

const REQUIRED: &str = "policy.affinity.clusterAffinity.requiredDuringSchedulingIgnoredDuringExecution.clusterSelectorTerms";
const PREFERRED: &str =
    "policy.affinity.clusterAffinity.preferredDuringSchedulingIgnoredDuringExecution";

/// The most members a PickN placement may ask for.
pub const MAX_CLUSTERS: u32 = 100_000;

impl PlacementPolicy {
    /// The first problem with the policy, at its field.
    pub fn checked(&self) -> Result<(), String> {
        self.check_type()?;
        if let Some(affinity) = self
            .affinity
            .as_ref()
            .and_then(|a| a.cluster_affinity.as_ref())
        {
            check_affinity(affinity)?;
        }
        check_spread(&self.topology_spread_constraints)?;
        for (i, toleration) in self.tolerations.iter().enumerate() {
            check_toleration(toleration)
                .map_err(|why| format!("policy.tolerations[{i}]: {why}"))?;
        }
        Ok(())
    }

    fn check_type(&self) -> Result<(), String> {
        let only = |field: &str, who: &str| format!("policy.{field}: only {who} takes it");
        let kind = self.placement_type;
        if self.number_of_clusters.is_some() && kind != PlacementType::PickN {
            return Err(only("numberOfClusters", "PickN"));
        }
        if !self.cluster_names.is_empty() && kind != PlacementType::PickFixed {
            return Err(only("clusterNames", "PickFixed"));
        }
        if !self.topology_spread_constraints.is_empty() && kind != PlacementType::PickN {
            return Err(only("topologySpreadConstraints", "PickN"));
        }
        match kind {
            PlacementType::PickAll => Ok(()),
            PlacementType::PickN => match self.number_of_clusters {
                None => Err("policy.numberOfClusters: PickN needs it".into()),
                Some(n) if n > MAX_CLUSTERS => Err(format!(
                    "policy.numberOfClusters: at most {MAX_CLUSTERS}, not {n}"
                )),
                Some(_) => Ok(()),
            },
            PlacementType::PickFixed => self.check_fixed(),
        }
    }

    fn check_fixed(&self) -> Result<(), String> {
        if self.cluster_names.is_empty() {
            return Err("policy.clusterNames: PickFixed needs the members' names".into());
        }
        if self.affinity.is_some() {
            return Err(
                "policy.affinity: PickFixed names its members; it takes no affinity".into(),
            );
        }
        if !self.tolerations.is_empty() {
            return Err(
                "policy.tolerations: PickFixed names its members outright, taints and all".into(),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, name) in self.cluster_names.iter().enumerate() {
            MemberName::parse(name).map_err(|why| format!("policy.clusterNames[{i}]: {why}"))?;
            if !seen.insert(name) {
                return Err(format!("policy.clusterNames[{i}]: {name} is named twice"));
            }
        }
        Ok(())
    }
}

fn check_affinity(affinity: &ClusterAffinity) -> Result<(), String> {
    if let Some(required) = &affinity.required_during_scheduling_ignored_during_execution {
        if required.cluster_selector_terms.is_empty() {
            return Err(format!(
                "{REQUIRED}: give at least one term (a member must match one)"
            ));
        }
        for (i, term) in required.cluster_selector_terms.iter().enumerate() {
            let at = format!("{REQUIRED}[{i}]");
            if term.property_sorter.is_some() {
                return Err(format!(
                    "{at}.propertySorter: a required term selects; only a preferred term sorts"
                ));
            }
            check_term(term).map_err(|why| format!("{at}.{why}"))?;
        }
    }
    for (i, preferred) in affinity
        .preferred_during_scheduling_ignored_during_execution
        .iter()
        .enumerate()
    {
        let at = format!("{PREFERRED}[{i}]");
        if !(-100..=100).contains(&preferred.weight) {
            return Err(format!(
                "{at}.weight: -100 to 100, not {}",
                preferred.weight
            ));
        }
        check_term(&preferred.preference).map_err(|why| format!("{at}.preference.{why}"))?;
    }
    Ok(())
}

/// A term's problem, as `field: why` relative to the term.
fn check_term(term: &ClusterSelectorTerm) -> Result<(), String> {
    if let Some(labels) = &term.label_selector {
        check_label_selector(labels).map_err(|why| format!("labelSelector.{why}"))?;
    }
    if let Some(properties) = &term.property_selector {
        for (i, requirement) in properties.match_expressions.iter().enumerate() {
            check_property(requirement)
                .map_err(|why| format!("propertySelector.matchExpressions[{i}]: {why}"))?;
        }
    }
    if let Some(sorter) = &term.property_sorter
        && !PROPERTIES.contains(&sorter.name.as_str())
    {
        return Err(format!(
            "propertySorter.name: {}",
            unknown_property(&sorter.name)
        ));
    }
    Ok(())
}

fn check_label_selector(selector: &LabelSelector) -> Result<(), String> {
    validate_labels(&selector.match_labels).map_err(|why| format!("matchLabels: {why}"))?;
    for (i, requirement) in selector.match_expressions.iter().enumerate() {
        let at = format!("matchExpressions[{i}]");
        check_label_key(&requirement.key).map_err(|why| format!("{at}.key: {why}"))?;
        let wants_values = matches!(
            requirement.operator,
            LabelOperator::In | LabelOperator::NotIn
        );
        if wants_values && requirement.values.is_empty() {
            return Err(format!(
                "{at}.values: {:?} needs at least one",
                requirement.operator
            ));
        }
        if !wants_values && !requirement.values.is_empty() {
            return Err(format!(
                "{at}.values: {:?} takes none",
                requirement.operator
            ));
        }
    }
    Ok(())
}

fn check_label_key(key: &str) -> Result<(), String> {
    let labels = [(key.to_owned(), String::new())].into_iter().collect();
    validate_labels(&labels)
}

fn check_property(requirement: &PropertySelectorRequirement) -> Result<(), String> {
    let [value] = requirement.values.as_slice() else {
        return Err(format!(
            "{:?} compares with exactly one value, not {}",
            requirement.operator,
            requirement.values.len()
        ));
    };
    PropertyBound::parse(&requirement.name, value).map(|_| ())
}

fn check_spread(constraints: &[TopologySpreadConstraint]) -> Result<(), String> {
    let mut keys = std::collections::BTreeSet::new();
    for (i, constraint) in constraints.iter().enumerate() {
        let at = format!("policy.topologySpreadConstraints[{i}]");
        check_label_key(&constraint.topology_key)
            .map_err(|why| format!("{at}.topologyKey: {why}"))?;
        if constraint.max_skew == Some(0) {
            return Err(format!("{at}.maxSkew: at least 1"));
        }
        if !keys.insert(&constraint.topology_key) {
            return Err(format!(
                "{at}.topologyKey: {} is constrained twice",
                constraint.topology_key
            ));
        }
    }
    Ok(())
}

fn check_toleration(toleration: &Toleration) -> Result<(), String> {
    if let Some(key) = &toleration.key {
        check_label_key(key).map_err(|why| format!("key: {why}"))?;
    }
    match toleration.operator {
        TolerationOperator::Exists if toleration.value.is_some() => {
            Err("value: Exists matches any value; give none".into())
        }
        TolerationOperator::Equal if toleration.key.is_none() => {
            Err("key: Equal needs a key (Exists without one tolerates every taint)".into())
        }
        _ => Ok(()),
    }
}
