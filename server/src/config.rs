//! The command line. Every `serve` setting is also an environment variable.

use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;

#[derive(Parser, Debug)]
#[command(
    name = "drydock",
    version,
    about = "Drydock: staged, crash-safe upgrades for fleets of Kubernetes clusters",
    long_about = "Drydock upgrades fleets of Kubernetes clusters in a safe, predictable order: update runs, \
                  stages, groups and strategies. `drydock serve` runs the server (browser UI at /, REST API at \
                  /api/v1); clusters are simulated by default."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server: web UI, REST API and server functions.
    Serve(ServeArgs),
    /// Update runs of a fleet (like `az fleet updaterun`).
    #[command(subcommand)]
    Updaterun(crate::cli::RunCommand),
    /// Stored update strategies (like `az fleet updatestrategy`).
    #[command(subcommand)]
    Updatestrategy(crate::cli::StrategyCommand),
    /// Fleet members (like `az fleet member`).
    #[command(subcommand)]
    Member(crate::cli::MemberCommand),
    /// Measure the orchestration itself on a large simulated fleet (see the README).
    Bench(crate::bench::BenchArgs),
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "DRYDOCK_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// Database URL. SQLite files are created and migrated on start.
    #[arg(
        long,
        env = "DRYDOCK_DATABASE_URL",
        default_value = "sqlite://drydock.db"
    )]
    pub database_url: String,

    /// Fleet seconds per real second: 60 makes an hour-long wait take a minute. Applies to waits,
    /// maintenance windows and simulated upgrade durations alike.
    #[arg(long, env = "DRYDOCK_TIME_SCALE", default_value_t = 1.0, value_parser = parse_time_scale)]
    pub time_scale: f64,

    /// Seed of the simulated world (catalog, demo clusters): the same seed gives the same fleet.
    #[arg(long, env = "DRYDOCK_SEED", default_value_t = 42)]
    pub seed: u64,

    /// Create the demo fleet (`demo`, about 12 simulated members) if it does not exist yet.
    #[arg(long, env = "DRYDOCK_DEMO")]
    pub demo: bool,

    /// Directory holding the built site (WASM bundle, CSS, favicon).
    #[arg(long, env = "DRYDOCK_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
}

/// Fleet time must move forward, and not so fast that a millisecond is a week.
fn parse_time_scale(text: &str) -> Result<f64, String> {
    let scale: f64 = text
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    if scale.is_finite() && (0.001..=1_000_000.0).contains(&scale) {
        Ok(scale)
    } else {
        Err("the time scale must be between 0.001 and 1000000".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_scale_is_bounded() {
        assert_eq!(parse_time_scale("60"), Ok(60.0));
        assert!(parse_time_scale("0").is_err());
        assert!(parse_time_scale("-1").is_err());
        assert!(parse_time_scale("NaN").is_err());
        assert!(parse_time_scale("fast").is_err());
    }

    #[test]
    fn serve_defaults_match_the_readme() {
        let cli = Cli::try_parse_from(["drydock", "serve"]).unwrap();
        let Command::Serve(args) = cli.command else {
            panic!("serve parses as serve")
        };
        assert_eq!(args.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(args.database_url, "sqlite://drydock.db");
        assert!(!args.demo);
    }
}
