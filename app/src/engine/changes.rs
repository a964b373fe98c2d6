//! Deciding on a large run in place. A decision touches a few members of a run that may hold
//! 100,000; copying, comparing or searching the whole run on every decision would make each cost
//! as much as the run is large. So the runtime keeps its run and lets [`decide_in_place`] change
//! it: members are found through [`Places`], built once (the layout never changes), which also
//! knows where each group's settled members end, so a scan of a group costs its open members
//! only (the runtime moves it on after each decision it keeps); every change to a member is
//! recorded with what it was, and [`Decided::undo`] puts the run back when the decision is not
//! committed. [`super::decide`] is the same decision on a copy.

use super::EngineConfig;
use super::decide::{Effect, Input, Rejection, Reply, World, apply};
use crate::model::gate::{GateRun, GateState};
use crate::model::names::MemberName;
use crate::model::run::{
    GroupRun, MemberRun, Place, RunEvent, StageRun, State, Subject, UpdateRun,
};
use crate::model::time::Timestamp;
use std::collections::{BTreeMap, HashMap};

/// Where each member of a run sits, by name, and where each group's members that may still
/// change begin: built once per run (its layout is fixed), moved on as members settle.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Places {
    by_name: HashMap<MemberName, Place>,
    /// Per stage, per group: how many of its first members are settled (completed or skipped,
    /// which nothing changes again). Scans of a group start after them, so a step of a wide
    /// run costs what is still open in its groups, not everything they ever held.
    settled: Vec<Vec<usize>>,
}

impl Places {
    pub fn of(run: &UpdateRun) -> Self {
        Self {
            by_name: run
                .placed()
                .map(|(place, member)| (member.name.clone(), place))
                .collect(),
            settled: run
                .stages
                .iter()
                .map(|stage| {
                    let prefix = |group: &GroupRun| settled_prefix(&group.members, 0);
                    stage.groups.iter().map(prefix).collect()
                })
                .collect(),
        }
    }

    /// Where `name` sits in `run`: from the index when it is right about `run`, else found by
    /// looking (an index made for another layout is never trusted).
    pub fn find(&self, run: &UpdateRun, name: &MemberName) -> Option<Place> {
        let indexed = self
            .by_name
            .get(name)
            .copied()
            .filter(|&place| run.member_at(place).is_some_and(|m| &m.name == name));
        indexed.or_else(|| {
            run.placed()
                .find(|(_, m)| &m.name == name)
                .map(|(place, _)| place)
        })
    }

    /// Where the members of group `g` of stage `s` that may still change begin (`group` is
    /// that group): every member before is settled. 0 when the index does not fit the group
    /// (made for another layout, or none made): its last settled member must be one.
    pub fn open_from(&self, (s, g): (usize, usize), group: &GroupRun) -> usize {
        let from = self
            .settled
            .get(s)
            .and_then(|groups| groups.get(g))
            .copied()
            .unwrap_or(0);
        match from.checked_sub(1).map(|last| group.members.get(last)) {
            Some(Some(member)) if member.state.is_done() => from,
            Some(_) | None => 0,
        }
    }

    /// Moves the groups of the members at `changed` past those now settled. Only for changes
    /// that stay (a decision committed): a member settled by a decision then undone would be
    /// skipped while it is open again.
    pub fn settle(&mut self, run: &UpdateRun, changed: impl IntoIterator<Item = Place>) {
        for (s, g, _) in changed {
            let group = run.stages.get(s).and_then(|stage| stage.groups.get(g));
            let cursor = self.settled.get_mut(s).and_then(|groups| groups.get_mut(g));
            if let (Some(group), Some(cursor)) = (group, cursor) {
                *cursor = settled_prefix(&group.members, *cursor);
            }
        }
    }
}

/// How many of `members`' first are settled, knowing the first `from` are.
fn settled_prefix(members: &[MemberRun], from: usize) -> usize {
    let from = from.min(members.len());
    from + members[from..]
        .iter()
        .take_while(|m| m.state.is_done())
        .count()
}

/// The members of a group that may still change (see [`Places::open_from`]), with their index.
pub(super) fn open_members<'g>(
    places: &Places,
    place: (usize, usize),
    group: &'g GroupRun,
) -> impl Iterator<Item = (usize, &'g MemberRun)> {
    let from = places.open_from(place, group);
    group.members.iter().enumerate().skip(from)
}

/// How many of a group's members are upgrading now (none of the settled ones is).
pub(super) fn group_in_flight(places: &Places, place: (usize, usize), group: &GroupRun) -> usize {
    open_members(places, place, group)
        .filter(|(_, m)| m.state.in_flight())
        .count()
}

/// The members a decision touched, with what each was before its first change.
#[derive(Debug, Default)]
pub(super) struct Touched(BTreeMap<Place, MemberRun>);

impl Touched {
    /// Records `member` (at `place`) as it is, unless it was recorded already: call before
    /// changing it.
    pub fn note(&mut self, place: Place, member: &MemberRun) {
        self.0.entry(place).or_insert_with(|| member.clone());
    }
}

/// A decision made in place: the run the caller holds has changed.
#[derive(Debug)]
pub struct Decided {
    pub reply: Reply,
    pub effects: Vec<Effect>,
    pub events: Vec<RunEvent>,
    /// The earliest time something will change by itself (a window opens, a wait ends).
    pub wake_at: Option<Timestamp>,
    /// The members the decision changed, in place order, each with what it was before.
    pub changed: Vec<(Place, MemberRun)>,
    /// The run as it was, without its members.
    before: UpdateRun,
}

impl Decided {
    /// Whether anything outside the members changed: the run's, a stage's or a group's state,
    /// a gate, a wait.
    pub fn changed_outside_members(&self, run: &UpdateRun) -> bool {
        !same_outside_members(&self.before, run)
    }

    /// Whether the decision changed nothing at all (and said nothing).
    pub fn changed_nothing(&self, run: &UpdateRun) -> bool {
        self.events.is_empty() && self.changed.is_empty() && !self.changed_outside_members(run)
    }

    /// How long each gate the decision approved had waited (fleet milliseconds, from the run
    /// reaching it): for the runtime's metrics.
    pub fn approval_waits(&self, run: &UpdateRun) -> Vec<i64> {
        gates(&self.before)
            .zip(gates(run))
            .filter_map(|(was, now)| match (&was.state, &now.state) {
                (
                    GateState::Pending {
                        reached_at: Some(reached),
                        ..
                    },
                    GateState::Completed {
                        at,
                        approval: Some(_),
                    },
                ) => Some(at.millis() - reached.millis()),
                _ => None,
            })
            .collect()
    }

    /// The places of the members whose upgrade the decision ended (they were upgrading and are
    /// not, or are on another attempt): their clusters' leases go back.
    pub fn ended(&self, run: &UpdateRun) -> Vec<Place> {
        self.changed
            .iter()
            .filter(|(place, was)| {
                was.state.in_flight()
                    && run
                        .member_at(*place)
                        .is_none_or(|now| now.state != was.state)
            })
            .map(|(place, _)| *place)
            .collect()
    }

    /// Puts `run` back as it was before the decision.
    pub fn undo(self, run: &mut UpdateRun) {
        restore(run, self.before, self.changed);
    }
}

/// [`super::decide`], changing `run` in place: on a rejection the run is left as it was.
pub fn decide_in_place(
    run: &mut UpdateRun,
    places: &Places,
    input: Input,
    now: Timestamp,
    world: &dyn World,
    cfg: &EngineConfig,
) -> Result<Decided, Rejection> {
    let before = without_members(run);
    let (result, work) = apply(run, places, input, now, world, cfg);
    let mut touched = work.touched.0;
    let changed: Vec<(Place, MemberRun)> = {
        touched.retain(|&place, was| run.member_at(place) != Some(was));
        touched.into_iter().collect()
    };
    let mut events = work.events;
    name_places_of_member_events(run, places, &changed, &mut events);
    match result {
        Ok(reply) => Ok(Decided {
            reply,
            effects: work.effects,
            events,
            wake_at: work.wake_at,
            changed,
            before,
        }),
        Err(rejection) => {
            restore(run, before, changed);
            Err(rejection)
        }
    }
}

/// Says on each member event the member's group and the state it left, so whoever follows the
/// events (a run page, a webhook) can keep per-group counts without reading the run: the state
/// before the decision for a member's first event, the one its event before said for the next.
fn name_places_of_member_events(
    run: &UpdateRun,
    places: &Places,
    changed: &[(Place, MemberRun)],
    events: &mut [RunEvent],
) {
    let mut states: HashMap<&MemberName, State> = changed
        .iter()
        .map(|(_, was)| (&was.name, was.state.public()))
        .collect();
    for event in events {
        let Subject::Member(name) = &event.subject else {
            continue;
        };
        let Some(place) = places.find(run, name) else {
            continue;
        };
        let Some(member) = run.member_at(place) else {
            continue;
        };
        let previous = states.get(&member.name).copied();
        event.previous = Some(previous.unwrap_or_else(|| member.state.public()));
        event.group = Some(run.stages[place.0].groups[place.1].name.clone());
        states.insert(&member.name, event.state);
    }
}

/// Every gate of the run, in a fixed order (stages' then their groups').
fn gates(run: &UpdateRun) -> impl Iterator<Item = &GateRun> {
    run.stages.iter().flat_map(|stage| {
        let groups = stage
            .groups
            .iter()
            .flat_map(|g| g.before_gates.iter().chain(&g.after_gates));
        stage
            .before_gates
            .iter()
            .chain(&stage.after_gates)
            .chain(groups)
    })
}

/// A copy of the run without its members (each group's list empty): as much as the run is
/// long in stages and groups, not in members.
fn without_members(run: &mut UpdateRun) -> UpdateRun {
    let lists = take_member_lists(run);
    let copy = run.clone();
    put_member_lists(run, lists);
    copy
}

fn take_member_lists(run: &mut UpdateRun) -> Vec<Vec<MemberRun>> {
    run.stages
        .iter_mut()
        .flat_map(|stage| stage.groups.iter_mut())
        .map(|group| std::mem::take(&mut group.members))
        .collect()
}

fn put_member_lists(run: &mut UpdateRun, lists: Vec<Vec<MemberRun>>) {
    let groups = run
        .stages
        .iter_mut()
        .flat_map(|stage| stage.groups.iter_mut());
    for (group, members) in groups.zip(lists) {
        group.members = members;
    }
}

/// `run` as `before` (a copy without members) with its members as they are, then the changed
/// members as they were.
fn restore(run: &mut UpdateRun, before: UpdateRun, changed: Vec<(Place, MemberRun)>) {
    let lists = take_member_lists(run);
    *run = before;
    put_member_lists(run, lists);
    for ((s, g, m), was) in changed {
        run.stages[s].groups[g].members[m] = was;
    }
}

/// Whether two runs are the same but for their members' lists. (Every field is named, so a new
/// one cannot be forgotten here.)
fn same_outside_members(without: &UpdateRun, run: &UpdateRun) -> bool {
    let UpdateRun {
        name,
        uid,
        update_strategy_id,
        auto_upgrade_profile_id,
        catch_up_of,
        hop,
        spec,
        state,
        stages,
        not_in_any_stage,
        selected_images,
        max_allowed_failures,
    } = without;
    *name == run.name
        && *uid == run.uid
        && *update_strategy_id == run.update_strategy_id
        && *auto_upgrade_profile_id == run.auto_upgrade_profile_id
        && *catch_up_of == run.catch_up_of
        && *hop == run.hop
        && *spec == run.spec
        && *state == run.state
        && *not_in_any_stage == run.not_in_any_stage
        && *selected_images == run.selected_images
        && *max_allowed_failures == run.max_allowed_failures
        && stages.len() == run.stages.len()
        && stages
            .iter()
            .zip(&run.stages)
            .all(|(a, b)| same_stage(a, b))
}

fn same_stage(without: &StageRun, stage: &StageRun) -> bool {
    let StageRun {
        name,
        after_stage_wait_in_seconds,
        groups,
        state,
        wait,
        limits,
        before_gates,
        after_gates,
    } = without;
    *name == stage.name
        && *after_stage_wait_in_seconds == stage.after_stage_wait_in_seconds
        && *state == stage.state
        && *wait == stage.wait
        && *limits == stage.limits
        && *before_gates == stage.before_gates
        && *after_gates == stage.after_gates
        && groups.len() == stage.groups.len()
        && groups
            .iter()
            .zip(&stage.groups)
            .all(|(a, b)| same_group(a, b))
}

fn same_group(without: &GroupRun, group: &GroupRun) -> bool {
    let GroupRun {
        name,
        members: _,
        state,
        limits,
        before_gates,
        after_gates,
    } = without;
    *name == group.name
        && *state == group.state
        && *limits == group.limits
        && *before_gates == group.before_gates
        && *after_gates == group.after_gates
}
