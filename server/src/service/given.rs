//! What a placement gives each member it picks: the newest snapshot of every resource it names,
//! changed by the fleet's overrides of that placement for that member. The status and the
//! rollout both read it from here, so what the status says a member is to hold is what the
//! rollout applies.

use super::{Drydock, store_error};
use crate::store::{PlacementStore, ResourceStore, StoredPlacement};
use app::engine::{
    Candidate, MemberTarget, NamedOverride, SnapshotSet, any_rule_picks, overridden,
};
use app::model::error::AppError;
use app::model::names::FleetName;
use app::model::resources::parse_manifests;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// The objects a placement carries now, before overrides.
pub(crate) struct Carried {
    pub snapshot: SnapshotSet,
    pub manifests: Vec<Value>,
    /// Why the resources' objects cannot go together (one object in two resources).
    pub clash: Option<String>,
}

/// What one picked member is to hold.
pub(crate) struct Given {
    pub target: MemberTarget,
    /// Its own objects, when overrides changed them; `None`: the carried objects as they are
    /// (so a large bundle is not copied for every member), or none when `target.problem` says
    /// why.
    pub manifests: Option<Vec<Value>>,
}

impl Drydock {
    /// The newest snapshot of every resource the placement names, objects together.
    pub(crate) async fn carried(
        &self,
        fleet: &FleetName,
        stored: &StoredPlacement,
    ) -> Result<Carried, AppError> {
        carried(&*self.resources, fleet, stored, None).await
    }

    /// The fleet's overrides of placement `stored`, by name.
    pub(crate) async fn overrides_of(
        &self,
        fleet: &FleetName,
        stored: &StoredPlacement,
    ) -> Result<Vec<NamedOverride>, AppError> {
        overrides_of(&*self.placements, fleet, stored).await
    }
}

/// The snapshot of every resource the placement names (`at` each one's, else its newest),
/// objects together. A resource without the snapshot asked for is an error naming it.
pub(crate) async fn carried(
    resources: &dyn ResourceStore,
    fleet: &FleetName,
    stored: &StoredPlacement,
    at: Option<&SnapshotSet>,
) -> Result<Carried, AppError> {
    let mut snapshot = SnapshotSet::new();
    let mut manifests = Vec::new();
    let mut sources = Vec::new();
    for resource in &stored.placement.resources {
        let found = match at.and_then(|at| at.get(resource.as_str())) {
            Some(&index) => {
                let found = resources.get_snapshot(fleet, resource, index).await;
                Some(found.map_err(store_error)?.ok_or_else(|| {
                    AppError::not_found(
                        "ResourceSnapshotNotFound",
                        format!("Resource {resource} no longer keeps snapshot {index}."),
                    )
                })?)
            }
            None => {
                let found = resources.get_resource(fleet, resource).await;
                found.map_err(store_error)?.map(|r| r.latest)
            }
        };
        if let Some(found) = found {
            snapshot.insert(resource.to_string(), found.index);
            sources.extend(found.manifests.iter().map(|_| resource.to_string()));
            manifests.extend(found.manifests);
        }
    }
    let clash = parse_manifests(&manifests)
        .err()
        .map(|error| match (error.index, error.first) {
            (Some(at), Some(first)) => format!(
                "{} (from resources {} and {})",
                error.message, sources[first], sources[at]
            ),
            _ => error.to_string(),
        });
    Ok(Carried {
        snapshot,
        manifests,
        clash,
    })
}

/// The fleet's overrides of placement `stored`, by name.
pub(crate) async fn overrides_of(
    placements: &dyn PlacementStore,
    fleet: &FleetName,
    stored: &StoredPlacement,
) -> Result<Vec<NamedOverride>, AppError> {
    let all = placements.list_overrides(fleet).await;
    Ok(all
        .map_err(store_error)?
        .into_iter()
        .filter(|o| o.spec.placement == stored.name)
        .map(|o| NamedOverride {
            name: o.name.to_string(),
            etag: o.etag,
            spec: o.spec,
        })
        .collect())
}

/// What each of `picked` is to hold.
pub(crate) fn given(
    carried: &Carried,
    picked: &[String],
    candidates: &[Candidate],
    overrides: &[NamedOverride],
) -> BTreeMap<String, Given> {
    // A problem is recorded against what was tried, so it is not taken for the plain objects
    // a member may hold already, and trying the same again is not repeated.
    let problem = |why: String, tried: Vec<String>| Given {
        target: MemberTarget::failed(&carried.snapshot, tried, why),
        manifests: None,
    };
    let every_override: Vec<String> = overrides
        .iter()
        .map(|o| format!("{}@{}", o.name, o.etag))
        .collect();
    let by_name: HashMap<&str, &Candidate> =
        candidates.iter().map(|c| (c.name.as_str(), c)).collect();
    picked
        .iter()
        .filter_map(|name| by_name.get(name.as_str()))
        .map(|candidate| {
            let given = if let Some(clash) = &carried.clash {
                problem(
                    format!("the objects cannot be applied together: {clash}"),
                    Vec::new(),
                )
            } else if !any_rule_picks(candidate, overrides) {
                Given {
                    target: MemberTarget::plain(&carried.snapshot),
                    manifests: None,
                }
            } else {
                match overridden(&carried.manifests, candidate, overrides) {
                    Ok(done) => Given {
                        target: MemberTarget::overridden(
                            &carried.snapshot,
                            done.applied,
                            &done.manifests,
                        ),
                        manifests: Some(done.manifests),
                    },
                    Err(why) => problem(why, every_override.clone()),
                }
            };
            (candidate.name.clone(), given)
        })
        .collect()
}
