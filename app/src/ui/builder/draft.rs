//! What a person is composing on the new-run page, as plain data with the rules that turn it
//! into a run request: kept apart from the views so it is tested without a browser.

use crate::engine::RunSpec;
use crate::model::gate::{GateConfiguration, GateType, ScheduledStartConfiguration, Timing};
use crate::model::limits::{MaxAllowedFailures, MaxConcurrency};
use crate::model::names::{GroupName, StageName};
use crate::model::selector::{LabelSelector, MemberSelector};
use crate::model::strategy::{GroupRef, UpdateStage, UpdateStrategy};
use crate::model::update::{
    CreateRun, CustomNodeImageVersion, DeferUntilAvailable, Hops, ManagedClusterUpdate,
    NodeImageSelection, NodeImageSelectionType, StrategySource, UpgradeSpec, UpgradeType,
};
use crate::model::version::{KubernetesVersion, NodeImageVersion};
use crate::model::window::DayOfWeek;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How the run orders its members (the portal's three choices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sequence {
    OneByOne,
    Stages,
    /// Run with a stored strategy as it is now.
    CopyStrategy,
}

/// The unit a stage's wait is typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WaitUnit {
    Seconds,
    Minutes,
    Hours,
}

impl WaitUnit {
    pub const ALL: [WaitUnit; 3] = [WaitUnit::Seconds, WaitUnit::Minutes, WaitUnit::Hours];

    pub fn seconds(self) -> i64 {
        match self {
            WaitUnit::Seconds => 1,
            WaitUnit::Minutes => 60,
            WaitUnit::Hours => 3600,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            WaitUnit::Seconds => "seconds",
            WaitUnit::Minutes => "minutes",
            WaitUnit::Hours => "hours",
        }
    }

    pub fn from_word(word: &str) -> Self {
        WaitUnit::ALL
            .into_iter()
            .find(|u| u.word() == word)
            .unwrap_or(WaitUnit::Minutes)
    }

    /// The largest unit a wait of `seconds` is a whole number of, and that number.
    pub fn fitting(seconds: i64) -> (String, WaitUnit) {
        let unit = [WaitUnit::Hours, WaitUnit::Minutes]
            .into_iter()
            .find(|u| seconds != 0 && seconds % u.seconds() == 0)
            .unwrap_or(if seconds == 0 {
                WaitUnit::Minutes
            } else {
                WaitUnit::Seconds
            });
        ((seconds / unit.seconds()).to_string(), unit)
    }
}

/// One stage being edited; `key` identifies it across reorderings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageDraft {
    pub key: u64,
    pub name: String,
    /// The wait after the stage as typed, in `wait_unit`s; checked when the strategy is built.
    pub wait: String,
    pub wait_unit: WaitUnit,
    pub groups: Vec<String>,
    /// The stage's `maxConcurrency` and `maxAllowedFailures` as typed (empty: unset).
    #[serde(default)]
    pub limits: LevelDraft,
    /// Each group's limits as typed, by group name (a group without an entry has none).
    #[serde(default)]
    pub group_limits: BTreeMap<String, LevelDraft>,
}

/// What a stage or group sets beside its name, as typed: `maxConcurrency`,
/// `maxAllowedFailures`, `memberSelector.byLabel`; checked when the strategy is built. Gates
/// are kept as they were imported (the builder does not edit them yet).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LevelDraft {
    pub concurrency: String,
    pub failures: String,
    #[serde(default)]
    pub selector: String,
    #[serde(default)]
    pub before_gates: Vec<GateConfiguration>,
    #[serde(default)]
    pub after_gates: Vec<GateConfiguration>,
}

impl LevelDraft {
    fn of_stage(stage: &UpdateStage) -> Self {
        Self {
            concurrency: text_of(stage.max_concurrency),
            failures: text_of(stage.max_allowed_failures),
            selector: selector_text(&stage.member_selector),
            before_gates: stage.before_gates.clone(),
            after_gates: stage.after_gates.clone(),
        }
    }

    fn of_group(group: &GroupRef) -> Self {
        Self {
            concurrency: text_of(group.max_concurrency),
            failures: text_of(group.max_allowed_failures),
            selector: selector_text(&group.member_selector),
            before_gates: group.before_gates.clone(),
            after_gates: group.after_gates.clone(),
        }
    }

    fn gates_mut(&mut self, timing: Timing) -> &mut Vec<GateConfiguration> {
        match timing {
            Timing::Before => &mut self.before_gates,
            Timing::After => &mut self.after_gates,
        }
    }

    /// The first gate of `kind` at `timing`: the one the builder edits (an imported strategy
    /// may have more; they are kept as they are).
    pub fn gate(&self, timing: Timing, kind: GateType) -> Option<&GateConfiguration> {
        let gates = match timing {
            Timing::Before => &self.before_gates,
            Timing::After => &self.after_gates,
        };
        gates.iter().find(|g| g.kind == kind)
    }

    pub fn edit_gate(
        &mut self,
        timing: Timing,
        kind: GateType,
        change: impl FnOnce(&mut GateConfiguration),
    ) {
        if let Some(gate) = self.gates_mut(timing).iter_mut().find(|g| g.kind == kind) {
            change(gate);
        }
    }

    /// Adds a gate of `kind` at `timing` (an approval, or Saturday 02:00 UTC), or removes every
    /// one of that kind there.
    pub fn set_gate(&mut self, timing: Timing, kind: GateType, on: bool) {
        let gates = self.gates_mut(timing);
        if !on {
            gates.retain(|g| g.kind != kind);
        } else if !gates.iter().any(|g| g.kind == kind) {
            gates.push(match kind {
                GateType::Approval => GateConfiguration::approval(),
                GateType::ScheduledStart => GateConfiguration {
                    kind: GateType::ScheduledStart,
                    scheduled_start_configuration: Some(ScheduledStartConfiguration {
                        start_day: DayOfWeek::Saturday,
                        start_time: "02:00".into(),
                        utc_offset: "+00:00".into(),
                    }),
                    ..GateConfiguration::approval()
                },
            });
        }
    }

    /// What is wrong with this level's gates, for the form (`whose`: "The stage", "Group g").
    pub fn gate_problem(&self, whose: &str) -> Option<String> {
        let timed = |timing: Timing, gates: &[GateConfiguration]| {
            gates.iter().find_map(|g| g.validate(timing, whose).err())
        };
        timed(Timing::Before, &self.before_gates)
            .or_else(|| timed(Timing::After, &self.after_gates))
    }

    pub fn selector(&self) -> Result<Option<MemberSelector>, String> {
        optional(&self.selector, LabelSelector::parse)
            .map(|s| s.map(|by_label| MemberSelector { by_label }))
    }

    pub fn concurrency(&self) -> Result<Option<MaxConcurrency>, String> {
        optional(&self.concurrency, MaxConcurrency::parse)
    }

    pub fn failures(&self) -> Result<Option<MaxAllowedFailures>, String> {
        optional(&self.failures, MaxAllowedFailures::parse)
    }
}

fn text_of<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

fn selector_text(selector: &Option<MemberSelector>) -> String {
    selector
        .as_ref()
        .map(|s| s.by_label.as_str().to_owned())
        .unwrap_or_default()
}

/// Empty text is unset; anything else must parse.
pub fn optional<T>(text: &str, parse: fn(&str) -> Result<T, String>) -> Result<Option<T>, String> {
    match text.trim() {
        "" => Ok(None),
        given => parse(given).map(Some),
    }
}

impl StageDraft {
    /// The wait in seconds, or what is wrong with it, in words.
    pub fn wait_seconds(&self) -> Result<i64, String> {
        let unit = self.wait_unit.word();
        let text = self.wait.trim();
        if text.is_empty() {
            return Ok(0);
        }
        let amount: i64 =
            text.parse().ok().filter(|n: &i64| *n >= 0).ok_or_else(|| {
                format!("Enter the wait as a whole number of {unit} (0 for none).")
            })?;
        let seconds = amount.saturating_mul(self.wait_unit.seconds());
        if seconds > crate::model::strategy::MAX_AFTER_STAGE_WAIT_SECONDS {
            return Err("A stage can wait a week at most.".into());
        }
        Ok(seconds)
    }
}

/// The stages as the builder edits them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Stages {
    pub stages: Vec<StageDraft>,
    next_key: u64,
    /// The run-level `maxAllowedFailures` as typed (empty: unset).
    #[serde(default)]
    pub run_failures: String,
}

impl Stages {
    pub fn from_strategy(strategy: &UpdateStrategy) -> Self {
        let mut stages = Self::default();
        stages.replace_with(strategy);
        stages
    }

    /// Replaces the stages with the strategy's; keys keep counting, so none is reused.
    fn replace_with(&mut self, strategy: &UpdateStrategy) {
        self.stages.clear();
        for stage in &strategy.stages {
            self.push(
                stage.name.to_string(),
                stage.wait_seconds(),
                stage.groups.iter().map(|g| g.name.to_string()).collect(),
            );
            let draft = self.stages.last_mut().expect("just pushed");
            draft.limits = LevelDraft::of_stage(stage);
            draft.group_limits = stage
                .groups
                .iter()
                .map(|g| (g.name.to_string(), LevelDraft::of_group(g)))
                .filter(|(_, level)| *level != LevelDraft::default())
                .collect();
        }
        self.run_failures = strategy
            .max_allowed_failures
            .map(|f| f.to_string())
            .unwrap_or_default();
    }

    fn push(&mut self, name: String, wait_seconds: i64, groups: Vec<String>) {
        self.next_key += 1;
        let (wait, wait_unit) = WaitUnit::fitting(wait_seconds);
        self.stages.push(StageDraft {
            key: self.next_key,
            name,
            wait,
            wait_unit,
            groups,
            limits: LevelDraft::default(),
            group_limits: BTreeMap::new(),
        });
    }

    /// Adds an empty stage with the next free `stage-N` name; returns its key.
    pub fn add(&mut self) -> u64 {
        let name = (1..)
            .map(|n| format!("stage-{n}"))
            .find(|n| self.stages.iter().all(|s| &s.name != n))
            .unwrap_or_default();
        self.push(name, 0, Vec::new());
        self.next_key
    }

    /// Edits the limits of `group` in a stage (an entry is made for it if it has none).
    pub fn edit_group_limits(
        &mut self,
        key: u64,
        group: &str,
        change: impl FnOnce(&mut LevelDraft),
    ) {
        self.edit(key, |stage| {
            change(stage.group_limits.entry(group.to_owned()).or_default())
        });
    }

    pub fn remove(&mut self, key: u64) {
        self.stages.retain(|s| s.key != key);
    }

    /// Moves a stage one place earlier (`up`) or later; at an end it stays.
    pub fn shift(&mut self, key: u64, up: bool) {
        let Some(i) = self.stages.iter().position(|s| s.key == key) else {
            return;
        };
        let j = if up { i.checked_sub(1) } else { Some(i + 1) };
        if let Some(j) = j.filter(|&j| j < self.stages.len()) {
            self.stages.swap(i, j);
        }
    }

    pub fn edit(&mut self, key: u64, change: impl FnOnce(&mut StageDraft)) {
        if let Some(stage) = self.stages.iter_mut().find(|s| s.key == key) {
            change(stage);
        }
    }

    /// Adds or removes `group` from a stage.
    pub fn toggle_group(&mut self, key: u64, group: &str) {
        self.edit(key, |stage| {
            match stage.groups.iter().position(|g| g == group) {
                Some(i) => {
                    stage.groups.remove(i);
                }
                None => stage.groups.push(group.to_owned()),
            }
        });
    }

    /// The fleet's groups a stage may choose: those no other stage has taken.
    pub fn offered_to(&self, key: u64, fleet_groups: &[String]) -> Vec<String> {
        fleet_groups
            .iter()
            .filter(|g| {
                self.stages
                    .iter()
                    .all(|s| s.key == key || !s.groups.contains(g))
            })
            .cloned()
            .collect()
    }

    /// The strategy these stages describe, or what is wrong with them, in words.
    pub fn strategy(&self) -> Result<UpdateStrategy, String> {
        if self.stages.is_empty() {
            return Err("Add at least one stage.".into());
        }
        let stages = self
            .stages
            .iter()
            .map(stage_from_draft)
            .collect::<Result<Vec<_>, _>>()?;
        let mut strategy = UpdateStrategy::new(stages);
        strategy.max_allowed_failures = optional(&self.run_failures, MaxAllowedFailures::parse)
            .map_err(|e| format!("Run: {e}"))?;
        strategy.validate().map(|()| strategy)
    }

    /// Replaces the stages with those of an `example-stages.json`-shaped document.
    pub fn import(&mut self, json: &str) -> Result<(), String> {
        let strategy: UpdateStrategy = serde_json::from_str(json)
            .map_err(|e| format!("That is not a stages document: {e}"))?;
        strategy
            .validate()
            .map_err(|e| format!("Those stages cannot run: {e}"))?;
        self.replace_with(&strategy);
        Ok(())
    }
}

fn stage_from_draft(draft: &StageDraft) -> Result<UpdateStage, String> {
    let name = StageName::parse(draft.name.trim())
        .map_err(|e| format!("Stage name {:?}: {e}", draft.name))?;
    let wait = draft
        .wait_seconds()
        .map_err(|why| format!("Stage {name}: {why}"))?;
    let groups = draft
        .groups
        .iter()
        .map(|g| group_from_draft(g, draft.group_limits.get(g)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("Stage {name}: {e}"))?;
    let mut stage = UpdateStage::new(name, groups);
    stage.after_stage_wait_in_seconds = (wait != 0).then_some(wait);
    let in_stage = |e: String| format!("Stage {}: {e}", stage.name);
    stage.max_concurrency = draft.limits.concurrency().map_err(in_stage)?;
    stage.max_allowed_failures = draft.limits.failures().map_err(in_stage)?;
    stage.member_selector = draft.limits.selector().map_err(in_stage)?;
    stage.before_gates.clone_from(&draft.limits.before_gates);
    stage.after_gates.clone_from(&draft.limits.after_gates);
    Ok(stage)
}

fn group_from_draft(name: &str, limits: Option<&LevelDraft>) -> Result<GroupRef, String> {
    let mut group = GroupRef::named(GroupName::parse(name)?);
    if let Some(level) = limits {
        let in_group = |e: String| format!("group {name}: {e}");
        group.max_concurrency = level.concurrency().map_err(in_group)?;
        group.max_allowed_failures = level.failures().map_err(in_group)?;
        group.member_selector = level.selector().map_err(in_group)?;
        group.before_gates.clone_from(&level.before_gates);
        group.after_gates.clone_from(&level.after_gates);
    }
    Ok(group)
}

/// The upgrade part of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpgradeChoice {
    pub scope: UpgradeType,
    /// As picked; ignored for a node-image-only upgrade.
    pub version: String,
    pub images: NodeImageSelectionType,
    /// For `Custom`: node image versions separated by spaces, commas or lines.
    pub custom_images: String,
    /// Ignored for a node-image-only upgrade, which changes no Kubernetes version.
    pub hops: Hops,
    /// `deferUntilAvailable` in hours as typed (fractions allowed); empty: do not wait.
    pub defer_hours: String,
}

impl UpgradeChoice {
    /// The `Custom` images as typed, parsed; an empty list is a problem for Custom only.
    pub fn custom_versions(&self) -> Result<Vec<CustomNodeImageVersion>, String> {
        let versions = self
            .custom_images
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .map(|t| NodeImageVersion::parse(t).map(|version| CustomNodeImageVersion { version }))
            .collect::<Result<Vec<_>, _>>()?;
        if versions.is_empty() {
            return Err("Give at least one node image version, e.g. AKSUbuntu-2204gen2containerd-202409.01.0.".into());
        }
        Ok(versions)
    }

    fn node_image_selection(&self) -> Result<NodeImageSelection, String> {
        let mut selection = NodeImageSelection::of(self.images);
        if self.images == NodeImageSelectionType::Custom
            && self.scope != UpgradeType::ControlPlaneOnly
        {
            selection.custom_node_image_versions = self.custom_versions()?;
            selection.checked()?;
        } else if self.images == NodeImageSelectionType::Custom {
            // A control-plane-only run moves no image: Custom would have nothing to name.
            selection = NodeImageSelection::default();
        }
        Ok(selection)
    }

    /// How long a member waits for its version or image to reach its region, as typed.
    pub fn defer_until_available(&self) -> Result<Option<DeferUntilAvailable>, String> {
        let text = self.defer_hours.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let max_hours = DeferUntilAvailable::MAX_SECONDS / 3600;
        let rule = || {
            format!(
                "Give a number of hours above 0 and at most {max_hours} (30 days), e.g. 6 or 0.5, or leave it empty not to wait."
            )
        };
        let hours: f64 = text.parse().map_err(|_| rule())?;
        if !hours.is_finite() || hours <= 0.0 {
            return Err(rule());
        }
        // A fraction of an hour too small for a second still waits one second; the upper bound
        // is the model's.
        let defer = DeferUntilAvailable {
            max_wait_in_seconds: ((hours * 3600.0).round() as i64).max(1),
        };
        defer.checked().map_err(|_| rule())?;
        Ok(Some(defer))
    }

    pub fn update(&self) -> Result<ManagedClusterUpdate, String> {
        let kubernetes_version = match self.scope {
            UpgradeType::NodeImageOnly => None,
            UpgradeType::Full | UpgradeType::ControlPlaneOnly => Some(
                KubernetesVersion::parse(self.version.trim())
                    .map_err(|e| format!("Pick a Kubernetes version: {e}"))?,
            ),
        };
        Ok(ManagedClusterUpdate {
            upgrade: UpgradeSpec {
                kind: self.scope,
                kubernetes_version,
                hops: match self.scope {
                    UpgradeType::NodeImageOnly => Hops::None,
                    UpgradeType::Full | UpgradeType::ControlPlaneOnly => self.hops,
                },
            },
            node_image_selection: self.node_image_selection()?,
            // Not offered by the builder yet: stopped clusters are skipped, as by default.
            stopped_cluster_action: Default::default(),
            defer_until_available: self.defer_until_available()?,
        })
    }
}

/// The request Create sends, and the spec the preview plans (a stored strategy is resolved
/// by the caller, who has the list).
pub fn run_request(
    sequence: Sequence,
    stages: &Stages,
    copy_from: &str,
    stored: Option<&UpdateStrategy>,
    upgrade: &UpgradeChoice,
) -> Result<(CreateRun, RunSpec), String> {
    let update = upgrade.update()?;
    let (source, strategy) = match sequence {
        Sequence::OneByOne => (StrategySource::OneByOne, None),
        Sequence::Stages => {
            let strategy = stages.strategy()?;
            (StrategySource::Inline(strategy.clone()), Some(strategy))
        }
        Sequence::CopyStrategy => {
            let strategy = stored.ok_or("Choose a strategy to copy.")?;
            (
                StrategySource::Stored(copy_from.to_owned()),
                Some(strategy.clone()),
            )
        }
    };
    Ok((
        CreateRun {
            strategy: source,
            update: update.clone(),
            placement: None,
        },
        RunSpec {
            strategy,
            update,
            placement: None,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{"stages": [
        {"name": "stage1", "groups": [{"name": "group-1a", "maxConcurrency": "2"}, {"name": "group-1b"}],
         "afterStageWaitInSeconds": 3600, "maxConcurrency": "25%", "maxAllowedFailures": "1"},
        {"name": "stage2", "memberSelector": {"byLabel": "env=prod"}, "beforeGates": [{"type": "Approval"}],
         "groups": [{"name": "group-2a", "maxAllowedFailures": "10%", "afterGates": [{"type": "Approval"}]}]}
    ], "maxAllowedFailures": "2"}"#;

    fn example() -> Stages {
        let mut stages = Stages::default();
        stages.import(EXAMPLE).unwrap();
        stages
    }

    #[test]
    fn import_and_export_round_trip_the_seed_shape() {
        let stages = example();
        let strategy = stages.strategy().unwrap();
        let again: UpdateStrategy =
            serde_json::from_str(&serde_json::to_string(&strategy).unwrap()).unwrap();
        assert_eq!(again, serde_json::from_str(EXAMPLE).unwrap());
        assert_eq!(
            (stages.stages[0].wait.as_str(), stages.stages[0].wait_unit),
            ("1", WaitUnit::Hours),
            "an hour reads as 1 hour"
        );
    }

    #[test]
    fn a_bad_import_changes_nothing_and_says_why() {
        let mut stages = example();
        let before = stages.clone();
        let error = stages
            .import(r#"{"stages": [{"name": "x", "groups": 5}]}"#)
            .unwrap_err();
        assert!(error.contains("not a stages document"), "{error}");
        assert_eq!(stages, before);
        let error = stages.import(r#"{"stages": [{"name": "x"}]}"#).unwrap_err();
        assert!(
            error.contains("Those stages cannot run: stage x has no update groups"),
            "{error}"
        );
        assert_eq!(stages, before);
    }

    #[test]
    fn stages_reorder_and_new_ones_get_a_free_name() {
        let mut stages = example();
        let second = stages.stages[1].key;
        stages.shift(second, true);
        assert_eq!(stages.stages[0].name, "stage2");
        stages.shift(second, true);
        assert_eq!(stages.stages[0].name, "stage2", "the first stays first");
        stages.add();
        stages.add();
        let names: Vec<_> = stages.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["stage2", "stage1", "stage-1", "stage-2"]);
        stages.remove(second);
        assert_eq!(stages.stages.len(), 3);
    }

    #[test]
    fn a_group_taken_by_one_stage_is_not_offered_to_another() {
        let stages = example();
        let fleet: Vec<String> = ["group-1a", "group-1b", "group-2a", "group-3"]
            .map(String::from)
            .into();
        let first = stages.stages[0].key;
        let second = stages.stages[1].key;
        assert_eq!(
            stages.offered_to(first, &fleet),
            ["group-1a", "group-1b", "group-3"]
        );
        assert_eq!(stages.offered_to(second, &fleet), ["group-2a", "group-3"]);
    }

    #[test]
    fn broken_stages_say_what_to_fix() {
        let mut stages = example();
        let key = stages.stages[0].key;
        stages.edit(key, |s| s.wait = "an hour".into());
        assert!(
            stages
                .strategy()
                .unwrap_err()
                .contains("whole number of hours")
        );
        stages.edit(key, |s| s.wait = "169".into());
        assert!(stages.strategy().unwrap_err().contains("a week at most"));
        stages.edit(key, |s| {
            s.wait = "90".into();
            s.wait_unit = WaitUnit::Minutes;
        });
        assert_eq!(stages.strategy().unwrap().stages[0].wait_seconds(), 5400);
        stages.edit(key, |s| s.limits.concurrency = "0".into());
        let error = stages.strategy().unwrap_err();
        assert!(
            error.contains("Stage stage1: maxConcurrency '0'"),
            "{error}"
        );
        stages.edit(key, |s| {
            s.limits.concurrency = String::new();
            s.group_limits.get_mut("group-1a").unwrap().failures = "x".into();
        });
        let error = stages.strategy().unwrap_err();
        assert!(
            error.contains("group group-1a: maxAllowedFailures 'x'"),
            "{error}"
        );
        stages.edit(key, |s| s.groups.clear());
        assert!(stages.strategy().unwrap_err().contains("no update groups"));
        assert!(
            Stages::default()
                .strategy()
                .unwrap_err()
                .contains("at least one stage")
        );
    }

    #[test]
    fn gates_toggled_in_the_builder_reach_the_strategy_and_bad_times_are_named() {
        let mut stages = example();
        let first = stages.stages[0].key;
        stages.edit(first, |d| {
            d.limits
                .set_gate(Timing::Before, GateType::ScheduledStart, true);
            d.limits.set_gate(Timing::After, GateType::Approval, true);
            d.limits.edit_gate(Timing::After, GateType::Approval, |g| {
                g.display_name = Some("smoke tests green".into())
            });
        });
        stages.edit_group_limits(first, "group-1b", |l| {
            l.set_gate(Timing::Before, GateType::Approval, true)
        });
        let strategy = stages.strategy().unwrap();
        let stage = &strategy.stages[0];
        let schedule = stage.before_gates[0].scheduled_start_configuration.as_ref();
        assert_eq!(
            schedule.map(|c| (c.start_day, c.start_time.as_str())),
            Some((DayOfWeek::Saturday, "02:00"))
        );
        assert_eq!(
            stage.after_gates[0].display_name.as_deref(),
            Some("smoke tests green")
        );
        assert_eq!(stage.groups[1].before_gates[0].kind, GateType::Approval);

        let stage = &mut stages.stages[0];
        stage
            .limits
            .edit_gate(Timing::Before, GateType::ScheduledStart, |g| {
                if let Some(c) = g.scheduled_start_configuration.as_mut() {
                    c.start_time = "25:00".into();
                }
            });
        let problem = stage.limits.gate_problem("The stage").unwrap();
        assert!(
            problem.starts_with("The stage: ") && problem.contains("25:00"),
            "{problem}"
        );
        stage
            .limits
            .set_gate(Timing::Before, GateType::ScheduledStart, false);
        assert_eq!(stage.limits.gate_problem("The stage"), None);
        assert!(stage.limits.before_gates.is_empty());
    }

    #[test]
    fn custom_images_are_typed_as_a_list_and_checked_before_sending() {
        let mut upgrade = UpgradeChoice {
            scope: UpgradeType::NodeImageOnly,
            version: String::new(),
            images: NodeImageSelectionType::Custom,
            custom_images:
                " AKSUbuntu-2204gen2containerd-202410.01.0,\nAzureLinuxV2gen2-202401.01.0 ".into(),
            hops: Hops::None,
            defer_hours: String::new(),
        };
        let selection = upgrade.update().unwrap().node_image_selection;
        let named: Vec<String> = selection
            .custom_node_image_versions
            .iter()
            .map(|c| c.version.to_string())
            .collect();
        assert_eq!(
            named,
            [
                "AKSUbuntu-2204gen2containerd-202410.01.0",
                "AzureLinuxV2gen2-202401.01.0"
            ]
        );
        upgrade.custom_images =
            "AKSUbuntu-2204gen2containerd-202410.01.0 AKSUbuntu-2204gen2containerd-202409.01.0"
                .into();
        assert!(upgrade.update().unwrap_err().contains("gives two"));
        upgrade.custom_images = "newest".into();
        assert!(
            upgrade
                .update()
                .unwrap_err()
                .contains("not a node image version")
        );
        upgrade.custom_images.clear();
        assert!(
            upgrade
                .update()
                .unwrap_err()
                .contains("at least one node image")
        );
        upgrade.scope = UpgradeType::ControlPlaneOnly;
        upgrade.version = "1.30.5".into();
        assert_eq!(
            upgrade.update().unwrap().node_image_selection,
            NodeImageSelection::default(),
            "a control-plane-only run names no images"
        );
    }

    #[test]
    fn the_wait_for_availability_is_typed_in_hours_and_bounded_to_thirty_days() {
        let mut upgrade = UpgradeChoice {
            scope: UpgradeType::Full,
            version: "1.30.5".into(),
            images: NodeImageSelectionType::Latest,
            custom_images: String::new(),
            hops: Hops::None,
            defer_hours: " ".into(),
        };
        let wait = |u: &UpgradeChoice| u.update().map(|m| m.defer_until_available);
        assert_eq!(wait(&upgrade), Ok(None), "empty: the run does not wait");
        upgrade.defer_hours = "1.5".into();
        assert_eq!(
            wait(&upgrade),
            Ok(Some(DeferUntilAvailable {
                max_wait_in_seconds: 5400
            }))
        );
        upgrade.defer_hours = "720".into();
        assert_eq!(
            wait(&upgrade).unwrap().unwrap().max_wait_in_seconds,
            DeferUntilAvailable::MAX_SECONDS
        );
        upgrade.defer_hours = "0.0001".into();
        assert_eq!(wait(&upgrade).unwrap().unwrap().max_wait_in_seconds, 1);
        for bad in ["0", "-2", "721", "six", "NaN", "inf"] {
            upgrade.defer_hours = bad.into();
            assert!(
                wait(&upgrade)
                    .unwrap_err()
                    .contains("at most 720 (30 days)"),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_request_matches_the_sequence_and_scope() {
        let upgrade = UpgradeChoice {
            scope: UpgradeType::NodeImageOnly,
            version: "1.30.5".into(),
            images: NodeImageSelectionType::Consistent,
            custom_images: String::new(),
            hops: Hops::None,
            defer_hours: String::new(),
        };
        let (request, spec) =
            run_request(Sequence::OneByOne, &Stages::default(), "", None, &upgrade).unwrap();
        assert_eq!(request.strategy, StrategySource::OneByOne);
        assert_eq!(
            spec.update.upgrade.kubernetes_version, None,
            "no version for images only"
        );
        let stored = example().strategy().unwrap();
        let (request, spec) = run_request(
            Sequence::CopyStrategy,
            &Stages::default(),
            "canary-first",
            Some(&stored),
            &UpgradeChoice {
                scope: UpgradeType::Full,
                ..upgrade.clone()
            },
        )
        .unwrap();
        assert_eq!(
            request.strategy,
            StrategySource::Stored("canary-first".into())
        );
        assert_eq!(spec.strategy, Some(stored));
        assert!(
            run_request(
                Sequence::CopyStrategy,
                &Stages::default(),
                "",
                None,
                &upgrade
            )
            .unwrap_err()
            .contains("Choose a strategy")
        );
    }
}
