//! Fleets and their members: what the operator declares (intent). What the cluster really runs
//! is observed through the provider and lives in [`super::cluster`].

use super::names::{ClusterName, FleetName, GroupName, MemberName};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Where a member's cluster lives, as its provider names it. The simulated provider's clusters
/// are `sim:{name}`; real providers will bring their own forms (an ARM resource id, …).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct ClusterResourceId(String);

impl ClusterResourceId {
    pub const SIMULATED_PREFIX: &'static str = "sim:";
    /// How an Azure Resource Manager id starts (an AKS cluster's).
    pub const ARM_PREFIX: &'static str = "/subscriptions/";

    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() || text.len() > 512 || text.chars().any(char::is_whitespace) {
            return Err(format!(
                "clusterResourceId '{text}' must be 1 to 512 characters without spaces"
            ));
        }
        // ARM compares resource ids without regard to case; keeping them in one case makes
        // "one fleet per cluster" and cluster leases see two spellings as the one cluster.
        if text.len() > 15 && text[..15].eq_ignore_ascii_case(Self::ARM_PREFIX) {
            return Ok(Self(text.to_ascii_lowercase()));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn simulated(name: &ClusterName) -> Self {
        Self(format!("{}{name}", Self::SIMULATED_PREFIX))
    }

    /// The simulated cluster this id names, if it is of the `sim:{name}` form.
    pub fn as_simulated(&self) -> Option<ClusterName> {
        ClusterName::parse(self.0.strip_prefix(Self::SIMULATED_PREFIX)?).ok()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClusterResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ClusterResourceId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

pub type Labels = BTreeMap<String, String>;

use super::placement::Taint;

pub const MAX_LABELS: usize = 50;

/// Checks labels the way Kubernetes does, in short: keys of 1–63 characters from
/// `[A-Za-z0-9._/-]`, values of at most 63.
pub fn validate_labels(labels: &Labels) -> Result<(), String> {
    if labels.len() > MAX_LABELS {
        return Err(format!("a member may carry at most {MAX_LABELS} labels"));
    }
    for (key, value) in labels {
        let key_ok = (1..=63).contains(&key.len())
            && key
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'/' | b'-'));
        if !key_ok {
            return Err(format!(
                "label key '{key}' must be 1 to 63 letters, digits, '.', '_', '/' or '-'"
            ));
        }
        if value.len() > 63 || value.chars().any(char::is_control) {
            return Err(format!(
                "label '{key}' has a value longer than 63 characters"
            ));
        }
    }
    Ok(())
}

/// What the operator declares about a member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberSpec {
    pub cluster_resource_id: ClusterResourceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupName>,
    #[serde(default)]
    pub labels: Labels,
    /// Placements that do not tolerate these do not pick the member (KubeFleet's taints).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
}

/// How many taints a member may carry.
pub const MAX_TAINTS: usize = 20;

/// Checks taints as labels are checked: keys of 1–63 characters, values of at most 63, each
/// key and value once.
pub fn validate_taints(taints: &[Taint]) -> Result<(), String> {
    if taints.len() > MAX_TAINTS {
        return Err(format!("a member may carry at most {MAX_TAINTS} taints"));
    }
    for (i, taint) in taints.iter().enumerate() {
        let as_label = [(taint.key.clone(), taint.value.clone().unwrap_or_default())]
            .into_iter()
            .collect();
        validate_labels(&as_label).map_err(|why| format!("taints[{i}]: {why}"))?;
        if taints[..i].contains(taint) {
            return Err(format!("taints[{i}]: {taint} is given twice"));
        }
    }
    Ok(())
}

/// A stored member. `etag` changes on every write, for compare-and-set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct Member {
    pub fleet: FleetName,
    pub name: MemberName,
    pub spec: MemberSpec,
    pub etag: i64,
}

/// A fleet and how many members it has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct FleetSummary {
    pub name: FleetName,
    pub member_count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_ids_are_compared_without_regard_to_case() {
        let a = ClusterResourceId::parse(
            "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.ContainerService/managedClusters/Prod-1",
        )
        .unwrap();
        let b = ClusterResourceId::parse(
            "/Subscriptions/sub/resourcegroups/rg/providers/microsoft.containerservice/managedclusters/prod-1",
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(
            ClusterResourceId::parse("sim:Aks").unwrap().as_str(),
            "sim:Aks"
        );
    }

    #[test]
    fn simulated_ids_round_trip() {
        let name = ClusterName::parse("aks-1").unwrap();
        let id = ClusterResourceId::simulated(&name);
        assert_eq!(id.as_str(), "sim:aks-1");
        assert_eq!(id.as_simulated(), Some(name));
        let arm = ClusterResourceId::parse("/subscriptions/x/resourceGroups/y").unwrap();
        assert_eq!(arm.as_simulated(), None);
    }

    #[test]
    fn resource_ids_reject_blank_and_spaces() {
        assert!(ClusterResourceId::parse("").is_err());
        assert!(ClusterResourceId::parse("sim:a b").is_err());
    }

    #[test]
    fn labels_are_checked() {
        let mut labels = Labels::new();
        labels.insert("env".into(), "prod".into());
        assert!(validate_labels(&labels).is_ok());
        labels.insert("bad key".into(), "x".into());
        assert!(validate_labels(&labels).unwrap_err().contains("bad key"));
    }

    #[test]
    fn a_spec_parses_from_the_rest_shape() {
        let spec: MemberSpec =
            serde_json::from_str(r#"{"clusterResourceId": "sim:aks-1", "group": "group-1a"}"#)
                .unwrap();
        assert_eq!(spec.group.unwrap().as_str(), "group-1a");
        assert!(
            serde_json::from_str::<MemberSpec>(r#"{"clusterResourceId": "sim:a", "group": "G"}"#)
                .is_err()
        );
    }
}
