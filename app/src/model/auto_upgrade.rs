//! Auto-upgrade profiles: a fleet's standing policy ("keep us on the stable channel, through
//! this strategy") instead of a run made by hand for every patch and node image. Shaped like
//! Azure Fleet Manager's `autoUpgradeProfiles`; `autoStart` is Drydock's (Azure never starts a
//! generated run: here gates can do the asking instead).

use super::time::Timestamp;
use super::version::KubernetesVersion;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Which releases a profile follows (Azure's channels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum UpgradeChannel {
    /// The newest patch of minor N-1, N being the newest minor the catalog offers.
    Stable,
    /// The newest patch of the newest minor.
    Rapid,
    /// Node images only: the newest of each family.
    NodeImage,
    /// The newest patch of `targetKubernetesVersion`'s minor.
    TargetKubernetesVersion,
    /// Linux node images only (Windows pools keep theirs), as AKS's security-patch channel.
    SecurityPatch,
}

impl UpgradeChannel {
    /// Whether the channel moves Kubernetes (and node images with it), not node images alone.
    pub fn moves_kubernetes(self) -> bool {
        matches!(
            self,
            UpgradeChannel::Stable
                | UpgradeChannel::Rapid
                | UpgradeChannel::TargetKubernetesVersion
        )
    }
}

/// How a profile's runs choose node images: `Custom` has no place in a standing policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum AutoUpgradeNodeImageSelectionType {
    #[default]
    Latest,
    Consistent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AutoUpgradeNodeImageSelection {
    #[serde(rename = "type")]
    pub kind: AutoUpgradeNodeImageSelectionType,
}

/// A Kubernetes minor version `major.minor`, e.g. `1.30`: what `targetKubernetesVersion` names
/// (the profile follows that minor's patches).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MinorVersion {
    pub major: u32,
    pub minor: u32,
}

impl MinorVersion {
    pub fn parse(text: &str) -> Result<Self, String> {
        let err = || format!("'{text}' is not a Kubernetes minor version like 1.30");
        let (major, minor) = text.split_once('.').ok_or_else(err)?;
        let number = |part: &str| -> Result<u32, String> {
            let plain =
                !part.is_empty() && part.len() <= 6 && part.bytes().all(|c| c.is_ascii_digit());
            match plain && (part == "0" || !part.starts_with('0')) {
                true => part.parse().map_err(|_| err()),
                false => Err(err()),
            }
        };
        Ok(Self {
            major: number(major)?,
            minor: number(minor)?,
        })
    }

    pub fn of(version: KubernetesVersion) -> Self {
        Self {
            major: version.major,
            minor: version.minor,
        }
    }

    /// The minor after this one.
    pub fn next(self) -> Self {
        Self {
            major: self.major,
            minor: self.minor + 1,
        }
    }
}

impl fmt::Display for MinorVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Serialize for MinorVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MinorVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// What a user sets on a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AutoUpgradeProfile {
    /// The stored strategy generated runs go through (`name` or
    /// `/fleets/{fleet}/updateStrategies/{name}`); one member at a time when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_strategy_id: Option<String>,
    pub channel: UpgradeChannel,
    #[serde(default)]
    pub node_image_selection: AutoUpgradeNodeImageSelection,
    /// A disabled profile generates nothing by itself (`generateUpdateRun` still does).
    #[serde(default)]
    pub disabled: bool,
    /// Exactly with channel `TargetKubernetesVersion`: the minor to follow, e.g. `1.30`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_kubernetes_version: Option<MinorVersion>,
    /// Only with `targetKubernetesVersion`: keep following the minor after it leaves standard
    /// support (AKS's long-term support); without it such a minor is refused at trigger time.
    #[serde(default)]
    pub long_term_support: bool,
    /// Beyond Azure: start a generated run at once (its gates still ask). Azure never does.
    #[serde(default)]
    pub auto_start: bool,
}

impl AutoUpgradeProfile {
    /// Azure's rules: `targetKubernetesVersion` exactly with its channel, long-term support
    /// only with it.
    pub fn checked(&self) -> Result<(), String> {
        let targeted = self.channel == UpgradeChannel::TargetKubernetesVersion;
        match (targeted, self.target_kubernetes_version) {
            (true, None) => {
                return Err(
                    "channel TargetKubernetesVersion needs a targetKubernetesVersion like 1.30"
                        .into(),
                );
            }
            (false, Some(_)) => {
                return Err(format!(
                    "targetKubernetesVersion goes with channel TargetKubernetesVersion, not {:?}",
                    self.channel
                ));
            }
            _ => {}
        }
        if self.long_term_support && !targeted {
            return Err(
                "longTermSupport goes with channel TargetKubernetesVersion and a targetKubernetesVersion"
                    .into(),
            );
        }
        Ok(())
    }
}

/// How the last trigger ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum TriggerStatus {
    Succeeded,
    Failed,
}

/// Why a trigger failed, as ARM's error detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct TriggerError {
    pub code: String,
    pub message: String,
}

/// What the last trigger did (read-only, Azure's `autoUpgradeProfileStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AutoUpgradeProfileStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_triggered_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_trigger_status: Option<TriggerStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_trigger_error: Option<TriggerError>,
    /// The versions the generated run upgrades to: a Kubernetes version, or node image versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_trigger_upgrade_versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_trigger_message: Option<String>,
}

/// A profile as the browser lists it: its name, what its user set, and its last trigger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileView {
    pub name: String,
    pub profile: AutoUpgradeProfile,
    pub status: AutoUpgradeProfileStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(text: &str) -> Result<AutoUpgradeProfile, String> {
        let profile: AutoUpgradeProfile = serde_json::from_str(text).map_err(|e| e.to_string())?;
        profile.checked().map(|()| profile)
    }

    #[test]
    fn a_target_version_goes_exactly_with_its_channel_and_lts_only_with_it() {
        let p = profile(r#"{"channel": "Stable"}"#).unwrap();
        assert_eq!(
            p.node_image_selection.kind,
            AutoUpgradeNodeImageSelectionType::Latest
        );
        assert!(!p.disabled && !p.auto_start);
        let p = profile(
            r#"{"channel": "TargetKubernetesVersion", "targetKubernetesVersion": "1.30", "longTermSupport": true}"#,
        )
        .unwrap();
        assert_eq!(
            p.target_kubernetes_version,
            Some(MinorVersion {
                major: 1,
                minor: 30
            })
        );
        let refused = [
            (
                r#"{"channel": "TargetKubernetesVersion"}"#,
                "needs a targetKubernetesVersion",
            ),
            (
                r#"{"channel": "Rapid", "targetKubernetesVersion": "1.30"}"#,
                "not Rapid",
            ),
            (
                r#"{"channel": "Stable", "longTermSupport": true}"#,
                "longTermSupport goes with",
            ),
            (
                r#"{"channel": "TargetKubernetesVersion", "targetKubernetesVersion": "1.30.5"}"#,
                "minor version like 1.30",
            ),
            (r#"{"channel": "Weekly"}"#, "unknown variant"),
            (
                r#"{"channel": "Stable", "nodeImageSelection": {"type": "Custom"}}"#,
                "unknown variant",
            ),
        ];
        for (text, why) in refused {
            let error = profile(text).unwrap_err();
            assert!(error.contains(why), "{text}: {error}");
        }
    }

    #[test]
    fn minor_versions_read_and_print_as_major_dot_minor() {
        let v = MinorVersion::parse("1.30").unwrap();
        assert_eq!(v.to_string(), "1.30");
        assert_eq!(v.next().to_string(), "1.31");
        for bad in ["1", "1.", ".30", "1.030", "a.b", "1.30.1"] {
            assert!(MinorVersion::parse(bad).is_err(), "{bad}");
        }
    }
}
