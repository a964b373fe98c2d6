//! What a run has left, as `engine::forecast` computes it: when each upgrade ahead is expected
//! to start and end, each stage to finish, the run to complete. Data only, shared by the server
//! (which computes it) and the run page (which draws it).

use super::names::MemberName;
use super::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct Forecast {
    /// When the run is expected to complete if nothing fails; `None` once it has finished.
    pub eta: Option<Timestamp>,
    /// The stages with something left, in order.
    pub stages: Vec<StageForecast>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StageForecast {
    pub name: String,
    pub starts: Timestamp,
    /// When its last upgrade is expected to end (its wait follows).
    pub ends: Timestamp,
    /// When the wait after it is expected to end (`ends` when it has none).
    pub wait_ends: Timestamp,
    pub groups: Vec<GroupForecast>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupForecast {
    pub name: String,
    pub ends: Timestamp,
    /// The upgrades ahead, in the order they are expected to run; the one in flight first.
    pub members: Vec<MemberForecast>,
    /// Upgrades ahead after `members` that a folded forecast ([`Forecast::folded`]) leaves out.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub more: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberForecast {
    pub name: MemberName,
    pub starts: Timestamp,
    pub ends: Timestamp,
    /// Upgrading now (`starts` is when it started).
    pub in_flight: bool,
    /// It waits for its maintenance window, which opens then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waits_for_window_until: Option<Timestamp>,
}

impl Forecast {
    /// The upgrades ahead that are listed (all of them unless folded).
    pub fn members(&self) -> impl Iterator<Item = &MemberForecast> {
        self.stages
            .iter()
            .flat_map(|s| s.groups.iter().flat_map(|g| g.members.iter()))
    }

    /// How many upgrades are ahead, listed or not.
    pub fn upgrades(&self) -> usize {
        self.stages
            .iter()
            .flat_map(|s| &s.groups)
            .map(|g| g.members.len() + g.more)
            .sum()
    }

    /// When the upgrades in flight are expected to have ended (`None` when none is).
    pub fn in_flight_ends(&self) -> Option<Timestamp> {
        self.members().filter(|m| m.in_flight).map(|m| m.ends).max()
    }

    /// The same forecast listing at most `per_group` upgrades per group (the first ones, those
    /// in flight among them) and `in_all` over the whole run, in the order they come, the rest
    /// counted in `more`: what a page shows of a large run, whatever its size.
    pub fn folded(mut self, per_group: usize, in_all: usize) -> Forecast {
        let mut left = in_all;
        for group in self.stages.iter_mut().flat_map(|s| &mut s.groups) {
            let keep = group.members.len().min(per_group).min(left);
            left -= keep;
            group.more += group.members.len() - keep;
            group.members.truncate(keep);
        }
        self
    }
}
