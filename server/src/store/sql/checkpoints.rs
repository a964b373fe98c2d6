//! SQLite's write-ahead log, checkpointed beside the writers instead of by them. Left to SQLite,
//! the commit that grows the log past its threshold copies it into the database before it
//! returns: every few hundred decisions one of them took several milliseconds more (the
//! hand-over's p99 was those commits). A task checkpoints in the background instead, on a
//! connection of its own from the pool, without blocking writers (`PASSIVE`); SQLite's own
//! threshold stays, raised, as a backstop should the task fall behind.

use sqlx::AnyPool;
use std::time::Duration;

/// How often the log is checkpointed.
const EVERY: Duration = Duration::from_secs(1);

/// The log's size, in pages, at which a commit checkpoints it itself (64 MB of 4 KB pages):
/// reached only if the background task falls behind.
pub const BACKSTOP_PAGES: u32 = 16_384;

/// Checkpoints the pool's database until dropped (with the last clone of its store).
pub struct Checkpointer(tokio::task::JoinHandle<()>);

impl Checkpointer {
    pub fn start(pool: AnyPool) -> Self {
        Self(tokio::spawn(async move {
            loop {
                tokio::time::sleep(EVERY).await;
                if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                    .execute(&pool)
                    .await
                {
                    tracing::debug!(%error, "checkpointing the write-ahead log failed; SQLite's own threshold still applies");
                }
            }
        }))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}
