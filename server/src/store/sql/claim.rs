//! One server per PostgreSQL database, until runs are leased to replicas (each run driven by
//! exactly one): two servers on one database would both drive every run. The first server to
//! start takes a session-level advisory lock and keeps the connection that holds it; another is
//! refused at start, saying why. The lock lives as long as that connection, so a watchdog checks
//! it every few seconds: a connection that died (the database restarted, a network cut) is
//! replaced and the lock taken again, and if another server took it meanwhile this one stops at
//! once rather than drive runs beside it. A process keeps its claim until it exits (a store
//! opened again in the same process, as tests do, reuses it).

use crate::store::{StoreError, StoreResult};
use sqlx::{AnyConnection, AnyPool};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::sync::Mutex;

pub type Claim = Arc<Mutex<AnyConnection>>;

/// The advisory lock's key ("DRYDOCK" in ASCII).
const ONE_SERVER_LOCK: i64 = 0x0044_5259_444f_434b;
/// How often the watchdog looks at the lock's connection.
const CHECK_EVERY: Duration = Duration::from_secs(5);

async fn take(pool: &AnyPool) -> StoreResult<Option<AnyConnection>> {
    let mut conn = pool.acquire().await?.detach();
    let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(ONE_SERVER_LOCK)
        .fetch_one(&mut conn)
        .await?;
    Ok(taken.then_some(conn))
}

pub async fn claim_database(pool: &AnyPool, url: &str) -> StoreResult<Claim> {
    static CLAIMS: OnceLock<Mutex<HashMap<String, Claim>>> = OnceLock::new();
    let mut claims = CLAIMS.get_or_init(Default::default).lock().await;
    if let Some(claim) = claims.get(url) {
        return Ok(claim.clone());
    }
    let Some(conn) = take(pool).await? else {
        return Err(StoreError::Setup(
            "another Drydock server is already using this PostgreSQL database; one server per database until replicas can share runs".into(),
        ));
    };
    let claim: Claim = Arc::new(Mutex::new(conn));
    claims.insert(url.to_owned(), claim.clone());
    tokio::spawn(watch(claim.clone(), pool.clone()));
    Ok(claim)
}

/// Keeps the claim alive, or ends the process when another server has taken it.
async fn watch(claim: Claim, pool: AnyPool) {
    loop {
        tokio::time::sleep(CHECK_EVERY).await;
        let mut conn = claim.lock().await;
        let alive = sqlx::query_scalar::<_, i64>("SELECT CAST(1 AS BIGINT)")
            .fetch_one(&mut *conn)
            .await
            .is_ok();
        if alive {
            continue;
        }
        tracing::warn!(
            "the connection holding this server's claim on the database was lost; taking the claim again"
        );
        match take(&pool).await {
            Ok(Some(fresh)) => {
                *conn = fresh;
                tracing::info!("claim on the database taken again");
            }
            Ok(None) => {
                tracing::error!(
                    "another Drydock server took this database while the claim was lost: stopping, so no run is driven twice"
                );
                std::process::exit(3);
            }
            // The database is unreachable for now: nobody else can take the claim either.
            Err(error) => tracing::warn!(%error, "the database cannot be reached; trying again"),
        }
    }
}
