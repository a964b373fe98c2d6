//! The fleet overview as the browser shows it: members with what they run and what is newer,
//! and the version distributions. Computed on the server from store + provider + catalog.

use super::catalog::Catalog;
use super::cluster::{ClusterState, Region};
use super::member::{ClusterResourceId, Labels, Member};
use super::names::{FleetName, GroupName, MemberName};
use super::time::Timestamp;
use super::version::{ImageRelease, KubernetesVersion, NodeImageVersion};
use super::window::MaintenanceWindow;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct FleetOverview {
    pub fleet: FleetName,
    /// Fleet time when the overview was computed.
    pub now: Timestamp,
    /// Fleet seconds per real second, so the page moves its clock and countdowns on its own.
    #[serde(default)]
    pub scale: f64,
    /// The members, or when the overview was asked for a page ([`FleetOverview::page`]) the
    /// first of those that match its filter.
    pub members: Vec<MemberRow>,
    /// Members in the fleet, and of them those that match the filter asked for (all when
    /// none was): a page's `members` is at most as long.
    #[serde(default)]
    pub total_members: usize,
    #[serde(default)]
    pub matching: usize,
    pub groups: Vec<GroupSummary>,
    /// Control-plane versions, counted in members.
    pub kubernetes_versions: Vec<VersionCount>,
    /// Node image versions, counted in node pools.
    pub node_images: Vec<VersionCount>,
    /// Clusters the provider knows that are not members of this fleet yet.
    pub joinable_clusters: Vec<ClusterResourceId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct GroupSummary {
    pub name: GroupName,
    pub members: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct VersionCount {
    pub version: String,
    pub count: usize,
    /// Whether this is the newest version the catalog offers (of its family, for images).
    pub newest: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct MemberRow {
    pub name: MemberName,
    pub cluster_resource_id: ClusterResourceId,
    pub group: Option<GroupName>,
    pub labels: Labels,
    /// What the provider sees — or, when it cannot look now, what it last saw — or why it
    /// could not look (never seen).
    pub observed: Result<ObservedCluster, String>,
    /// Why the latest observation failed, when `observed` is what was last seen.
    #[serde(default)]
    pub observation_error: Option<String>,
    /// The provider answering for its cluster (`sim`, `lab`).
    #[serde(default)]
    pub provider: Option<String>,
    /// The run upgrading its cluster right now, if one is.
    #[serde(default)]
    pub upgraded_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct ObservedCluster {
    pub location: Region,
    pub kubernetes_version: KubernetesVersion,
    /// The newest Kubernetes version the control plane can take next (in its region, at most
    /// one minor ahead: minors cannot be skipped), when there is one.
    pub newer_kubernetes: Option<KubernetesVersion>,
    pub node_pools: Vec<PoolRow>,
    /// The window for Kubernetes upgrades.
    pub window: Option<WindowStatus>,
    /// The window for node-image upgrades, when the cluster has one.
    #[serde(default)]
    pub node_os_window: Option<WindowStatus>,
    /// The cluster is stopped: runs skip it.
    #[serde(default)]
    pub stopped: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct PoolRow {
    pub name: String,
    pub count: u32,
    pub kubernetes_version: KubernetesVersion,
    /// The newest version the pool can take (in its region, never past its control plane).
    pub newer_kubernetes: Option<KubernetesVersion>,
    pub node_image_version: NodeImageVersion,
    /// The newest release of the pool's image family in the member's region, when newer.
    pub newer_node_image: Option<ImageRelease>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct WindowStatus {
    pub description: String,
    pub open: bool,
    /// When it closes (if open) or opens next (if closed).
    pub next_change: Timestamp,
}

impl WindowStatus {
    fn of(window: Option<&MaintenanceWindow>, now: Timestamp) -> Option<Self> {
        let window = window?;
        let span = window.current_or_next(now)?;
        let open = span.contains(now);
        Some(WindowStatus {
            description: window.describe(),
            open,
            next_change: if open { span.end } else { span.start },
        })
    }
}

impl ObservedCluster {
    /// Compares what a cluster runs with what its region offers.
    pub fn new(state: &ClusterState, catalog: &Catalog, now: Timestamp) -> Self {
        let region = &state.location;
        let control_plane = state.kubernetes_version;
        // What one upgrade can reach: the control plane one minor at a time, a pool up to its
        // control plane.
        let newest_up_to = |current: KubernetesVersion,
                            limit: &dyn Fn(KubernetesVersion) -> bool| {
            catalog
                .kubernetes_versions
                .iter()
                .rev()
                .copied()
                .find(|&v| v > current && limit(v) && catalog.kubernetes_available_in(region, v))
        };
        let next_control_plane =
            newest_up_to(control_plane, &|v| v.minors_ahead_of(control_plane) <= 1);
        let node_pools = state
            .node_pools
            .iter()
            .map(|pool| PoolRow {
                name: pool.name.clone(),
                count: pool.count,
                kubernetes_version: pool.kubernetes_version,
                newer_kubernetes: newest_up_to(pool.kubernetes_version, &|v| v <= control_plane),
                node_image_version: pool.node_image_version.clone(),
                newer_node_image: catalog
                    .newest_node_image(region, &pool.os_sku)
                    .filter(|n| **n > pool.node_image_version.release)
                    .cloned(),
            })
            .collect();
        Self {
            location: region.clone(),
            kubernetes_version: state.kubernetes_version,
            newer_kubernetes: next_control_plane,
            node_pools,
            window: WindowStatus::of(state.maintenance_window.as_ref(), now),
            node_os_window: WindowStatus::of(state.node_os_maintenance_window.as_ref(), now),
            stopped: !state.power_state.is_running(),
        }
    }
}

impl MemberRow {
    pub fn new(member: &Member, observed: Result<ObservedCluster, String>) -> Self {
        Self {
            name: member.name.clone(),
            cluster_resource_id: member.spec.cluster_resource_id.clone(),
            group: member.spec.group.clone(),
            labels: member.spec.labels.clone(),
            observed,
            observation_error: None,
            provider: None,
            upgraded_by: None,
        }
    }
}

impl MemberRow {
    /// Whether the row matches a filter text (any case): its name, cluster, group (`none` for
    /// none), region, any version, or the run upgrading it (`upgrading <run>`).
    pub fn matches(&self, filter: &str) -> bool {
        let filter = filter.trim().to_lowercase();
        if filter.is_empty() {
            return true;
        }
        let mut haystack = vec![self.name.to_string(), self.cluster_resource_id.to_string()];
        haystack.push(
            self.group
                .as_ref()
                .map_or("none".into(), ToString::to_string),
        );
        haystack.extend(
            self.upgraded_by
                .iter()
                .map(|run| format!("upgrading {run}")),
        );
        if let Ok(cluster) = &self.observed {
            haystack.push(cluster.location.to_string());
            haystack.push(cluster.kubernetes_version.to_string());
            haystack.extend(
                cluster
                    .node_pools
                    .iter()
                    .map(|p| p.node_image_version.to_string()),
            );
        }
        haystack.iter().any(|h| h.to_lowercase().contains(&filter))
    }
}

impl FleetOverview {
    /// The overview with only the first `limit` members that match `filter` (charts and
    /// groups still count the whole fleet): what a page of a 100,000-member fleet draws.
    pub fn page(mut self, filter: &str, limit: Option<usize>) -> Self {
        self.total_members = self.members.len();
        self.members.retain(|m| m.matches(filter));
        self.matching = self.members.len();
        self.members.truncate(limit.unwrap_or(usize::MAX));
        self
    }
}

/// Counts of each group's members, sorted by group name.
pub fn group_summaries(rows: &[MemberRow]) -> Vec<GroupSummary> {
    let mut counts: BTreeMap<&GroupName, usize> = BTreeMap::new();
    for group in rows.iter().filter_map(|r| r.group.as_ref()) {
        *counts.entry(group).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(name, members)| GroupSummary {
            name: name.clone(),
            members,
        })
        .collect()
}

/// Control-plane versions by member count, oldest first.
pub fn kubernetes_distribution(rows: &[MemberRow], catalog: &Catalog) -> Vec<VersionCount> {
    let mut counts: BTreeMap<KubernetesVersion, usize> = BTreeMap::new();
    for cluster in rows.iter().filter_map(|r| r.observed.as_ref().ok()) {
        *counts.entry(cluster.kubernetes_version).or_default() += 1;
    }
    let newest = catalog.newest_kubernetes();
    counts
        .into_iter()
        .map(|(v, count)| VersionCount {
            version: v.to_string(),
            count,
            newest: Some(v) == newest,
        })
        .collect()
}

/// Node image versions by node-pool count, grouped by family and oldest first within it.
pub fn node_image_distribution(rows: &[MemberRow], catalog: &Catalog) -> Vec<VersionCount> {
    let mut counts: BTreeMap<(String, ImageRelease), (usize, bool)> = BTreeMap::new();
    let pools = rows
        .iter()
        .filter_map(|r| r.observed.as_ref().ok())
        .flat_map(|c| &c.node_pools);
    for pool in pools {
        let image = &pool.node_image_version;
        let newest = catalog.newest_node_image_anywhere(&image.family) == Some(&image.release);
        let key = (image.family.to_string(), image.release.clone());
        counts.entry(key).or_insert((0, newest)).0 += 1;
    }
    counts
        .into_iter()
        .map(|((family, release), (count, newest))| VersionCount {
            version: format!("{family}-{release}"),
            count,
            newest,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        serde_json::from_value::<Catalog>(serde_json::json!({
            "kubernetesVersions": ["1.28.5", "1.29.9", "1.30.5", "1.31.2"],
            "nodeImages": {"eastus": {"AKSUbuntu-2204gen2containerd": ["202409.01.0"]}}
        }))
        .unwrap()
    }

    fn cluster(control_plane: &str, pool: &str) -> ClusterState {
        serde_json::from_value(serde_json::json!({
            "location": "eastus", "kubernetesVersion": control_plane,
            "nodePools": [{"name": "system", "count": 3, "kubernetesVersion": pool,
                           "osSku": "AKSUbuntu-2204gen2containerd",
                           "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202409.01.0"}]
        }))
        .unwrap()
    }

    fn v(text: &str) -> KubernetesVersion {
        KubernetesVersion::parse(text).unwrap()
    }

    fn row(name: &str, group: Option<&str>, control_plane: &str) -> MemberRow {
        let member: Member = serde_json::from_value(serde_json::json!({
            "fleet": "f", "name": name, "etag": 1,
            "spec": {"clusterResourceId": format!("sim:{name}"), "group": group}
        }))
        .unwrap();
        let observed = ObservedCluster::new(
            &cluster(control_plane, control_plane),
            &catalog(),
            Timestamp(0),
        );
        MemberRow::new(&member, Ok(observed))
    }

    #[test]
    fn a_page_holds_the_first_matching_members_and_counts_the_rest() {
        let rows: Vec<MemberRow> = (0..30)
            .map(|i| {
                row(
                    &format!("m{i:02}"),
                    (i % 3 == 0).then_some("canary"),
                    if i < 10 { "1.29.9" } else { "1.30.5" },
                )
            })
            .collect();
        let overview = FleetOverview {
            fleet: FleetName::parse("f").unwrap(),
            now: Timestamp(0),
            scale: 1.0,
            groups: group_summaries(&rows),
            kubernetes_versions: kubernetes_distribution(&rows, &catalog()),
            node_images: Vec::new(),
            joinable_clusters: Vec::new(),
            members: rows,
            total_members: 0,
            matching: 0,
        };
        let page = overview.clone().page("1.29", Some(4));
        let names: Vec<_> = page.members.iter().map(|m| m.name.to_string()).collect();
        assert_eq!(names, ["m00", "m01", "m02", "m03"]);
        assert_eq!((page.total_members, page.matching), (30, 10));
        assert_eq!(
            page.kubernetes_versions, overview.kubernetes_versions,
            "charts count the fleet"
        );
        let canary = overview.clone().page(" CANARY ", None);
        assert_eq!(
            (canary.matching, canary.members.len()),
            (10, 10),
            "any case, trimmed"
        );
        assert_eq!(
            overview.clone().page("none", None).matching,
            20,
            "no group reads as none"
        );
        let all = overview.page("", None);
        assert_eq!(
            (all.total_members, all.matching, all.members.len()),
            (30, 30, 30)
        );
    }

    #[test]
    fn newer_badges_offer_only_what_one_upgrade_can_reach() {
        let observed = ObservedCluster::new(&cluster("1.29.9", "1.28.5"), &catalog(), Timestamp(0));
        assert_eq!(
            observed.newer_kubernetes,
            Some(v("1.30.5")),
            "the next minor, not 1.31 (a minor cannot be skipped)"
        );
        assert_eq!(
            observed.node_pools[0].newer_kubernetes,
            Some(v("1.29.9")),
            "a pool goes up to its control plane, no further"
        );
        let current = ObservedCluster::new(&cluster("1.31.2", "1.31.2"), &catalog(), Timestamp(0));
        assert_eq!(current.newer_kubernetes, None);
        assert_eq!(current.node_pools[0].newer_kubernetes, None);
    }
}
