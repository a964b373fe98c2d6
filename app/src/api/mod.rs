//! Server functions: the browser's API. Each one parses its arguments into model types, calls
//! the [`service::FleetService`] from context and maps the error; nothing else. Endpoints are
//! explicit and stable (`/fn/<name>`), so scripts can call them too. Outputs are JSON (read in
//! the browser as [`codec`] says); inputs are form-encoded where a plain HTML form posts them
//! (they work before the WASM loads) and JSON where a list is sent.

mod access;
pub mod codec;
mod error;
mod gates;
mod placements;
mod profiles;
mod runs;
#[cfg(feature = "ssr")]
pub mod service;

pub use access::*;
pub use gates::*;
pub use placements::*;
pub use profiles::*;
pub use runs::*;

use crate::model::error::AppError;
use crate::model::member::FleetSummary;
use crate::model::overview::FleetOverview;
#[cfg(feature = "ssr")]
use crate::model::{
    member::{ClusterResourceId, MemberSpec},
    names::{FleetName, GroupName, MemberName},
};
use leptos::prelude::*;

/// Who is calling, as the server's authentication layer put it on the request (anonymous when
/// there is none): the service decides with it what this call may do.
#[cfg(feature = "ssr")]
fn caller() -> crate::model::access::Caller {
    use_context::<http::request::Parts>()
        .and_then(|parts| {
            parts
                .extensions
                .get::<crate::model::access::Caller>()
                .cloned()
        })
        .unwrap_or_else(crate::model::access::Caller::anonymous)
}

#[cfg(feature = "ssr")]
fn service() -> Result<service::SharedFleetService, AppError> {
    use_context::<service::SharedFleetService>().ok_or_else(AppError::internal)
}

/// Sets the HTTP status of the server function's response from the error's kind.
#[cfg(feature = "ssr")]
fn with_status<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let (Err(error), Some(response)) = (&result, use_context::<leptos_axum::ResponseOptions>()) {
        let status = http::StatusCode::from_u16(error.kind.http_status())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        response.set_status(status);
    }
    result
}

#[cfg(feature = "ssr")]
fn parse<T>(code: &str, parsed: Result<T, String>) -> Result<T, AppError> {
    parsed.map_err(|message| AppError::invalid(code, message))
}

/// An empty or blank group field means "no group".
#[cfg(feature = "ssr")]
fn parse_group(text: &str) -> Result<Option<GroupName>, AppError> {
    match text.trim() {
        "" => Ok(None),
        name => parse("InvalidGroupName", GroupName::parse(name)).map(Some),
    }
}

/// Who the page's user is and what they were granted (`None`: nobody has signed in), so the
/// page can hide or disable what the server would refuse (the server still decides). Open to
/// anyone: the sign-in page asks too.
#[server(prefix = "/fn", endpoint = "whoami", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn whoami() -> Result<Option<crate::model::access::Caller>, AppError> {
    let caller = caller();
    Ok((!caller.is_anonymous()).then_some(caller))
}

/// How one may sign in besides a password: the name of the identity provider to sign in with
/// (`None`: passwords only). Open to anyone: the sign-in page asks.
#[server(prefix = "/fn", endpoint = "sign_in_options", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn sign_in_options() -> Result<Option<String>, AppError> {
    Ok(service()?.single_sign_on())
}

/// The audit trail, newest first, as far as the caller may read it (`before`: an entry id, for
/// the next page).
#[server(prefix = "/fn", endpoint = "audit_log", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn audit_log(
    actor: Option<String>,
    fleet: Option<String>,
    run: Option<String>,
    before: Option<i64>,
) -> Result<crate::model::audit::AuditPage, AppError> {
    let query = crate::model::audit::AuditQuery {
        actor: actor.filter(|a| !a.is_empty()),
        fleet: fleet.filter(|f| !f.is_empty()),
        run: run.filter(|r| !r.is_empty()),
        before,
        limit: None,
    };
    with_status(service()?.audit_log(&caller(), query).await)
}

#[server(prefix = "/fn", endpoint = "list_fleets", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn list_fleets() -> Result<Vec<FleetSummary>, AppError> {
    with_status(service()?.list_fleets(&caller()).await)
}

/// The fleet's overview: every member, or with `limit` the first that match `filter` (the
/// page's table), the charts and groups always of the whole fleet.
#[server(prefix = "/fn", endpoint = "fleet_overview", input = leptos::server_fn::codec::GetUrl, output = crate::api::codec::Json)]
pub async fn get_fleet_overview(
    fleet: String,
    #[server(default)] filter: String,
    #[server(default)] limit: Option<usize>,
) -> Result<FleetOverview, AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            let overview = service()?.overview(&caller(), &fleet).await?;
            Ok(overview.page(&filter, limit))
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "join_member", output = crate::api::codec::Json)]
pub async fn join_member(
    fleet: String,
    name: String,
    cluster_resource_id: String,
    group: String,
) -> Result<(), AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            let name = parse("InvalidMemberName", MemberName::parse(name.trim()))?;
            let cluster_resource_id = parse(
                "InvalidClusterResourceId",
                ClusterResourceId::parse(cluster_resource_id.trim()),
            )?;
            let spec = MemberSpec {
                cluster_resource_id,
                group: parse_group(&group)?,
                labels: Default::default(),
                taints: Vec::new(),
            };
            service()?
                .create_member(&caller(), &fleet, &name, spec)
                .await
        }
        .await,
    )
}

#[server(prefix = "/fn", endpoint = "assign_group", input = leptos::server_fn::codec::Json, output = crate::api::codec::Json)]
pub async fn assign_group(
    fleet: String,
    members: Vec<String>,
    group: String,
) -> Result<usize, AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            if members.is_empty() {
                return Err(AppError::invalid(
                    "NoMembers",
                    "Select at least one member.",
                ));
            }
            let members = members
                .iter()
                .map(|m| parse("InvalidMemberName", MemberName::parse(m)))
                .collect::<Result<Vec<_>, _>>()?;
            service()?
                .set_group(&caller(), &fleet, &members, parse_group(&group)?)
                .await
        }
        .await,
    )
}

/// Removes a member; `force=true` also removes one a run is upgrading (refused otherwise, with
/// the run named, so the page can ask first).
#[server(prefix = "/fn", endpoint = "remove_member", output = crate::api::codec::Json)]
pub async fn remove_member(
    fleet: String,
    name: String,
    #[server(default)] force: bool,
) -> Result<(), AppError> {
    with_status(
        async {
            let fleet = parse("InvalidFleetName", FleetName::parse(&fleet))?;
            let name = parse("InvalidMemberName", MemberName::parse(&name))?;
            service()?
                .remove_member(&caller(), &fleet, &name, force)
                .await
        }
        .await,
    )
}
