use clap::Parser;
use server::config::{Cli, Command, ServeArgs};

/// mimalloc rather than glibc's malloc: a decision allocates and frees many small values, and
/// glibc's allocator was about a third of a step's CPU (README, "Where a step's time goes").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let answer = match cli.command {
        Command::Serve(args) => return serve(args),
        Command::Updaterun(command) => server::cli::update_run(command)?,
        Command::Updatestrategy(command) => server::cli::update_strategy(command)?,
        Command::Autoupgradeprofile(command) => server::cli::auto_upgrade_profile(command)?,
        Command::Member(command) => server::cli::member(command)?,
        Command::Resource(command) => server::cli::resource(command)?,
        Command::Placement(command) => server::cli::placement(command)?,
        Command::Gate(command) => server::cli::gate(command)?,
        Command::Token(command) => server::cli::token(command)?,
        Command::Bench(args) => {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(server::bench::run(args))?;
            return Ok(());
        }
        Command::Openapi => server::rest::openapi::document().clone(),
        Command::Export(args) => return server::portable::export(args),
        Command::Import(args) => return server::portable::import(args),
    };
    if !answer.is_null() {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    }
    Ok(())
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let _telemetry = server::telemetry::install(
        args.log_format,
        args.otlp_endpoint.as_deref(),
        &args.replica(),
    )?;
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(async {
        let tls = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => Some(server::tls::acceptor(cert, key)?),
            _ => None,
        };
        let built = server::build(&args, None).await?;
        let listener = tokio::net::TcpListener::bind(args.addr).await?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(addr = %args.addr, scheme, database = %args.database_url, time_scale = args.time_scale, "Drydock is serving");
        let draining = built.draining.clone();
        let delay = std::time::Duration::from_secs(args.shutdown_delay_seconds);
        let shutdown = async move {
            shutdown_signal().await;
            draining.store(true, std::sync::atomic::Ordering::Relaxed);
            if !delay.is_zero() {
                tracing::info!(seconds = delay.as_secs(), "shutting down: not ready any more, still serving for a moment");
                tokio::time::sleep(delay).await;
            }
        };
        server::serve::serve(listener, built.router, tls, &args.limits, shutdown).await;
        // Other replicas take this one's runs over at once rather than when its holds run out.
        built.drydock.runtime().shut_down().await;
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
    tracing::info!("shutting down");
}
