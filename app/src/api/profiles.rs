//! Server functions for auto-upgrade profiles: the Profiles tab of the Multi-cluster update
//! page. The profile travels as JSON (it has nested fields); the rest are forms.

#[cfg(feature = "ssr")]
use super::{caller, parse, with_status};
use crate::model::auto_upgrade::{AutoUpgradeProfile, ProfileView};
use crate::model::error::AppError;
#[cfg(feature = "ssr")]
use crate::model::names::{AutoUpgradeProfileName, FleetName};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn names(fleet: &str, name: &str) -> Result<(FleetName, AutoUpgradeProfileName), AppError> {
    Ok((
        parse("InvalidFleetName", FleetName::parse(fleet))?,
        parse(
            "InvalidAutoUpgradeProfileName",
            AutoUpgradeProfileName::parse(name),
        )?,
    ))
}

#[server(prefix = "/fn", endpoint = "list_profiles", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn list_profiles(fleet: String) -> Result<Vec<ProfileView>, AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            super::service()?
                .list_auto_upgrade_profiles(&caller(), &fleet)
                .await
        }
        .await,
    )
}

/// Creates or replaces a profile (the form says which it is about to do).
#[server(prefix = "/fn", endpoint = "save_profile", input = leptos::server_fn::codec::Json, output = crate::api::codec::Json)]
pub async fn save_profile(
    fleet: String,
    name: String,
    profile: AutoUpgradeProfile,
) -> Result<(), AppError> {
    with_status(
        async {
            let (fleet, name) = names(&fleet, &name)?;
            super::service()?
                .put_auto_upgrade_profile(&caller(), &fleet, &name, profile)
                .await
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "delete_profile", output = crate::api::codec::Json)]
pub async fn delete_profile(fleet: String, name: String) -> Result<(), AppError> {
    with_status(
        async {
            let (fleet, name) = names(&fleet, &name)?;
            super::service()?
                .delete_auto_upgrade_profile(&caller(), &fleet, &name)
                .await
        }
        .await,
    )
}

/// `generateUpdateRun`: the generated run's name.
#[server(prefix = "/fn", endpoint = "generate_run", output = crate::api::codec::Json)]
pub async fn generate_run(fleet: String, name: String) -> Result<String, AppError> {
    with_status(
        async {
            let (fleet, name) = names(&fleet, &name)?;
            let run = super::service()?
                .generate_update_run(&caller(), &fleet, &name)
                .await?;
            Ok(run.to_string())
        }
        .await,
    )
}
