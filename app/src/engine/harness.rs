//! A test harness for `decide`: a world of simulated clusters and a manual clock, driven by
//! explicit ticks, commands and reports. Whole staged runs take microseconds.

use super::*;
use crate::model::catalog::Catalog;
use crate::model::cluster::ClusterState;
use crate::model::member::ClusterResourceId;
use crate::model::names::MemberName;
use crate::model::run::{MemberState, RunEvent, UpdateRun};
use crate::model::time::Timestamp;
use std::collections::BTreeMap;

pub struct TestWorld {
    pub catalog: Catalog,
    pub clusters: BTreeMap<ClusterResourceId, ClusterState>,
    /// Clusters another run is upgrading, with who.
    pub holders: BTreeMap<ClusterResourceId, String>,
    /// Clusters the provider cannot observe for now, with why.
    pub unreachable: BTreeMap<ClusterResourceId, String>,
    /// What a placement run gives each member, by name (none: it waits).
    pub placement: BTreeMap<String, PlacementAction>,
}

impl World for TestWorld {
    fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn observe(&self, cluster: &ClusterResourceId) -> Result<ClusterState, Unobservable> {
        if let Some(message) = self.unreachable.get(cluster) {
            return Err(Unobservable::for_now(message.clone()));
        }
        self.clusters
            .get(cluster)
            .cloned()
            .ok_or_else(|| Unobservable::for_good(format!("cluster {cluster} does not exist")))
    }

    fn holder(&self, cluster: &ClusterResourceId) -> Option<String> {
        self.holders.get(cluster).cloned()
    }

    fn placement_action(&self, member: &MemberName) -> PlacementAction {
        self.placement
            .get(member.as_str())
            .cloned()
            .unwrap_or_else(|| PlacementAction::Wait {
                reason: "the placement has not been read yet".into(),
            })
    }
}

impl TestWorld {
    /// What a provider does on success: the cluster now runs the target.
    pub fn apply(&mut self, cluster: &ClusterResourceId, target: &UpgradeTarget) {
        if let Some(state) = self.clusters.get_mut(cluster) {
            target.apply_to(state);
        }
    }
}

pub struct Harness {
    pub run: UpdateRun,
    pub world: TestWorld,
    pub now: Timestamp,
    pub cfg: EngineConfig,
    pub events: Vec<RunEvent>,
    pub effects: Vec<Effect>,
    pub wake_at: Option<Timestamp>,
    /// Kept across decisions as the runtime keeps it: settled after each one that stands.
    pub places: Places,
}

impl Harness {
    pub fn new(fleet: &FleetSnapshot, spec: RunSpec, now: Timestamp) -> Self {
        let cfg = EngineConfig::default();
        let (run, _) =
            create_run("run-1", "uid-run-1", fleet, spec, now, &cfg).expect("the run is valid");
        let clusters = fleet
            .members
            .iter()
            .filter_map(|m| Some((m.cluster_resource_id.clone(), m.cluster.clone().ok()?)))
            .collect();
        let world = TestWorld {
            catalog: fleet.catalog.clone(),
            clusters,
            holders: BTreeMap::new(),
            unreachable: BTreeMap::new(),
            placement: BTreeMap::new(),
        };
        Self {
            places: Places::of(&run),
            run,
            world,
            now,
            cfg,
            events: Vec::new(),
            effects: Vec::new(),
            wake_at: None,
        }
    }

    /// Decides in place, as the runtime does (the properties compare it with [`decide`]).
    pub fn input(&mut self, input: Input) -> Result<Reply, Rejection> {
        let decided = decide_in_place(
            &mut self.run,
            &self.places,
            input,
            self.now,
            &self.world,
            &self.cfg,
        )?;
        let changed = decided.changed.iter().map(|(place, _)| *place);
        self.places.settle(&self.run, changed);
        self.events.extend(decided.events);
        self.effects.extend(decided.effects);
        self.wake_at = decided.wake_at;
        Ok(decided.reply)
    }

    pub fn command(&mut self, command: Command) -> Result<Reply, Rejection> {
        self.input(Input::Command(command))
    }

    pub fn start(&mut self) -> Reply {
        self.command(Command::Start).expect("start is allowed")
    }

    pub fn tick(&mut self) {
        self.input(Input::Tick).expect("a tick is always accepted");
    }

    pub fn advance(&mut self, ms: i64) {
        self.now = self.now.plus_millis(ms);
        self.tick();
    }

    /// Jumps to the decision's wake-up time and ticks.
    pub fn wake(&mut self) {
        let at = self.wake_at.expect("the run asked to be woken");
        self.now = self.now.max(at);
        self.tick();
    }

    pub fn in_flight(&self) -> Vec<String> {
        self.run
            .members()
            .filter(|m| m.state.in_flight())
            .map(|m| m.name.to_string())
            .collect()
    }

    fn attempt_of(&self, member: &str) -> (u32, UpgradeTarget, ClusterResourceId) {
        let m = self
            .run
            .members()
            .find(|m| m.name.as_str() == member)
            .expect("a member of the run");
        match &m.state {
            MemberState::Upgrading {
                attempt, target, ..
            } => (*attempt, target.clone(), m.cluster_resource_id.clone()),
            other => panic!("{member} is not upgrading: {other:?}"),
        }
    }

    pub fn complete(&mut self, member: &str) -> Reply {
        let (attempt, target, cluster) = self.attempt_of(member);
        self.world.apply(&cluster, &target);
        let outcome = Outcome::Succeeded;
        self.input(Input::Report {
            member: MemberName::parse(member).unwrap(),
            attempt,
            outcome,
        })
        .unwrap()
    }

    pub fn fail(&mut self, member: &str, message: &str) -> Reply {
        let (attempt, ..) = self.attempt_of(member);
        let outcome = Outcome::Failed {
            message: message.into(),
        };
        self.input(Input::Report {
            member: MemberName::parse(member).unwrap(),
            attempt,
            outcome,
        })
        .unwrap()
    }

    /// Completes whatever is in flight, waking for windows and waits, until the run settles.
    pub fn run_to_end(&mut self) {
        for _ in 0..10_000 {
            match self.in_flight().first() {
                Some(member) => {
                    let member = member.clone();
                    self.complete(&member);
                }
                None if self.wake_at.is_some() => self.wake(),
                None => return,
            }
        }
        panic!("the run did not settle");
    }

    pub fn member_state(&self, member: &str) -> &MemberState {
        &self
            .run
            .members()
            .find(|m| m.name.as_str() == member)
            .expect("a member of the run")
            .state
    }

    /// The members in the order their upgrades started.
    pub fn start_order(&self) -> Vec<String> {
        self.effects
            .iter()
            .map(|e| match e {
                Effect::StartUpgrade { member, .. } => member.to_string(),
            })
            .collect()
    }
}
