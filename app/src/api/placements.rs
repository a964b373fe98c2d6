//! Server functions for the Placements page: what it shows (placements with each member's
//! state, resources with their snapshots, the members as scheduling sees them) and saving a
//! placement from its editor.

#[cfg(feature = "ssr")]
use super::{caller, parse, with_status};
use crate::engine::{Candidate, PlacementStatus};
use crate::model::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::names::{FleetName, PlacementName};
use crate::model::overrides::ResourceOverride;
use crate::model::placement::Placement;
use crate::model::resources::SnapshotInfo;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A placement as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacementItem {
    pub name: String,
    pub placement: Placement,
    pub status: PlacementStatus,
}

/// A resource as the page lists it: its kept snapshots, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceItem {
    pub name: String,
    pub snapshots: Vec<SnapshotInfo>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PlacementsPageData {
    pub placements: Vec<PlacementItem>,
    pub resources: Vec<ResourceItem>,
    /// Every member, as the scheduler sees it: what the editor previews against.
    pub candidates: Vec<Candidate>,
    /// The fleet's resource overrides, by name.
    #[serde(default)]
    pub overrides: Vec<OverrideItem>,
}

/// A resource override as the page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverrideItem {
    pub name: String,
    pub spec: ResourceOverride,
}

#[server(prefix = "/fn", endpoint = "placements_overview", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn placements_overview(fleet: String) -> Result<PlacementsPageData, AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            super::service()?
                .placements_overview(&caller(), &fleet)
                .await
        }
        .await,
    )
}

/// Creates or replaces a placement (the editor sends the whole placement as JSON).
#[server(prefix = "/fn", endpoint = "save_placement", input = leptos::server_fn::codec::Json, output = crate::api::codec::Json)]
pub async fn save_placement(
    fleet: String,
    name: String,
    placement: Placement,
) -> Result<(), AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            let name = parse("InvalidPlacementName", PlacementName::parse(&name))?;
            super::service()?
                .save_placement(&caller(), &fleet, &name, placement)
                .await
        }
        .await,
    )
}

/// What snapshot `index` of `resource` changed from the one before it.
#[server(prefix = "/fn", endpoint = "snapshot_diff", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn snapshot_diff(
    fleet: String,
    resource: String,
    index: i64,
) -> Result<Vec<crate::view::diff::DiffLine>, AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            let resource = parse(
                "InvalidResourceName",
                crate::model::names::ResourceName::parse(&resource),
            )?;
            super::service()?
                .snapshot_diff(&caller(), &fleet, &resource, index)
                .await
        }
        .await,
    )
}

/// A page of the fleet's member × placement matrix: `limit` members (at most
/// [`crate::view::matrix::MAX_ROWS`]) from `offset`, by name.
#[server(prefix = "/fn", endpoint = "placement_matrix", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn placement_matrix(
    fleet: String,
    offset: usize,
    limit: usize,
) -> Result<crate::view::matrix::PlacementMatrix, AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            super::service()?
                .placement_matrix(&caller(), &fleet, offset, limit)
                .await
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
fn override_name(name: &str) -> Result<crate::model::names::OverrideName, AppError> {
    parse(
        "InvalidResourceOverrideName",
        crate::model::names::OverrideName::parse(name),
    )
}

/// Creates or replaces a resource override (the page sends it as JSON, checked as typed).
#[server(prefix = "/fn", endpoint = "save_override", input = leptos::server_fn::codec::Json, output = crate::api::codec::Json)]
pub async fn save_override(
    fleet: String,
    name: String,
    spec: ResourceOverride,
) -> Result<(), AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            let name = override_name(&name)?;
            super::service()?
                .save_override(&caller(), &fleet, &name, spec)
                .await
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "delete_override", output = crate::api::codec::Json)]
pub async fn delete_override(fleet: String, name: String) -> Result<(), AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            let name = override_name(&name)?;
            super::service()?
                .delete_override(&caller(), &fleet, &name)
                .await
        }
        .await,
    )
}
