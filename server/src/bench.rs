//! `drydock bench`: the orchestration itself under load, as the engine issue asks — a large
//! fleet, many stages and groups, upgrades that take no time, so everything measured is
//! Drydock's own overhead. It prints decisions per second, the time from a member's completion
//! to the next member's start (p50/p99), the run's wall time against its critical path, and the
//! process's peak memory. Not a test: numbers go in the README.

use crate::clock::{Clock, ScaledClock};
use crate::provider::simulated::{Faults, SimulatedProvider};
use crate::service::Drydock;
use crate::store::{SqlStore, Stores};
use app::engine::{Command, DurationModel};
use app::model::access::Caller;
use app::model::limits::MaxConcurrency;
use app::model::member::{ClusterResourceId, MemberSpec};
use app::model::names::{ClusterName, FleetName, GroupName, MemberName, RunName};
use app::model::strategy::{GroupRef, UpdateStage, UpdateStrategy};
use app::model::update::{CreateRun, StrategySource};
use app::model::update::{ManagedClusterUpdate, NodeImageSelection, UpgradeSpec, UpgradeType};
use clap::Args;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Members of each run (each run has a fleet of its own).
    #[arg(long, default_value_t = 10_000)]
    pub members: usize,
    /// Runs started at once, on one server.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub runs: u16,
    #[arg(long, default_value_t = 5)]
    pub stages: usize,
    #[arg(long, default_value_t = 20)]
    pub groups_per_stage: usize,
    /// Every group's `maxConcurrency` (`"N"` or `"P%"`); one member at a time when unset.
    #[arg(long, value_parser = MaxConcurrency::parse)]
    pub max_concurrency: Option<MaxConcurrency>,
    /// A scratch SQLite file, replaced on every run.
    #[arg(long, default_value = "target/bench/bench.db")]
    pub database: String,
    /// Run on PostgreSQL instead: a scratch database whose every table is dropped first.
    #[arg(long)]
    pub postgres: Option<String>,
    /// Set the fleets and their runs up, then stop before starting them: a database for
    /// `drydock serve` to show (the browser tests' 100,000-member pages).
    #[arg(long)]
    pub set_up_only: bool,
    /// Start the runs a `--set-up-only` bench left in the database (given the same sizes)
    /// instead of setting them up: the run alone, measured again from a copy of the file
    /// without the setup's minutes (a run changes the file).
    #[arg(long, conflicts_with = "set_up_only")]
    pub already_set_up: bool,
}

/// Fleet time runs this much faster than real time, so timestamps (whole fleet milliseconds)
/// resolve real microseconds.
const SCALE: f64 = 1000.0;

fn name<T>(parsed: Result<T, String>) -> anyhow::Result<T> {
    parsed.map_err(anyhow::Error::msg)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn peak_memory_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok());
    kib.unwrap_or(0.0) / 1024.0
}

/// CPU seconds the process has spent, all its threads, user and system: beside wall time, a
/// measure a busy machine inflates less (a neighbour's load stretches the wall clock of every
/// step, much less the work each one does).
fn process_cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage only writes the struct it is given, which outlives the call.
    let done = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    if done != 0 {
        return 0.0;
    }
    // SAFETY: zeroed is a valid rusage, and getrusage succeeded in filling it.
    let usage = unsafe { usage.assume_init() };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The scratch database, emptied (unless it is `--already-set-up`): its URL.
async fn scratch_database(args: &BenchArgs) -> anyhow::Result<String> {
    if args.already_set_up {
        return match &args.postgres {
            Some(url) => Ok(url.clone()),
            None => {
                anyhow::ensure!(
                    std::path::Path::new(&args.database).is_file(),
                    "--already-set-up needs the database a --set-up-only bench left: {} is not there",
                    args.database
                );
                Ok(format!("sqlite://{}", args.database))
            }
        };
    }
    if let Some(url) = &args.postgres {
        anyhow::ensure!(
            crate::store::Backend::of(url)? == crate::store::Backend::Postgres,
            "--postgres takes a postgres:// URL"
        );
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(url).await?;
        sqlx::query("DROP SCHEMA public CASCADE")
            .execute(&pool)
            .await?;
        sqlx::query("CREATE SCHEMA public").execute(&pool).await?;
        return Ok(url.clone());
    }
    let path = std::path::Path::new(&args.database);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", args.database));
    }
    Ok(format!("sqlite://{}", args.database))
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let store = Arc::new(SqlStore::connect(&scratch_database(&args).await?).await?);
    let clock: Arc<dyn Clock> = Arc::new(ScaledClock::resume(&*store, SCALE).await?);
    let simulator = Arc::new(
        SimulatedProvider::open(store.clone(), 42, clock.clone(), DurationModel::instant()).await?,
    );
    let runs: Arc<dyn crate::store::RunStore> = store.clone();
    let stores = Stores::sql(store);
    let access = Arc::new(crate::auth::Access::new(
        stores.access.clone(),
        crate::auth::AuthSettings::default(),
    ));
    let drydock = Drydock::new(
        stores,
        access,
        Arc::new(crate::provider::registry::Providers::new(
            vec![simulator.clone()],
            clock.clone(),
        )),
        Some(simulator.clone()),
        clock.clone(),
        "bench".to_owned(),
    );
    // Holds on runs are renewed by the runtime's background loop, as in a server.
    drydock
        .runtime()
        .resume_all()
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let catalog = simulator.current_catalog();
    let region = catalog
        .regions()
        .next()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("empty catalog"))?;
    let from = catalog.kubernetes_versions[0];
    let to = *catalog
        .kubernetes_versions
        .iter()
        .rev()
        .find(|v| v.minor == from.minor + 1)
        .ok_or_else(|| anyhow::anyhow!("no next minor"))?;
    let setup = Instant::now();
    let mut fleets = Vec::new();
    for r in 0..args.runs {
        let fleet = match args.runs {
            1 => name(FleetName::parse("bench"))?,
            _ => name(FleetName::parse(&format!("bench-{r:03}")))?,
        };
        let world = World {
            drydock: &drydock,
            simulator: &simulator,
            clock: &*clock,
        };
        if !args.already_set_up {
            set_up_fleet(&world, &args, &fleet, r, (&catalog, &region, from, to)).await?;
        }
        fleets.push(fleet);
    }
    let groups = args.stages * args.groups_per_stage;
    println!(
        "set up {} run(s) of {} members in {} groups over {} stages (group maxConcurrency {}) in {:.1} s, peak memory so far {:.0} MiB",
        args.runs,
        args.members,
        groups,
        args.stages,
        args.max_concurrency
            .map_or_else(|| "1".to_string(), |c| c.to_string()),
        setup.elapsed().as_secs_f64(),
        peak_memory_mib()
    );

    if args.set_up_only {
        return Ok(());
    }
    let run = name(RunName::parse("bench"))?;
    page_reads(&drydock, &fleets[0], &run).await?;
    let started = Instant::now();
    let cpu_before = process_cpu_seconds();
    let decisions_before = drydock.runtime().decisions();
    let calls_before = crate::provider::Provider::calls(&*simulator);
    let timed_before = timed_sums();
    for fleet in &fleets {
        drydock
            .command_run(&Caller::system(), fleet, &run, Command::Start)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
    }
    wait_for_all(&*runs).await?;
    let wall = started.elapsed().as_secs_f64();
    let cpu = process_cpu_seconds() - cpu_before;
    let mut finished = Vec::new();
    for fleet in &fleets {
        let stored = drydock
            .get_run(&Caller::system(), fleet, &run)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        finished.push(stored.run);
    }
    let decisions = drydock.runtime().decisions() - decisions_before;
    let Steps {
        mut gaps,
        sequential: sequential_steps,
        span,
    } = hand_overs(&simulator, &finished);
    gaps.sort_by(f64::total_cmp);
    let members = args.members * usize::from(args.runs);
    println!(
        "completed: {} run(s), {members} members, {decisions} decisions in {wall:.1} s: {:.0} decisions/s",
        args.runs,
        decisions as f64 / wall
    );
    println!(
        "{:.0} member upgrades orchestrated per second ({:.1} reports per decision)",
        members as f64 / wall,
        members as f64 / decisions.max(1) as f64
    );
    println!(
        "completion → next start in a group: p50 {:.2} ms, p99 {:.2} ms, slowest {:.2} ms (over {} hand-overs)",
        percentile(&gaps, 0.5),
        percentile(&gaps, 0.99),
        percentile(&gaps, 1.0),
        gaps.len()
    );
    println!(
        "critical path: {sequential_steps} sequential upgrades of zero duration and no waits = 0 s of fleet work; \
         first start to last completion {span:.2} s = {:.2} ms of orchestration per sequential step",
        span * 1000.0 / sequential_steps.max(1) as f64
    );
    println!(
        "CPU (every thread of the process, start command to last completion): {:.2} ms per sequential step, {:.2} cores busy on average",
        cpu * 1000.0 / sequential_steps.max(1) as f64,
        cpu / wall
    );
    print_where_steps_went(&timed_before, sequential_steps);
    let calls = crate::provider::Provider::calls(&*simulator);
    let per_member: Vec<String> = calls
        .iter()
        .map(|(verb, n)| {
            let during = n - calls_before.get(verb).copied().unwrap_or(0);
            format!("{verb} {:.2}", during as f64 / members as f64)
        })
        .collect();
    println!(
        "provider calls per member upgrade: {}",
        per_member.join(", ")
    );
    println!("peak memory (VmHWM): {:.0} MiB", peak_memory_mib());
    Ok(())
}

/// The seconds spent so far in each timed histogram of `/metrics`, by what was timed: store
/// transactions by what they write ("store run"), provider calls by provider and verb
/// ("provider sim start-upgrade").
fn timed_sums() -> BTreeMap<String, f64> {
    let text = crate::metrics::metrics().render(&[], 0);
    let timed = [
        ("drydock_store_transaction_seconds_sum{", "store"),
        ("drydock_provider_call_seconds_sum{", "provider"),
    ];
    text.lines()
        .filter_map(|line| {
            let (prefix, kind) = timed.iter().find(|(prefix, _)| line.starts_with(prefix))?;
            let (labels, value) = line[prefix.len()..].rsplit_once("} ")?;
            let values: Vec<&str> = labels
                .split(',')
                .filter_map(|pair| Some(pair.split_once('=')?.1.trim_matches('"')))
                .collect();
            Some((format!("{kind} {}", values.join(" ")), value.parse().ok()?))
        })
        .collect()
}

/// Where the run's time went, per sequential step of the longest run: its store transactions
/// and provider calls (each a batch; the simulator's calls include its own transactions), in
/// every run. What is left of a step is deciding and the driver's own work.
fn print_where_steps_went(before: &BTreeMap<String, f64>, steps: usize) {
    let parts: Vec<String> = timed_sums()
        .into_iter()
        .map(|(label, sum)| {
            let spent = sum - before.get(&label).copied().unwrap_or(0.0);
            (label, spent)
        })
        .filter(|(_, spent)| *spent > 0.0)
        .map(|(label, spent)| format!("{label} {:.2} ms", spent * 1000.0 / steps.max(1) as f64))
        .collect();
    println!("time per sequential step in: {}", parts.join(", "));
}

/// What the run page reads of a run before its start (every member ahead: the largest forecast)
/// against the whole run `run_view` sends, in bytes of JSON and time to answer.
async fn page_reads(drydock: &Drydock, fleet: &FleetName, run: &RunName) -> anyhow::Result<()> {
    use app::api::service::FleetService;
    let caller = Caller::system();
    let asked = Instant::now();
    let outline = drydock.run_outline(&caller, fleet, run).await;
    let outline = serde_json::to_vec(&outline.map_err(|e| anyhow::anyhow!(e.message))?)?;
    let outline_ms = asked.elapsed().as_secs_f64() * 1000.0;
    let asked = Instant::now();
    let whole = drydock.run_view(&caller, fleet, run).await;
    let whole = serde_json::to_vec(&whole.map_err(|e| anyhow::anyhow!(e.message))?)?;
    let whole_ms = asked.elapsed().as_secs_f64() * 1000.0;
    let asked = Instant::now();
    drydock
        .get_run(&caller, fleet, run)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let read_ms = asked.elapsed().as_secs_f64() * 1000.0;
    println!(
        "run page read: outline {:.0} KB in {outline_ms:.0} ms; the whole run (run_view) {:.0} KB in {whole_ms:.0} ms; \
         reading the run from the store alone {read_ms:.0} ms",
        outline.len() as f64 / 1024.0,
        whole.len() as f64 / 1024.0,
    );
    Ok(())
}

/// What setting up a fleet needs of the benchmark's server.
struct World<'a> {
    drydock: &'a Drydock,
    simulator: &'a Arc<SimulatedProvider>,
    clock: &'a dyn Clock,
}

/// Fleet `fleet` (the `r`-th) with its simulated members, one minor behind `to`, and its run
/// `bench` created (not started).
async fn set_up_fleet(
    world: &World<'_>,
    args: &BenchArgs,
    fleet: &FleetName,
    r: u16,
    (catalog, region, from, to): (
        &app::model::catalog::Catalog,
        &app::model::cluster::Region,
        app::model::version::KubernetesVersion,
        app::model::version::KubernetesVersion,
    ),
) -> anyhow::Result<()> {
    let drydock = world.drydock;
    drydock
        .put_fleet(&Caller::system(), fleet)
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let mut rng = crate::provider::simulated::rng::Rng::new(1 + u64::from(r));
    let groups = args.stages * args.groups_per_stage;
    for i in 0..args.members {
        let mut state = crate::provider::simulated::generate::cluster(&mut rng, catalog, region, 3);
        state.kubernetes_version = from;
        for pool in &mut state.node_pools {
            pool.kubernetes_version = from;
        }
        let cluster = name(ClusterName::parse(&format!("c{r:03}-{i:06}")))?;
        world
            .simulator
            .put_cluster(&cluster, state, Faults::default())
            .await?;
        let spec = MemberSpec {
            cluster_resource_id: ClusterResourceId::simulated(&cluster),
            group: Some(name(GroupName::parse(&format!("g{}", i % groups)))?),
            labels: Default::default(),
            taints: Vec::new(),
        };
        drydock
            .store()
            .create_member(
                fleet,
                &name(MemberName::parse(cluster.as_str()))?,
                &spec,
                world.clock.now(),
            )
            .await?;
    }
    let stages = (0..args.stages)
        .map(|s| {
            Ok(UpdateStage::new(
                name(app::model::names::StageName::parse(&format!("stage-{s}")))?,
                (0..args.groups_per_stage)
                    .map(|g| {
                        let mut group = GroupRef::named(name(GroupName::parse(&format!(
                            "g{}",
                            s * args.groups_per_stage + g
                        )))?);
                        group.max_concurrency = args.max_concurrency;
                        Ok(group)
                    })
                    .collect::<anyhow::Result<_>>()?,
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let update = ManagedClusterUpdate {
        upgrade: UpgradeSpec {
            kind: UpgradeType::Full,
            kubernetes_version: Some(to),
            hops: Default::default(),
        },
        node_image_selection: NodeImageSelection::default(),
        stopped_cluster_action: Default::default(),
        defer_until_available: None,
    };
    let request = CreateRun {
        strategy: StrategySource::Inline(UpdateStrategy::new(stages)),
        update,
        placement: None,
    };
    drydock
        .create_run(
            &Caller::system(),
            fleet,
            &name(RunName::parse("bench"))?,
            request,
            &app::model::precondition::Precondition::Unconditional,
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
    Ok(())
}

/// Waits until no run is unfinished, watched through the runs' stored states without their
/// members: reading 100,000 members five times a second would weigh on what is measured.
async fn wait_for_all(runs: &dyn crate::store::RunStore) -> anyhow::Result<()> {
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let unfinished = runs.unfinished_runs().await?;
        if let Some((fleet, failed)) = unfinished
            .iter()
            .find(|(_, r)| r.state.public() == app::model::run::State::Failed)
        {
            anyhow::bail!("the run of fleet {fleet} failed: {:?}", failed.state)
        }
        if unfinished.is_empty() {
            return Ok(());
        }
    }
}

/// The runs' steps as the provider saw them.
struct Steps {
    /// Each hand-over, in real milliseconds.
    gaps: Vec<f64>,
    /// The longest run's sequential steps.
    sequential: usize,
    /// Real seconds from the first upgrade's start to the last one's end: the wall time of the
    /// orchestration alone, without the start command before it or the wait to notice the end.
    span: f64,
}

/// Hand-overs as the provider saw them, in real milliseconds (fleet milliseconds / SCALE): with
/// a group's concurrency C, its k-th start waits for its (k-C)-th completion. And the critical
/// path in sequential steps (runs go side by side: the longest run's).
fn hand_overs(simulator: &SimulatedProvider, finished: &[app::model::run::UpdateRun]) -> Steps {
    let operations: std::collections::HashMap<ClusterName, (i64, i64)> = simulator
        .operations()
        .into_iter()
        .map(|(op, _)| (op.cluster, (op.started_at.millis(), op.ends_at.millis())))
        .collect();
    let mut gaps = Vec::new();
    let mut longest_run = 0;
    let first_start = operations
        .values()
        .map(|&(start, _)| start)
        .min()
        .unwrap_or(0);
    let last_end = operations.values().map(|&(_, end)| end).max().unwrap_or(0);
    let span = (last_end - first_start) as f64 / SCALE / 1000.0;
    for run in finished {
        let mut sequential_steps = 0;
        for stage in &run.stages {
            let mut longest = 0;
            for group in &stage.groups {
                let (mut starts, mut ends): (Vec<i64>, Vec<i64>) = group
                    .members
                    .iter()
                    .filter_map(|m| {
                        operations
                            .get(&m.cluster_resource_id.as_simulated()?)
                            .copied()
                    })
                    .unzip();
                starts.sort_unstable();
                ends.sort_unstable();
                let at_once = group.concurrency();
                gaps.extend(
                    starts
                        .iter()
                        .skip(at_once)
                        .zip(&ends)
                        .map(|(start, end)| (start - end) as f64 / SCALE),
                );
                longest = longest.max(starts.len().div_ceil(at_once));
            }
            sequential_steps += longest;
        }
        longest_run = longest_run.max(sequential_steps);
    }
    Steps {
        gaps,
        sequential: longest_run,
        span,
    }
}
