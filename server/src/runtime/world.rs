//! The engine's read-only view of the world for one decision: the merged catalog, the
//! observations made before deciding, and the cluster leases of other runs. A cluster the
//! decision looked at without an observation is noted (a miss): the runtime observes it and
//! decides again, rather than committing a decision made on nothing.

use super::observations::Observed;
use super::placing::RolloutPlan;
use app::engine::PlacementAction;
use app::engine::{Unobservable, World};
use app::model::catalog::Catalog;
use app::model::cluster::ClusterState;
use app::model::member::ClusterResourceId;
use app::model::names::MemberName;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

pub struct ObservedWorld {
    pub catalog: Arc<Catalog>,
    pub observed: HashMap<ClusterResourceId, Observed>,
    /// Clusters other runs are upgrading now, with who (read just before the decision; the
    /// store refuses to commit a decision that took one meanwhile).
    pub holders: Arc<HashMap<ClusterResourceId, String>>,
    /// `None` when no one will ask (a forecast): noting 100,000 misses costs more than the
    /// forecast itself.
    misses: Option<RefCell<BTreeSet<ClusterResourceId>>>,
    /// A placement run's plan (or why it could not be read).
    plan: Option<Result<Arc<RolloutPlan>, String>>,
}

impl ObservedWorld {
    pub fn new(
        catalog: Arc<Catalog>,
        observed: HashMap<ClusterResourceId, Observed>,
        holders: Arc<HashMap<ClusterResourceId, String>>,
    ) -> Self {
        Self {
            catalog,
            observed,
            holders,
            misses: Some(RefCell::new(BTreeSet::new())),
            plan: None,
        }
    }

    /// The world of a placement run, whose members are given what `plan` says.
    pub fn with_plan(self, plan: Option<Result<Arc<RolloutPlan>, String>>) -> Self {
        Self { plan, ..self }
    }

    /// A world for a forecast: what was observed, no leases of other runs, and no note of the
    /// clusters looked at without an observation (a forecast does not observe them and decide
    /// again; it counts them as not observable yet).
    pub fn for_forecast(
        catalog: Arc<Catalog>,
        observed: HashMap<ClusterResourceId, Observed>,
    ) -> Self {
        Self {
            misses: None,
            ..Self::new(catalog, observed, Arc::new(HashMap::new()))
        }
    }

    /// The clusters the decision wanted to look at but had no observation of.
    pub fn misses(&self) -> Vec<ClusterResourceId> {
        self.misses
            .as_ref()
            .map_or_else(Vec::new, |m| m.borrow().iter().cloned().collect())
    }
}

impl World for ObservedWorld {
    fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn observe(&self, cluster: &ClusterResourceId) -> Result<ClusterState, Unobservable> {
        match self.observed.get(cluster) {
            Some(Ok(state)) => Ok(ClusterState::clone(state)),
            Some(Err(error)) if error.is_transient() => {
                Err(Unobservable::for_now(error.to_string()))
            }
            Some(Err(error)) => Err(Unobservable::for_good(error.to_string())),
            None => {
                if let Some(misses) = &self.misses {
                    misses.borrow_mut().insert(cluster.clone());
                }
                Err(Unobservable::for_now(
                    "the provider has not observed it yet",
                ))
            }
        }
    }

    fn holder(&self, cluster: &ClusterResourceId) -> Option<String> {
        self.holders.get(cluster).cloned()
    }

    fn placement_action(&self, member: &MemberName) -> PlacementAction {
        match &self.plan {
            Some(Ok(plan)) => plan.action_of(member.as_str()),
            Some(Err(why)) => PlacementAction::Wait {
                reason: why.clone(),
            },
            None => PlacementAction::Wait {
                reason: "the placement has not been read yet".into(),
            },
        }
    }
}
