//! Scheduling a placement (issue 17): which members a policy picks, and why each one is in or
//! out, deterministically, so the browser's preview, the REST status and a rollout agree. Pure:
//! members come in as [`Candidate`]s with their labels, taints and properties.
//!
//! As KubeFleet schedules: PickFixed takes the members named (taints ignored). PickAll and PickN
//! first filter — taints must be tolerated, a required term must match, and a member lacking a
//! `DoNotSchedule` spread key is out. PickAll takes every member left. PickN scores what is left
//! (preferred terms' weights; a property sorter's weight scaled by where the member's value lies
//! between the lowest and the highest) and picks one member at a time: the best by spread score
//! (how far it would break `ScheduleAnyway` skews; a `DoNotSchedule` skew it would break rules it
//! out), then affinity score, then name.

use crate::model::cluster::ClusterState;
use crate::model::member::{Labels, Member};
use crate::model::placement::{
    ClusterSelector, ClusterSelectorTerm, KUBERNETES_VERSION_PROPERTY, LOCATION_LABEL,
    LabelSelector, NODE_COUNT_PROPERTY, PlacementPolicy, PlacementType, PropertyBound,
    PropertySelector, PropertyValue, SortOrder, Taint, TopologySpreadConstraint, WhenUnsatisfiable,
};
use crate::model::version::KubernetesVersion;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A member as scheduling sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    pub name: String,
    /// Its labels, with [`LOCATION_LABEL`](crate::model::placement::LOCATION_LABEL) added from
    /// the observed region.
    pub labels: Labels,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<KubernetesVersion>,
}

impl Candidate {
    /// A member as scheduling sees it: what its operator declared, and what was observed of
    /// its cluster (`None`: nothing, so its region and properties are unknown).
    pub fn of(member: &Member, observed: Option<&ClusterState>) -> Self {
        let mut labels = member.spec.labels.clone();
        if let Some(state) = observed {
            labels
                .entry(LOCATION_LABEL.to_owned())
                .or_insert_with(|| state.location.to_string());
        }
        Self {
            name: member.name.to_string(),
            labels,
            taints: member.spec.taints.clone(),
            node_count: observed.map(|s| s.node_pools.iter().map(|p| u64::from(p.count)).sum()),
            kubernetes_version: observed.map(|s| s.kubernetes_version),
        }
    }

    fn property(&self, name: &str) -> Option<PropertyValue> {
        match name {
            NODE_COUNT_PROPERTY => self.node_count.map(|n| PropertyValue::Number(n as f64)),
            KUBERNETES_VERSION_PROPERTY => self.kubernetes_version.map(PropertyValue::Version),
            _ => None,
        }
    }
}

/// Scores PickN ranks by: spread first (0, or less for each `ScheduleAnyway` skew broken),
/// then affinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlacementScore {
    pub affinity: i64,
    pub topology_spread: i64,
}

/// One member's outcome: picked or not, and the reasons in the order they were found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberDecision {
    pub name: String,
    pub selected: bool,
    /// PickN's ranking scores, for members that passed the filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<PlacementScore>,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlacementSchedule {
    /// Every member, by name.
    pub decisions: Vec<MemberDecision>,
    /// The picked members, in the order they were picked.
    pub selected: Vec<String>,
    /// PickFixed names that are not members of the fleet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// One sentence: how many were wanted and picked, and why any fewer.
    pub summary: String,
}

/// Schedules `policy` (already `checked`) over `candidates`.
pub fn schedule_placement(policy: &PlacementPolicy, candidates: &[Candidate]) -> PlacementSchedule {
    let mut sorted: Vec<&Candidate> = candidates.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    match policy.placement_type {
        PlacementType::PickFixed => pick_fixed(policy, &sorted),
        PlacementType::PickAll | PlacementType::PickN => pick_by_rules(policy, &sorted),
    }
}

fn pick_fixed(policy: &PlacementPolicy, candidates: &[&Candidate]) -> PlacementSchedule {
    let named: BTreeSet<&str> = policy.cluster_names.iter().map(String::as_str).collect();
    let known: BTreeSet<&str> = candidates.iter().map(|c| c.name.as_str()).collect();
    let decisions: Vec<MemberDecision> = candidates
        .iter()
        .map(|c| {
            let selected = named.contains(c.name.as_str());
            let reason = if selected {
                "named in clusterNames"
            } else {
                "not named in clusterNames"
            };
            decision(c, selected, None, vec![reason.into()])
        })
        .collect();
    let selected: Vec<String> = policy
        .cluster_names
        .iter()
        .filter(|n| known.contains(n.as_str()))
        .cloned()
        .collect();
    let missing: Vec<String> = policy
        .cluster_names
        .iter()
        .filter(|n| !known.contains(n.as_str()))
        .cloned()
        .collect();
    let summary = match missing.as_slice() {
        [] => format!("PickFixed: all {} named members picked", selected.len()),
        missing => format!(
            "PickFixed: {} of {} named members picked; not members of the fleet: {}",
            selected.len(),
            policy.cluster_names.len(),
            crate::model::names::in_brief(missing)
        ),
    };
    PlacementSchedule {
        decisions,
        selected,
        missing,
        summary,
    }
}

fn decision(
    candidate: &Candidate,
    selected: bool,
    score: Option<PlacementScore>,
    reasons: Vec<String>,
) -> MemberDecision {
    MemberDecision {
        name: candidate.name.clone(),
        selected,
        score,
        reasons,
    }
}

/// A member on its way through the filters and the scores.
struct Assessed<'a> {
    candidate: &'a Candidate,
    reasons: Vec<String>,
    /// `None` once a filter ruled it out.
    affinity: Option<i64>,
    topology: i64,
    selected: bool,
}

fn pick_by_rules(policy: &PlacementPolicy, candidates: &[&Candidate]) -> PlacementSchedule {
    let mut assessed: Vec<Assessed> = candidates
        .iter()
        .map(|candidate| filter(policy, candidate))
        .collect();
    score_affinity(policy, &mut assessed);
    let wanted = match policy.placement_type {
        PlacementType::PickN => policy.number_of_clusters.unwrap_or(0) as usize,
        _ => usize::MAX,
    };
    let selected = if policy.placement_type == PlacementType::PickAll {
        pick_all(&mut assessed)
    } else {
        pick_n(&policy.topology_spread_constraints, &mut assessed, wanted)
    };
    let eligible = assessed.iter().filter(|a| a.affinity.is_some()).count();
    let summary = summary(policy, candidates.len(), eligible, selected.len());
    let picked_n = policy.placement_type == PlacementType::PickN;
    let decisions = assessed
        .into_iter()
        .map(|a| {
            let score = a
                .affinity
                .filter(|_| picked_n)
                .map(|affinity| PlacementScore {
                    affinity,
                    topology_spread: a.topology,
                });
            decision(a.candidate, a.selected, score, a.reasons)
        })
        .collect();
    PlacementSchedule {
        decisions,
        selected,
        missing: Vec::new(),
        summary,
    }
}

fn summary(policy: &PlacementPolicy, members: usize, eligible: usize, picked: usize) -> String {
    let passed = format!("{eligible} of {members} members pass the filters");
    match (policy.placement_type, policy.number_of_clusters) {
        (PlacementType::PickN, Some(wanted)) if picked < wanted as usize => format!(
            "PickN: {picked} of {wanted} wanted picked; {passed}{}",
            if picked < eligible {
                " and the spread constraints allow no more"
            } else {
                ""
            }
        ),
        (PlacementType::PickN, Some(wanted)) => format!("PickN: {wanted} picked; {passed}"),
        _ => format!("PickAll: {picked} picked; {passed}"),
    }
}

/// Taints, required terms and `DoNotSchedule` keys: whether the member stays in, and why.
fn filter<'a>(policy: &PlacementPolicy, candidate: &'a Candidate) -> Assessed<'a> {
    let mut assessed = Assessed {
        candidate,
        reasons: Vec::new(),
        affinity: Some(0),
        topology: 0,
        selected: false,
    };
    let out = |assessed: &mut Assessed, reason: String| {
        assessed.reasons.push(reason);
        assessed.affinity = None;
    };
    if let Some(taint) = candidate
        .taints
        .iter()
        .find(|taint| !policy.tolerations.iter().any(|t| t.tolerates(taint)))
    {
        out(&mut assessed, format!("does not tolerate taint {taint}"));
        return assessed;
    }
    if let Some(required) = policy.required() {
        let terms = &required.cluster_selector_terms;
        match terms
            .iter()
            .position(|term| term_mismatch(term, candidate).is_none())
        {
            Some(i) => assessed
                .reasons
                .push(format!("matches required term {}", i + 1)),
            None => {
                let why: Vec<String> = terms
                    .iter()
                    .enumerate()
                    .map(|(i, term)| {
                        format!(
                            "term {}: {}",
                            i + 1,
                            term_mismatch(term, candidate).unwrap_or_default()
                        )
                    })
                    .collect();
                out(
                    &mut assessed,
                    format!("matches no required term ({})", why.join("; ")),
                );
                return assessed;
            }
        }
    }
    for constraint in &policy.topology_spread_constraints {
        let key = &constraint.topology_key;
        if constraint.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule
            && !candidate.labels.contains_key(key)
        {
            out(
                &mut assessed,
                format!("has no {key} label, which a DoNotSchedule spread over it needs"),
            );
            return assessed;
        }
    }
    assessed
}

/// Whether a member matches one of `selector`'s terms (how overrides pick members).
pub(crate) fn selector_matches(selector: &ClusterSelector, candidate: &Candidate) -> bool {
    selector
        .cluster_selector_terms
        .iter()
        .any(|term| term_mismatch(term, candidate).is_none())
}

/// Why `term` does not match the member, or `None` when it does.
fn term_mismatch(term: &ClusterSelectorTerm, candidate: &Candidate) -> Option<String> {
    if let Some(labels) = &term.label_selector
        && let Some(why) = labels_mismatch(labels, &candidate.labels)
    {
        return Some(why);
    }
    term.property_selector
        .as_ref()
        .and_then(|properties| properties_mismatch(properties, candidate))
}

fn labels_mismatch(selector: &LabelSelector, labels: &Labels) -> Option<String> {
    let unmet = selector
        .requirements()
        .into_iter()
        .find(|requirement| !requirement.matches(labels))?;
    let has = match labels.get(&unmet.key) {
        Some(value) => format!("{}={value}", unmet.key),
        None => format!("no {} label", unmet.key),
    };
    Some(format!("wants {unmet}, has {has}"))
}

fn properties_mismatch(selector: &PropertySelector, candidate: &Candidate) -> Option<String> {
    selector.match_expressions.iter().find_map(|requirement| {
        let text = requirement.values.first()?;
        let bound = PropertyBound::parse(&requirement.name, text).ok()?;
        let wants = format!(
            "{} {} {text}",
            requirement.name,
            requirement.operator.symbol()
        );
        let Some(value) = candidate.property(&requirement.name) else {
            return Some(format!(
                "wants {wants}, its {} is not known",
                requirement.name
            ));
        };
        let holds = bound
            .compare(value)
            .is_some_and(|ordering| requirement.operator.holds(ordering));
        (!holds).then(|| format!("wants {wants}, has {}", show(value)))
    })
}

fn show(value: PropertyValue) -> String {
    match value {
        PropertyValue::Number(n) => n.to_string(),
        PropertyValue::Version(v) => v.to_string(),
    }
}

/// Adds each preferred term's score to the members that passed the filters.
fn score_affinity(policy: &PlacementPolicy, assessed: &mut [Assessed]) {
    let preferred = policy.preferred();
    for (i, preferred) in preferred.iter().enumerate() {
        let term = &preferred.preference;
        let range = term
            .property_sorter
            .as_ref()
            .and_then(|sorter| value_range(&sorter.name, assessed));
        for one in assessed.iter_mut().filter(|a| a.affinity.is_some()) {
            if term_mismatch(term, one.candidate).is_some() {
                continue;
            }
            let points = match (&term.property_sorter, range) {
                (None, _) => i64::from(preferred.weight),
                (Some(sorter), Some((low, high))) => {
                    let Some(value) = one.candidate.property(&sorter.name).map(number) else {
                        continue;
                    };
                    let share = if high > low {
                        (value - low) / (high - low)
                    } else {
                        1.0
                    };
                    let share = match sorter.sort_order {
                        SortOrder::Descending => share,
                        SortOrder::Ascending => 1.0 - share,
                    };
                    (f64::from(preferred.weight) * share).trunc() as i64
                }
                (Some(_), None) => continue,
            };
            if let Some(affinity) = one.affinity.as_mut() {
                *affinity += points;
            }
            one.reasons
                .push(format!("preferred term {} adds {points}", i + 1));
        }
    }
}

/// A property's value as a number for sorting: versions by minor, then patch.
fn number(value: PropertyValue) -> f64 {
    match value {
        PropertyValue::Number(n) => n,
        PropertyValue::Version(v) => {
            f64::from(v.major) * 1e6 + f64::from(v.minor) * 1e3 + f64::from(v.patch)
        }
    }
}

/// The lowest and highest value of `property` among the members still in.
fn value_range(property: &str, assessed: &[Assessed]) -> Option<(f64, f64)> {
    assessed
        .iter()
        .filter(|a| a.affinity.is_some())
        .filter_map(|a| a.candidate.property(property).map(number))
        .fold(None, |range, v| match range {
            None => Some((v, v)),
            Some((low, high)) => Some((f64::min(low, v), f64::max(high, v))),
        })
}

fn pick_all(assessed: &mut [Assessed]) -> Vec<String> {
    let mut selected = Vec::new();
    for one in assessed.iter_mut().filter(|a| a.affinity.is_some()) {
        one.selected = true;
        one.reasons
            .push("picked: PickAll takes every member that passes".into());
        selected.push(one.candidate.name.clone());
    }
    selected
}

/// How many members each value of each spread key has among the picked, over every value the
/// eligible members have.
struct Spread<'c> {
    constraints: &'c [TopologySpreadConstraint],
    counts: Vec<BTreeMap<String, usize>>,
}

/// What picking a member would do to the spread: blocked by a `DoNotSchedule` constraint (with
/// why), or how far past `ScheduleAnyway` skews it goes.
enum SpreadEffect {
    Blocked(String),
    Penalty(i64),
}

impl<'c> Spread<'c> {
    fn new(constraints: &'c [TopologySpreadConstraint], assessed: &[Assessed]) -> Self {
        let counts = constraints
            .iter()
            .map(|c| {
                assessed
                    .iter()
                    .filter(|a| a.affinity.is_some())
                    .filter_map(|a| a.candidate.labels.get(&c.topology_key))
                    .map(|value| (value.clone(), 0))
                    .collect()
            })
            .collect();
        Self {
            constraints,
            counts,
        }
    }

    fn effect(&self, candidate: &Candidate) -> SpreadEffect {
        let mut penalty = 0;
        for (constraint, counts) in self.constraints.iter().zip(&self.counts) {
            let key = &constraint.topology_key;
            let Some(value) = candidate.labels.get(key) else {
                continue;
            };
            let after = counts[value] + 1;
            let lowest = counts
                .iter()
                .map(|(v, n)| if v == value { after } else { *n })
                .min()
                .unwrap_or(after);
            let skew = after - lowest;
            let allowed = constraint.skew_allowed() as usize;
            if skew <= allowed {
                continue;
            }
            if constraint.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule {
                return SpreadEffect::Blocked(format!(
                    "picking it would put {after} in {key}={value} against {lowest} elsewhere (maxSkew {allowed})"
                ));
            }
            penalty += (skew - allowed) as i64;
        }
        SpreadEffect::Penalty(-penalty)
    }

    fn add(&mut self, candidate: &Candidate) {
        for (constraint, counts) in self.constraints.iter().zip(&mut self.counts) {
            if let Some(value) = candidate.labels.get(&constraint.topology_key) {
                *counts.entry(value.clone()).or_default() += 1;
            }
        }
    }

    /// The member's domain under every constraint: members of one domain are interchangeable
    /// for the spread, so only the best of each needs weighing at a step.
    fn domain(&self, candidate: &Candidate) -> Vec<Option<String>> {
        self.constraints
            .iter()
            .map(|c| candidate.labels.get(&c.topology_key).cloned())
            .collect()
    }
}

fn pick_n(
    constraints: &[TopologySpreadConstraint],
    assessed: &mut [Assessed],
    wanted: usize,
) -> Vec<String> {
    let mut spread = Spread::new(constraints, assessed);
    // Eligible members by domain, best affinity first (then name: `assessed` is by name).
    let mut order: Vec<usize> = (0..assessed.len())
        .filter(|&i| assessed[i].affinity.is_some())
        .collect();
    order.sort_by_key(|&i| std::cmp::Reverse(assessed[i].affinity));
    let mut queues: BTreeMap<Vec<Option<String>>, VecDeque<usize>> = BTreeMap::new();
    for i in order {
        queues
            .entry(spread.domain(assessed[i].candidate))
            .or_default()
            .push_back(i);
    }
    let mut selected = Vec::new();
    while selected.len() < wanted {
        let best = queues
            .values()
            .filter_map(|queue| queue.front().copied())
            .filter_map(|i| match spread.effect(assessed[i].candidate) {
                SpreadEffect::Penalty(topology) => Some((topology, i)),
                SpreadEffect::Blocked(_) => None,
            })
            .max_by(|(ta, a), (tb, b)| {
                (ta, assessed[*a].affinity)
                    .cmp(&(tb, assessed[*b].affinity))
                    .then_with(|| {
                        assessed[*b]
                            .candidate
                            .name
                            .cmp(&assessed[*a].candidate.name)
                    })
            });
        let Some((topology, i)) = best else { break };
        let key = spread.domain(assessed[i].candidate);
        queues.get_mut(&key).map(VecDeque::pop_front);
        spread.add(assessed[i].candidate);
        let one = &mut assessed[i];
        one.selected = true;
        one.topology = topology;
        selected.push(one.candidate.name.clone());
        one.reasons
            .push(format!("picked {} of {wanted}", selected.len()));
    }
    explain_not_picked(&spread, assessed, wanted, selected.len());
    selected
}

fn explain_not_picked(spread: &Spread, assessed: &mut [Assessed], wanted: usize, picked: usize) {
    for one in assessed
        .iter_mut()
        .filter(|a| a.affinity.is_some() && !a.selected)
    {
        let reason = match spread.effect(one.candidate) {
            SpreadEffect::Blocked(why) if picked < wanted => format!("not picked: {why}"),
            effect => {
                if let SpreadEffect::Penalty(topology) = effect {
                    one.topology = topology;
                }
                format!("not picked: the {wanted} wanted were picked first, by score then name")
            }
        };
        one.reasons.push(reason);
    }
}

#[cfg(test)]
#[path = "placement_tests.rs"]
mod tests;
