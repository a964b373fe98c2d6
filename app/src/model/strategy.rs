//! Update strategies: ordered stages of update groups, in exactly the seeds' `example-stages.json`
//! shape. Validated on their own here; checked against a fleet's groups when a run is created.

use super::gate::{GateConfiguration, Timing, validate_gates};
use super::limits::{MaxAllowedFailures, MaxConcurrency};
use super::names::{GroupName, StageName};
use super::selector::MemberSelector;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The longest wait after a stage Drydock accepts: a week.
pub const MAX_AFTER_STAGE_WAIT_SECONDS: i64 = 7 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupRef {
    pub name: GroupName,
    /// Members chosen by their labels instead of by update group (`name` then only names the
    /// group in the run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_selector: Option<MemberSelector>,
    /// Members of the group upgrading at once; one when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<MaxConcurrency>,
    /// Failed members the group tolerates; see [`UpdateStage::max_allowed_failures`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allowed_failures: Option<MaxAllowedFailures>,
    /// Gates before the group's members start and after they have all finished.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub before_gates: Vec<GateConfiguration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after_gates: Vec<GateConfiguration>,
}

impl GroupRef {
    /// A group with today's defaults: one member at a time, fail-fast, no gates.
    pub fn named(name: GroupName) -> Self {
        Self {
            name,
            member_selector: None,
            max_concurrency: None,
            max_allowed_failures: None,
            before_gates: Vec::new(),
            after_gates: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateStage {
    pub name: StageName,
    /// The stage's members chosen by their labels: its groups take theirs from these; a stage
    /// with a selector and no groups runs its members as one group named after the stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_selector: Option<MemberSelector>,
    #[serde(default)]
    pub groups: Vec<GroupRef>,
    /// Signed on purpose: a negative wait gets a clear message rather than a parse error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_stage_wait_in_seconds: Option<i64>,
    /// A ceiling on members upgrading at once across all the stage's groups; none when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<MaxConcurrency>,
    /// Failed members the stage tolerates across its groups. When neither a group nor its
    /// stage sets a budget the group's is 0 (fail-fast, as before budgets existed); a level
    /// that sets none otherwise adds no limit of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allowed_failures: Option<MaxAllowedFailures>,
    /// Gates before the stage's groups start; after-gates run beside the after-stage wait, and
    /// the stage completes when both are done.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub before_gates: Vec<GateConfiguration>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after_gates: Vec<GateConfiguration>,
}

impl UpdateStage {
    /// A stage with today's defaults around `groups`.
    pub fn new(name: StageName, groups: Vec<GroupRef>) -> Self {
        Self {
            name,
            member_selector: None,
            groups,
            after_stage_wait_in_seconds: None,
            max_concurrency: None,
            max_allowed_failures: None,
            before_gates: Vec::new(),
            after_gates: Vec::new(),
        }
    }

    pub fn wait_seconds(&self) -> i64 {
        self.after_stage_wait_in_seconds.unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateStrategy {
    pub stages: Vec<UpdateStage>,
    /// Beyond Azure: failed members the whole run tolerates (its stages' and groups' budgets
    /// still hold); the run fails once more fail. No limit of its own when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allowed_failures: Option<MaxAllowedFailures>,
}

impl UpdateStrategy {
    pub fn new(stages: Vec<UpdateStage>) -> Self {
        Self {
            stages,
            max_allowed_failures: None,
        }
    }
}

impl UpdateStrategy {
    /// Checks the rules that need no fleet: at least one stage, unique stage names, every stage
    /// with a group, each group once in the whole strategy, waits between 0 and a week.
    pub fn validate(&self) -> Result<(), String> {
        if self.stages.is_empty() {
            return Err("a strategy needs at least one stage".into());
        }
        let mut stage_names = BTreeSet::new();
        let mut group_names = BTreeSet::new();
        for stage in &self.stages {
            if !stage_names.insert(&stage.name) {
                return Err(format!("stage {} appears twice", stage.name));
            }
            if stage.groups.is_empty() && stage.member_selector.is_none() {
                return Err(format!(
                    "stage {} has no update groups and no memberSelector",
                    stage.name
                ));
            }
            let wait = stage.wait_seconds();
            if wait < 0 {
                return Err(format!(
                    "stage {} waits a negative time after it ({wait} seconds)",
                    stage.name
                ));
            }
            if wait > MAX_AFTER_STAGE_WAIT_SECONDS {
                return Err(format!(
                    "stage {} waits {wait} seconds; the most is {MAX_AFTER_STAGE_WAIT_SECONDS} (a week)",
                    stage.name
                ));
            }
            let at = format!("stage {}", stage.name);
            validate_gates(&stage.before_gates, Timing::Before, &at)?;
            validate_gates(&stage.after_gates, Timing::After, &at)?;
            for group in &stage.groups {
                if !group_names.insert(&group.name) {
                    return Err(format!(
                        "group {} appears more than once in the strategy (a group may be in one stage only)",
                        group.name
                    ));
                }
                let at = format!("group {}", group.name);
                validate_gates(&group.before_gates, Timing::Before, &at)?;
                validate_gates(&group.after_gates, Timing::After, &at)?;
            }
        }
        self.check_implicit_groups()
    }

    /// A stage chosen by selector alone runs as a group named after it: no other group may
    /// have that name (skips and events name groups).
    fn check_implicit_groups(&self) -> Result<(), String> {
        let named: BTreeSet<&str> = self.groups().map(GroupName::as_str).collect();
        match self
            .stages
            .iter()
            .find(|s| s.groups.is_empty() && named.contains(s.name.as_str()))
        {
            Some(stage) => Err(format!(
                "stage {0} selects its members by label and so runs them as group {0}, but a group of that name is in the strategy too",
                stage.name
            )),
            None => Ok(()),
        }
    }

    /// Every group the strategy names, in stage order.
    pub fn groups(&self) -> impl Iterator<Item = &GroupName> {
        self.stages
            .iter()
            .flat_map(|s| s.groups.iter().map(|g| &g.name))
    }

    /// Checks that every group chosen by update group (not by label) has a member in the
    /// fleet (`existing`).
    pub fn check_groups_exist(&self, existing: &BTreeSet<GroupName>) -> Result<(), String> {
        let missing: Vec<String> = self
            .stages
            .iter()
            .flat_map(|s| &s.groups)
            .filter(|g| g.member_selector.is_none())
            .map(|g| &g.name)
            .filter(|g| !existing.contains(*g))
            .map(ToString::to_string)
            .collect();
        match missing.as_slice() {
            [] => Ok(()),
            [one] => Err(format!("update group {one} has no members in this fleet")),
            many => Err(format!(
                "update groups {} have no members in this fleet",
                super::names::in_brief(many)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seeds' example-stages.json.
    pub const EXAMPLE_STAGES: &str = r#"{
        "stages": [
            {"name": "stage1", "groups": [{"name": "group-1a"}, {"name": "group-1b"}, {"name": "group-1c"}],
             "afterStageWaitInSeconds": 3600},
            {"name": "stage2", "groups": [{"name": "group-2a"}, {"name": "group-2b"}, {"name": "group-2c"}]}
        ]
    }"#;

    fn example() -> UpdateStrategy {
        serde_json::from_str(EXAMPLE_STAGES).unwrap()
    }

    #[test]
    fn the_seed_example_parses_and_is_valid() {
        let s = example();
        assert_eq!(s.validate(), Ok(()));
        assert_eq!(s.stages[0].wait_seconds(), 3600);
        assert_eq!(s.stages[1].wait_seconds(), 0);
        assert_eq!(s.groups().count(), 6);
    }

    #[test]
    fn rejects_each_broken_rule_with_a_clear_message() {
        let empty = UpdateStrategy::new(vec![]);
        assert!(empty.validate().unwrap_err().contains("at least one stage"));

        let mut dup_group = example();
        dup_group.stages[1].groups[0].name = GroupName::parse("group-1a").unwrap();
        assert!(
            dup_group
                .validate()
                .unwrap_err()
                .contains("group group-1a appears more than once")
        );

        let mut dup_stage = example();
        dup_stage.stages[1].name = StageName::parse("stage1").unwrap();
        assert!(
            dup_stage
                .validate()
                .unwrap_err()
                .contains("stage stage1 appears twice")
        );

        let mut negative = example();
        negative.stages[0].after_stage_wait_in_seconds = Some(-5);
        assert!(negative.validate().unwrap_err().contains("negative"));

        let mut no_groups = example();
        no_groups.stages[0].groups.clear();
        assert!(
            no_groups
                .validate()
                .unwrap_err()
                .contains("no update groups")
        );
    }

    #[test]
    fn names_outside_the_pattern_fail_to_parse() {
        let bad = r#"{"stages": [{"name": "Stage 1", "groups": [{"name": "g"}]}]}"#;
        assert!(
            serde_json::from_str::<UpdateStrategy>(bad)
                .unwrap_err()
                .to_string()
                .contains("stage name")
        );
        let bad = r#"{"stages": [{"name": "s", "groups": [{"name": "G_1"}]}]}"#;
        assert!(
            serde_json::from_str::<UpdateStrategy>(bad)
                .unwrap_err()
                .to_string()
                .contains("group name")
        );
    }

    #[test]
    fn groups_must_exist_in_the_fleet() {
        let existing: BTreeSet<GroupName> = ["group-1a", "group-1b", "group-1c", "group-2a"]
            .iter()
            .map(|g| GroupName::parse(g).unwrap())
            .collect();
        let err = example().check_groups_exist(&existing).unwrap_err();
        assert_eq!(
            err,
            "update groups group-2b, group-2c have no members in this fleet"
        );
    }
}
