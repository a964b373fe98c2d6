//! The demo fleet: about a dozen simulated members over three regions, four update groups, two
//! members with no group, one with maintenance windows (Kubernetes weekly, node images nightly), mixed versions and node images. Created
//! once; later starts leave it (and whatever the user did to it) alone.

use crate::provider::simulated::generate::{self, REGIONS};
use crate::provider::simulated::rng::Rng;
use crate::provider::simulated::{Faults, SimulatedProvider};
use crate::service::Drydock;
use app::model::access::Caller;
use app::model::cluster::Region;
use app::model::error::AppError;
use app::model::member::{ClusterResourceId, Labels, MemberSpec};
use app::model::names::{ClusterName, FleetName, GroupName, MemberName};
use app::model::window::{
    DailySchedule, DateSpan, DayOfWeek, MaintenanceWindow, Schedule, WeeklySchedule,
};

pub const DEMO_FLEET: &str = "demo";
const MEMBERS: usize = 12;
const GROUPS: [&str; 4] = ["group-1a", "group-1b", "group-2a", "group-2b"];

fn name<T>(parsed: Result<T, String>) -> Result<T, AppError> {
    parsed.map_err(|m| AppError::invalid("InvalidDemo", m))
}

fn sunday_night() -> MaintenanceWindow {
    MaintenanceWindow {
        schedule: Schedule::Weekly(WeeklySchedule {
            day_of_week: DayOfWeek::Sunday,
            interval_weeks: 1,
        }),
        start_time: "01:00".into(),
        duration_hours: 4,
        utc_offset: "+00:00".into(),
        start_date: None,
        not_allowed_dates: Vec::new(),
    }
}

/// Node images every night but over the year's end: how teams keep node OS patches flowing
/// while freezing changes for the holidays.
fn nightly_except_holidays() -> MaintenanceWindow {
    MaintenanceWindow {
        schedule: Schedule::Daily(DailySchedule { interval_days: 1 }),
        start_time: "00:00".into(),
        duration_hours: 8,
        utc_offset: "+00:00".into(),
        start_date: None,
        not_allowed_dates: vec![DateSpan {
            start: "2026-12-20".into(),
            end: "2027-01-03".into(),
        }],
    }
}

/// The group of the i-th demo member: the first two have none, the rest cycle the four groups.
fn group_of(i: usize) -> Option<&'static str> {
    (i >= 2).then(|| GROUPS[(i - 2) % GROUPS.len()])
}

fn labels_of(group: Option<&str>) -> Labels {
    let env = match group {
        Some(g) if g.starts_with("group-1") => "staging",
        Some(_) => "production",
        None => "sandbox",
    };
    Labels::from([("env".to_owned(), env.to_owned())])
}

/// Creates the demo fleet unless a fleet of that name exists. Returns whether it created it.
pub async fn ensure_demo_fleet(
    drydock: &Drydock,
    simulator: &SimulatedProvider,
    seed: u64,
) -> Result<bool, AppError> {
    let fleet = name(FleetName::parse(DEMO_FLEET))?;
    if drydock.get_fleet(&Caller::system(), &fleet).await.is_ok() {
        return Ok(false);
    }
    let catalog = simulator.current_catalog();
    let mut rng = Rng::new(seed.wrapping_add(0xDE_30));
    drydock.put_fleet(&Caller::system(), &fleet).await?;
    for i in 0..MEMBERS {
        let region = name(Region::parse(REGIONS[i % 3]))?;
        let cluster = name(ClusterName::parse(&format!("aks-{region}-{}", i / 3 + 1)))?;
        let mut state = generate::cluster(&mut rng, &catalog, &region, 3);
        if i == 4 {
            state.maintenance_window = Some(sunday_night());
            state.node_os_maintenance_window = Some(nightly_except_holidays());
        }
        simulator
            .put_cluster(&cluster, state, Faults::default())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "creating a demo cluster failed");
                AppError::internal()
            })?;
        let group = group_of(i);
        let spec = MemberSpec {
            cluster_resource_id: ClusterResourceId::simulated(&cluster),
            group: group
                .map(GroupName::parse)
                .transpose()
                .map_err(|m| AppError::invalid("InvalidDemo", m))?,
            labels: labels_of(group),
            taints: Vec::new(),
        };
        drydock
            .put_member(
                &Caller::system(),
                &fleet,
                &name(MemberName::parse(cluster.as_str()))?,
                spec,
                &app::model::precondition::Precondition::Unconditional,
            )
            .await?;
    }
    Ok(true)
}
