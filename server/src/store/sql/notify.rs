//! PostgreSQL's `LISTEN/NOTIFY` between replicas: a transaction that changes a run or stores a
//! command for one says so (`pg_notify`, delivered when it commits), and every replica listens,
//! so event streams, relayed commands and runs waiting for a cluster move at once on every
//! replica rather than at their next poll. The polls stay: a notice lost with a connection is a
//! delay, never a loss. SQLite has one server per file in practice, and nothing to do here.

use super::Backend;
use crate::store::StoreResult;
use app::model::names::{FleetName, RunName};
use sqlx::Transaction;
use sqlx::any::Any;
use std::time::Duration;

/// Runs changed: the payload is `{fleet}/{run}`.
const RUNS: &str = "drydock_runs";
/// Commands stored for a run's driver: the payload is the run's uid.
const COMMANDS: &str = "drydock_commands";

/// What another replica (or this one) committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    RunChanged(FleetName, RunName),
    CommandStored,
}

/// Says, in `tx`, that the run changed.
pub(super) async fn run_changed(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    fleet: &FleetName,
    run: &str,
) -> StoreResult<()> {
    notify(tx, backend, RUNS, &format!("{fleet}/{run}")).await
}

/// Says, in `tx`, that a command waits for the run `uid`'s driver.
pub(super) async fn command_stored(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    uid: &str,
) -> StoreResult<()> {
    notify(tx, backend, COMMANDS, uid).await
}

async fn notify(
    tx: &mut Transaction<'_, Any>,
    backend: Backend,
    channel: &str,
    payload: &str,
) -> StoreResult<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(payload)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn parse(channel: &str, payload: &str) -> Option<Notice> {
    match channel {
        RUNS => {
            let (fleet, run) = payload.split_once('/')?;
            Some(Notice::RunChanged(
                FleetName::parse(fleet).ok()?,
                RunName::parse(run).ok()?,
            ))
        }
        COMMANDS => Some(Notice::CommandStored),
        _ => None,
    }
}

/// Listens on PostgreSQL at `url` for as long as the process runs, handing each notice to
/// `heard`; reconnects after a lost connection (notices sent meanwhile are missed: the polls
/// catch up).
pub fn listen(url: String, heard: impl Fn(Notice) + Send + Sync + 'static) {
    tokio::spawn(async move {
        loop {
            if let Err(error) = listen_once(&url, &heard).await {
                tracing::warn!(%error, "listening for other servers' changes failed; listening again shortly");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

async fn listen_once(url: &str, heard: &impl Fn(Notice)) -> Result<(), sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen_all([RUNS, COMMANDS]).await?;
    loop {
        let notification = listener.recv().await?;
        if let Some(notice) = parse(notification.channel(), notification.payload()) {
            heard(notice);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_read_back_and_strangers_ignored() {
        assert_eq!(
            parse(RUNS, "demo/run-1"),
            Some(Notice::RunChanged(
                FleetName::parse("demo").unwrap(),
                RunName::parse("run-1").unwrap()
            ))
        );
        assert_eq!(parse(COMMANDS, "u-1"), Some(Notice::CommandStored));
        assert_eq!(parse(RUNS, "no-slash"), None);
        assert_eq!(parse("other", "x"), None);
    }
}
