//! The test suite's fake Azure Resource Manager as a process, for the browser tests: six AKS
//! clusters in two regions (one with maintenance windows, one stopped) behind a fake ARM and
//! token endpoint on `--addr`, and the `drydock.toml` that points an `aks` provider at it,
//! written to `--dir`. Test tooling only: it is built with the tests, never shipped.
//!
//! `cargo run -p server --example fake_arm -- --addr 127.0.0.1:3201 --dir target/e2e-aks`

#[path = "../tests/it/common/fake_arm.rs"]
#[allow(dead_code)]
mod fake_arm;

use fake_arm::FakeArm;
use serde_json::json;

#[path = "support/args.rs"]
mod args;

use args::arg;

#[tokio::main]
async fn main() {
    let addr = arg("--addr", "127.0.0.1:3201");
    let dir = std::path::PathBuf::from(arg("--dir", "target/e2e-aks"));
    let arm = FakeArm::start_on(&addr).await;
    for (i, region) in ["eastus", "westeurope"].iter().enumerate() {
        for n in 1..=3 {
            let name = format!("aks-{region}-{n}");
            arm.add_cluster(
                &name,
                region,
                "1.29.9",
                &[("system", 3), ("user", 0)],
                "202409.01.0",
            );
            if i == 0 && n == 3 {
                arm.with(|w| {
                    w.clusters.get_mut(&name).unwrap()["properties"]["powerState"] =
                        json!({"code": "Stopped"});
                });
            }
        }
    }
    arm.with(|w| {
        for region in ["eastus", "westeurope"] {
            w.latest_image.insert(region.into(), "202410.01.0".into());
            w.versions.insert(region.into(), vec!["1.29.9".into(), "1.30.5".into()]);
        }
        let window = |schedule: serde_json::Value| json!({"properties": {"maintenanceWindow": {
            "schedule": schedule, "durationHours": 8, "utcOffset": "+00:00", "startTime": "00:00",
            "notAllowedDates": [{"start": "2026-12-24", "end": "2026-12-26"}]}}});
        let cluster = "aks-westeurope-2".to_owned();
        w.maintenance.insert(
            (cluster.clone(), "aksManagedAutoUpgradeSchedule".into()),
            window(json!({"relativeMonthly": {"intervalMonths": 1, "weekIndex": "First", "dayOfWeek": "Sunday"}})),
        );
        w.maintenance.insert(
            (cluster, "aksManagedNodeOSUpgradeSchedule".into()),
            window(json!({"daily": {"intervalDays": 1}})),
        );
    });
    let config = arm.config_in(&dir, "observation_ttl_seconds = 2\n");
    println!(
        "fake ARM at {}; configuration {}",
        arm.url,
        config.display()
    );
    std::future::pending::<()>().await;
}
