//! A managed cluster as ARM returns it, read into Drydock's `ClusterState` plus what the AKS
//! provider needs to upgrade it (desired versions, provisioning states, the eTag, the body to
//! send back); and AKS maintenance configurations as Drydock's windows.

use app::model::cluster::{ClusterState, NodePool, PowerState, ProviderLimits, Region};
use app::model::version::{KubernetesVersion, NodeImageVersion};
use app::model::window::MaintenanceWindow;
use serde_json::Value;

/// The maintenance configurations AKS uses for each kind of upgrade.
pub const KUBERNETES_SCHEDULE: &str = "aksManagedAutoUpgradeSchedule";
pub const NODE_OS_SCHEDULE: &str = "aksManagedNodeOSUpgradeSchedule";

#[derive(Debug, Clone)]
pub struct AksCluster {
    /// Without maintenance windows (read separately).
    pub state: ClusterState,
    /// The body property `eTag` (not a header), for `If-Match`.
    pub etag: Option<String>,
    pub provisioning_state: String,
    /// `kubernetesVersion` as set (may be an alias like `1.30`).
    pub desired_version: String,
    pub pools: Vec<AksPool>,
    /// The body as read, to send back with the versions changed.
    pub body: Value,
}

#[derive(Debug, Clone)]
pub struct AksPool {
    pub name: String,
    pub provisioning_state: String,
}

/// Whether a provisioning state means an operation is under way (`Upgrading`, `Updating`,
/// `UpgradingNodeImageVersion`, …) rather than finished.
pub fn in_progress(state: &str) -> bool {
    !matches!(state, "Succeeded" | "Failed" | "Canceled" | "")
}

/// Whether a desired version (`1.30.5`, or an alias `1.30`) asks for `target`.
pub fn asks_for(desired: &str, target: KubernetesVersion) -> bool {
    desired == target.to_string() || desired == format!("{}.{}", target.major, target.minor)
}

fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_default()
}

/// A version from `current*` when there, else the desired one if it is a full version.
fn running_version(
    item: &Value,
    current: &str,
    desired: &str,
) -> Result<KubernetesVersion, String> {
    let text = item[current]
        .as_str()
        .or(item[desired].as_str())
        .ok_or_else(|| format!("ARM's answer has neither {current} nor {desired}"))?;
    KubernetesVersion::parse(text)
}

pub fn read_cluster(body: Value) -> Result<AksCluster, String> {
    let props = &body["properties"];
    let location = text(&body, "location")
        .to_ascii_lowercase()
        .replace(' ', "");
    let location = Region::parse(&location)?;
    let kubernetes_version =
        running_version(props, "currentKubernetesVersion", "kubernetesVersion")?;
    let profiles = props["agentPoolProfiles"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut node_pools = Vec::new();
    let mut pools = Vec::new();
    let mut availability_set = false;
    for profile in &profiles {
        let name = text(profile, "name").to_owned();
        let image = NodeImageVersion::parse(text(profile, "nodeImageVersion"))
            .map_err(|e| format!("node pool '{name}': {e}"))?;
        availability_set |= text(profile, "type") == "AvailabilitySet";
        node_pools.push(NodePool {
            name: name.clone(),
            count: profile["count"].as_u64().unwrap_or(0) as u32,
            kubernetes_version: running_version(
                profile,
                "currentOrchestratorVersion",
                "orchestratorVersion",
            )
            .map_err(|e| format!("node pool '{name}': {e}"))?,
            // AKS's osSKU says Ubuntu or AzureLinux; the image family is in the image's name.
            os_sku: image.family.clone(),
            node_image_version: image,
        });
        pools.push(AksPool {
            provisioning_state: text(profile, "provisioningState").to_owned(),
            name,
        });
    }
    let power_state = match props["powerState"]["code"].as_str() {
        Some("Stopped") => PowerState::Stopped,
        _ => PowerState::Running,
    };
    let state = ClusterState {
        location,
        kubernetes_version,
        node_pools,
        maintenance_window: None,
        node_os_maintenance_window: None,
        power_state,
        limits: ProviderLimits {
            node_images_newest_only: true,
            control_plane_only_upgrades_pools: availability_set,
        },
    };
    state.validate_observed()?;
    Ok(AksCluster {
        etag: body["eTag"].as_str().map(str::to_owned),
        provisioning_state: text(props, "provisioningState").to_owned(),
        desired_version: text(props, "kubernetesVersion").to_owned(),
        pools,
        state,
        body,
    })
}

/// A maintenance configuration's `maintenanceWindow` as Drydock's window.
pub fn read_window(body: &Value) -> Result<MaintenanceWindow, String> {
    let mut window = body["properties"]["maintenanceWindow"].clone();
    if !window.is_object() {
        return Err("it has no maintenanceWindow (the legacy timeInWeek form is not read)".into());
    }
    // ARM writes absent optional fields as null.
    if let Value::Object(fields) = &mut window {
        fields.retain(|_, v| !v.is_null());
        if let Some(Value::Object(schedule)) = fields.get_mut("schedule") {
            schedule.retain(|_, v| !v.is_null());
        }
    }
    let window: MaintenanceWindow = serde_json::from_value(window).map_err(|e| e.to_string())?;
    window.validate()?;
    Ok(window)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_running_versions_images_and_limits() {
        let body = json!({"location": "eastus", "eTag": "e1", "properties": {
            "kubernetesVersion": "1.29", "currentKubernetesVersion": "1.29.9",
            "provisioningState": "Succeeded", "powerState": {"code": "Stopped"},
            "agentPoolProfiles": [{"name": "sys", "count": 0, "orchestratorVersion": "1.29",
                "currentOrchestratorVersion": "1.29.9", "osSKU": "Ubuntu", "type": "AvailabilitySet",
                "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202409.01.0"}]}});
        let c = read_cluster(body).unwrap();
        assert_eq!(c.state.kubernetes_version.to_string(), "1.29.9");
        assert_eq!(
            c.state.node_pools[0].os_sku.to_string(),
            "AKSUbuntu-2204gen2containerd"
        );
        assert_eq!(c.state.node_pools[0].count, 0);
        assert_eq!(c.state.power_state, PowerState::Stopped);
        assert!(c.state.limits.control_plane_only_upgrades_pools);
        assert_eq!(c.etag.as_deref(), Some("e1"));
        assert!(asks_for(
            &c.desired_version,
            KubernetesVersion::parse("1.29.9").unwrap()
        ));
    }

    #[test]
    fn reads_every_schedule_kind_and_null_fields() {
        let body = json!({"properties": {"maintenanceWindow": {
            "schedule": {"daily": null, "weekly": null, "absoluteMonthly": null,
                         "relativeMonthly": {"intervalMonths": 1, "weekIndex": "First", "dayOfWeek": "Monday"}},
            "durationHours": 4, "utcOffset": "+05:30", "startDate": "2024-01-01", "startTime": "00:00",
            "notAllowedDates": [{"start": "2024-12-23", "end": "2025-01-05"}]}}});
        let w = read_window(&body).unwrap();
        assert_eq!(w.not_allowed_dates.len(), 1);
        assert!(read_window(&json!({"properties": {"timeInWeek": []}})).is_err());
    }
}
