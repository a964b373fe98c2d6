//! What is wrong with the form, field by field, checked in the browser before anything is sent,
//! in the words of the form (not of the API); and which field a server's refusal concerns, so
//! its message shows there too.

use super::draft::{LevelDraft, Sequence, StageDraft, Stages, UpgradeChoice, optional};
use crate::model::limits::MaxAllowedFailures;
use crate::model::names::{RunName, StageName, StrategyName};
use crate::model::update::{NodeImageSelectionType, UpgradeType};
use std::collections::{BTreeMap, BTreeSet};

/// A field of the form; stages' fields by their key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    RunName,
    CopyFrom,
    Version,
    /// The stages as a whole (none yet, or a refusal about the strategy).
    Stages,
    StageName(u64),
    StageWait(u64),
    StageGroups(u64),
    /// A stage's or one of its groups' `maxConcurrency` / `maxAllowedFailures`.
    StageLimits(u64),
    StageSelector(u64),
    StageGates(u64),
    CustomImages,
    DeferHours,
    RunFailures,
    StrategyName,
}

pub type Problems = BTreeMap<Field, String>;

/// The rule for a name, as a person reads it.
fn name_rule(what: &str, text: &str, max: usize, valid: bool) -> Option<String> {
    if text.trim().is_empty() {
        return Some(format!("Give the {what} a name."));
    }
    (!valid).then(|| {
        format!(
            "Use 1 to {max} lower-case letters, digits and '-', starting and ending with a letter or digit."
        )
    })
}

/// Each stage's name, wait and groups.
pub fn stage_problems(stages: &Stages) -> Problems {
    let mut problems = Problems::new();
    if stages.stages.is_empty() {
        problems.insert(Field::Stages, "Add at least one stage.".into());
    }
    let mut seen = BTreeSet::new();
    for stage in &stages.stages {
        let name = stage.name.trim();
        let valid = StageName::parse(name).is_ok();
        if let Some(why) = name_rule("stage", name, StageName::MAX_LEN, valid) {
            problems.insert(Field::StageName(stage.key), why);
        } else if !seen.insert(name) {
            problems.insert(
                Field::StageName(stage.key),
                format!("Another stage is already called {name}."),
            );
        }
        if let Err(why) = stage.wait_seconds() {
            problems.insert(Field::StageWait(stage.key), why);
        }
        let selector = stage.limits.selector();
        if let Err(why) = &selector {
            problems.insert(
                Field::StageSelector(stage.key),
                format!("Members by label: {why}."),
            );
        }
        if stage.groups.is_empty() && matches!(selector, Ok(None)) {
            problems.insert(
                Field::StageGroups(stage.key),
                "Pick at least one update group, or choose members by label.".into(),
            );
        }
        if let Some(why) = limit_problem(stage) {
            problems.insert(Field::StageLimits(stage.key), why);
        }
        if let Some(why) = gate_problem(stage) {
            problems.insert(Field::StageGates(stage.key), why);
        }
    }
    if optional(&stages.run_failures, MaxAllowedFailures::parse).is_err() {
        problems.insert(Field::RunFailures, FAILURES_RULE.into());
    }
    problems
}

const CONCURRENCY_RULE: &str = "a whole number from 1, or a percentage from 1% to 100%";
const FAILURES_RULE: &str =
    "Failures allowed: a whole number from 0, or a percentage from 0% to 100%.";

/// What is wrong with a stage's gates or those of its chosen groups.
fn gate_problem(stage: &StageDraft) -> Option<String> {
    stage.limits.gate_problem("The stage").or_else(|| {
        stage.groups.iter().find_map(|g| {
            let level = stage.group_limits.get(g)?;
            level.gate_problem(&format!("Group {g}"))
        })
    })
}

/// What is wrong with a stage's limits or those of its chosen groups, in the form's words.
fn limit_problem(stage: &StageDraft) -> Option<String> {
    let check = |whose: &str, limits: &LevelDraft| {
        if limits.concurrency().is_err() {
            return Some(format!("{whose}: at once takes {CONCURRENCY_RULE}."));
        }
        if let Err(why) = limits.selector() {
            return Some(format!("{whose}: members by label: {why}."));
        }
        limits
            .failures()
            .is_err()
            .then(|| format!("{whose}: {}", FAILURES_RULE.to_lowercase()))
    };
    check("The stage", &stage.limits).or_else(|| {
        stage.groups.iter().find_map(|g| {
            let limits = stage.group_limits.get(g)?;
            check(&format!("Group {g}"), limits)
        })
    })
}

/// Everything Create needs: a run name, a version when the scope takes one, and the stages
/// (or the strategy to copy) the sequence asks for.
pub fn run_problems(
    run_name: &str,
    sequence: Sequence,
    stages: &Stages,
    copy_from: &str,
    upgrade: &UpgradeChoice,
) -> Problems {
    let mut problems = match sequence {
        Sequence::Stages => stage_problems(stages),
        Sequence::OneByOne | Sequence::CopyStrategy => Problems::new(),
    };
    let valid = RunName::parse(run_name.trim()).is_ok();
    if let Some(why) = name_rule("run", run_name, RunName::MAX_LEN, valid) {
        problems.insert(Field::RunName, why);
    }
    if sequence == Sequence::CopyStrategy && copy_from.is_empty() {
        problems.insert(Field::CopyFrom, "Choose a strategy to copy.".into());
    }
    let needs_version = upgrade.scope != UpgradeType::NodeImageOnly;
    if needs_version && upgrade.version.trim().is_empty() {
        problems.insert(Field::Version, "Pick a Kubernetes version.".into());
    }
    let names_images = upgrade.scope != UpgradeType::ControlPlaneOnly
        && upgrade.images == NodeImageSelectionType::Custom;
    if let (true, Err(why)) = (names_images, upgrade.custom_versions()) {
        problems.insert(Field::CustomImages, why);
    }
    if let Err(why) = upgrade.defer_until_available() {
        problems.insert(Field::DeferHours, why);
    }
    problems
}

/// Everything Save needs: a strategy name and the stages.
pub fn strategy_problems(name: &str, stages: &Stages) -> Problems {
    let mut problems = stage_problems(stages);
    let valid = StrategyName::parse(name.trim()).is_ok();
    if let Some(why) = name_rule("strategy", name, StrategyName::MAX_LEN, valid) {
        problems.insert(Field::StrategyName, why);
    }
    problems
}

/// The field a server's refusal (by its code) concerns, if one does.
pub fn field_of(code: &str) -> Option<Field> {
    match code {
        "InvalidUpdateRunName" | "UpdateRunAlreadyExists" => Some(Field::RunName),
        "KubernetesVersionNotOffered" | "InvalidUpgrade" => Some(Field::Version),
        "InvalidStrategy" | "UnknownUpdateGroup" => Some(Field::Stages),
        "StrategyNotFound" | "InvalidUpdateStrategyId" => Some(Field::CopyFrom),
        "InvalidStrategyName" | "StrategyAlreadyExists" => Some(Field::StrategyName),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::update::{Hops, NodeImageSelectionType};

    fn upgrade(scope: UpgradeType, version: &str) -> UpgradeChoice {
        UpgradeChoice {
            scope,
            version: version.into(),
            images: NodeImageSelectionType::Latest,
            custom_images: String::new(),
            hops: Hops::None,
            defer_hours: String::new(),
        }
    }

    #[test]
    fn each_problem_is_told_at_its_field_in_the_forms_words() {
        let mut stages = Stages::default();
        stages.add();
        stages.add();
        let (first, second) = (stages.stages[0].key, stages.stages[1].key);
        stages.edit(first, |s| {
            s.wait = "soon".into();
            s.groups.push("g1".into());
        });
        stages.edit(second, |s| s.name = "stage-1".into());
        stages.edit_group_limits(first, "g1", |l| l.selector = "env in prod".into());
        let problems = run_problems(
            "",
            Sequence::Stages,
            &stages,
            "",
            &upgrade(UpgradeType::Full, ""),
        );
        assert_eq!(problems[&Field::RunName], "Give the run a name.");
        assert_eq!(problems[&Field::Version], "Pick a Kubernetes version.");
        assert!(problems[&Field::StageWait(first)].contains("whole number of minutes"));
        assert!(!problems.contains_key(&Field::StageGroups(first)));
        assert!(
            problems[&Field::StageLimits(first)].starts_with("Group g1: members by label: "),
            "{problems:?}"
        );
        assert_eq!(
            problems[&Field::StageName(second)],
            "Another stage is already called stage-1."
        );
        assert_eq!(
            problems[&Field::StageGroups(second)],
            "Pick at least one update group, or choose members by label."
        );
        assert!(
            problems
                .values()
                .all(|p| !p.contains("afterStageWaitInSeconds")),
            "no API field names"
        );
    }

    #[test]
    fn only_what_the_choices_need_is_asked_for() {
        let images_only = upgrade(UpgradeType::NodeImageOnly, "");
        let problems = run_problems(
            "r1",
            Sequence::OneByOne,
            &Stages::default(),
            "",
            &images_only,
        );
        assert!(problems.is_empty(), "{problems:?}");
        let problems = run_problems(
            "Bad Name",
            Sequence::CopyStrategy,
            &Stages::default(),
            "",
            &images_only,
        );
        assert!(problems[&Field::RunName].starts_with("Use 1 to 50 lower-case letters"));
        assert_eq!(problems[&Field::CopyFrom], "Choose a strategy to copy.");
        assert_eq!(
            strategy_problems("", &Stages::default())
                .keys()
                .collect::<Vec<_>>(),
            [&Field::Stages, &Field::StrategyName]
        );
    }

    #[test]
    fn a_servers_refusal_lands_at_the_field_it_concerns() {
        assert_eq!(field_of("UpdateRunAlreadyExists"), Some(Field::RunName));
        assert_eq!(field_of("StrategyAlreadyExists"), Some(Field::StrategyName));
        assert_eq!(field_of("UnknownUpdateGroup"), Some(Field::Stages));
        assert_eq!(field_of("InternalError"), None);
    }
}
