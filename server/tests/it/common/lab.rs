//! A lab fleet behind the example `exec` provider (`examples/providers/lab/provider.py`): its
//! files, the `drydock.toml` that configures it, and what it recorded (every call, every
//! upgrade applied), so tests can say what really happened to the clusters.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FROM: &str = "1.29.0";
pub const TO: &str = "1.30.0";

/// The token the lab demands, passed by Drydock from a secret file.
const TOKEN: &str = "lab-token-not-to-be-shown";

pub struct Lab {
    pub dir: super::TestDir,
    pub config: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/providers/lab/provider.py")
}

pub fn cluster_state() -> Value {
    json!({"location": "lab-east", "kubernetesVersion": FROM, "nodePools": [
        {"name": "workers", "count": 3, "kubernetesVersion": FROM, "osSku": "LabLinux",
         "nodeImageVersion": "LabLinux-20240101"}]})
}

impl Lab {
    /// A lab of `clusters` clusters named c00, c01, … whose upgrades take `upgrade_seconds`.
    pub fn new(clusters: usize, upgrade_seconds: f64) -> Self {
        let dir = super::temp_dir("lab");
        let names: BTreeMap<String, Value> = (0..clusters)
            .map(|i| (format!("c{i:02}"), cluster_state()))
            .collect();
        let fleet = json!({
            "token": TOKEN,
            "catalog": {"kubernetesVersions": [FROM, TO],
                        "nodeImages": {"lab-east": {"LabLinux": ["20240101", "20240601"]}}},
            "clusters": names,
        });
        std::fs::write(dir.join("fleet.json"), fleet.to_string()).unwrap();
        std::fs::write(dir.join("token"), format!("{TOKEN}\n")).unwrap();
        let config = dir.join("drydock.toml");
        std::fs::write(
            &config,
            format!(
                r#"
[[providers]]
name = "lab"
kind = "exec"
command = ["python3", "{script}"]
timeout_seconds = 20
max_parallel = 8
poll_interval_seconds = 1
observation_ttl_seconds = 0
backoff_cap_seconds = 2

[providers.env]
LAB_DIR = "{dir}"
LAB_UPGRADE_SECONDS = "{upgrade_seconds}"

[providers.secrets]
LAB_TOKEN = {{ file = "{dir}/token" }}
"#,
                script = script().display(),
                dir = dir.display(),
            ),
        )
        .unwrap();
        Self { dir, config }
    }

    pub fn token() -> &'static str {
        TOKEN
    }

    /// Runs `change` on the fleet file while holding the lab's lock (calls wait meanwhile).
    pub fn change_fleet(&self, change: impl FnOnce(&mut Value)) {
        let lock = std::fs::File::create(self.dir.join("lock")).unwrap();
        lock.lock().unwrap();
        let path = self.dir.join("fleet.json");
        let mut fleet: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        change(&mut fleet);
        std::fs::write(&path, fleet.to_string()).unwrap();
        lock.unlock().unwrap();
    }

    pub fn set_faults(&self, faults: Value) {
        let lock = std::fs::File::create(self.dir.join("lock")).unwrap();
        lock.lock().unwrap();
        std::fs::write(self.dir.join("faults.json"), faults.to_string()).unwrap();
        lock.unlock().unwrap();
    }

    fn lines(&self, file: &str) -> Vec<String> {
        std::fs::read_to_string(self.dir.join(file))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Upgrades applied, per cluster (each line of upgrades.log is one).
    pub fn upgrades(&self) -> BTreeMap<String, usize> {
        let mut per = BTreeMap::new();
        for line in self.lines("upgrades.log") {
            let cluster = line.split(' ').nth(1).unwrap().to_owned();
            *per.entry(cluster).or_default() += 1;
        }
        per
    }

    /// Operations the lab started, per cluster.
    pub fn operations(&self) -> BTreeMap<String, usize> {
        let text = std::fs::read_to_string(self.dir.join("operations.json"))
            .unwrap_or_else(|_| "{}".into());
        let ops: BTreeMap<String, Value> = serde_json::from_str(&text).unwrap();
        let mut per = BTreeMap::new();
        for op in ops.values() {
            *per.entry(op["cluster"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        per
    }

    /// The most operations that were ever running at once, by their start and end times.
    pub fn most_at_once(&self) -> usize {
        let text = std::fs::read_to_string(self.dir.join("operations.json"))
            .unwrap_or_else(|_| "{}".into());
        let ops: BTreeMap<String, Value> = serde_json::from_str(&text).unwrap();
        let spans: Vec<(f64, f64)> = ops
            .values()
            .map(|op| {
                (
                    op["startedAt"].as_f64().unwrap(),
                    op["endsAt"].as_f64().unwrap(),
                )
            })
            .collect();
        spans
            .iter()
            .map(|(start, _)| {
                spans
                    .iter()
                    .filter(|(s, e)| s <= start && start < e)
                    .count()
            })
            .max()
            .unwrap_or(0)
    }

    /// Calls made, per verb.
    pub fn calls(&self) -> BTreeMap<String, usize> {
        let mut per = BTreeMap::new();
        for line in self.lines("calls.log") {
            let verb = line.split(' ').nth(1).unwrap().to_owned();
            *per.entry(verb).or_default() += 1;
        }
        per
    }
}
