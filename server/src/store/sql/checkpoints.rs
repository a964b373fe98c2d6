//! SQLite's write-ahead log, checkpointed beside the writers instead of by them, and started
//! over only when it is large.
//!
//! Left to SQLite, the commit that grows the log past its threshold copies it into the
//! database and syncs before the writer can go on; with a step writing ~120 log pages, a
//! 100,000-member run crossed a 16,384-page threshold about once a second and paid 60–115 ms
//! each time. A task checkpoints in the background instead, every second, on a reading
//! connection, without blocking writers (`PASSIVE`). A log that gets a pause starts over on
//! the next write after such a pass copied all of it; one written without pause never does (the
//! pass always finds frames committed while it ran). So once the log passes the policy's
//! `restart_pages`, the task checkpoints a second time on the writer's own connection, between
//! two transactions: no commit can come between, the pass copies only what the first one
//! missed, and the next write starts the log over. That pass holds the writer for one sync
//! (3–5 ms on a quiet disk, ~100 ms while the first pass's copying is still being written out),
//! once per `restart_pages` instead of once per 16,384. SQLite's own threshold stays, far above,
//! as a backstop. After each background pass the kernel is asked to start writing out what it
//! copied (`write_back.rs`), so that sync finds little left: 70–100 ms before, every 3–4 s of a
//! 100,000-member run written without pause.

use super::write_back::WriteBack;
use sqlx::AnyPool;
use std::time::Duration;

/// The log's size, in pages, at which a commit checkpoints it itself (1 GB of 4 KB pages):
/// reached only if the background task falls behind.
pub const BACKSTOP_PAGES: u32 = 262_144;

/// The size the log file is cut back to after it started over, in bytes: twice what a restart
/// lets it reach, so a busy log reuses its file instead of growing a fresh one each time.
pub const KEPT_BYTES: u64 = 2 * Policy::SERVING.restart_pages as u64 * 4096;

/// When the background task checkpoints, and when it starts the log over.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// How often the log is checkpointed.
    pub every: Duration,
    /// The log's size, in pages, past which it is started over.
    pub restart_pages: i64,
}

impl Policy {
    /// A checkpoint a second; the log started over past 256 MB of 4 KB pages (every 3–4 s
    /// while a 100,000-member run of upgrades that take no time writes as fast as it can).
    pub const SERVING: Self = Self {
        every: Duration::from_secs(1),
        restart_pages: 65_536,
    };
}

/// Checkpoints the database until dropped (with the last clone of its store).
pub struct Checkpointer(tokio::task::JoinHandle<()>);

impl Checkpointer {
    /// `readers`: any pool on the database; `writer`: the pool of its one writing connection;
    /// `file`: the database file, whose pages each pass copied are written out from then on.
    pub fn start(
        readers: AnyPool,
        writer: AnyPool,
        policy: Policy,
        file: Option<WriteBack>,
    ) -> Self {
        Self(tokio::spawn(async move {
            loop {
                tokio::time::sleep(policy.every).await;
                let Some(pages) = checkpoint(&readers).await else {
                    continue;
                };
                if let Some(file) = file
                    && let Ok(Err(error)) = tokio::task::spawn_blocking(move || file.start()).await
                {
                    tracing::debug!(%error, "starting the database file's write-back failed; the log's restart syncs it instead");
                }
                if pages >= policy.restart_pages {
                    checkpoint(&writer).await;
                }
            }
        }))
    }
}

/// A passive checkpoint on one of `pool`'s connections: the log's size in pages, if it could
/// be read.
async fn checkpoint(pool: &AnyPool) -> Option<i64> {
    let done: Result<(i64, i64, i64), _> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(pool)
        .await;
    match done {
        Ok((_busy, log_pages, _copied)) => Some(log_pages),
        Err(error) => {
            tracing::debug!(%error, "checkpointing the write-ahead log failed; SQLite's own threshold still applies");
            None
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes in the log file of the database at `path`.
    fn log_bytes(path: &std::path::Path) -> u64 {
        let mut log = path.as_os_str().to_owned();
        log.push("-wal");
        std::fs::metadata(log).map_or(0, |m| m.len())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_log_written_without_pause_is_started_over_instead_of_growing() {
        let dir = crate::test_support::ScratchDir::new("wal");
        let path = dir.join("busy.db");
        let url = format!("sqlite://{}", path.display());
        let (readers, _) = super::super::pool(&url, true).await.unwrap();
        let writer = super::super::sqlite_pool(&url, false, 1).await.unwrap();
        sqlx::query("CREATE TABLE pages (body BLOB NOT NULL)")
            .execute(&writer)
            .await
            .unwrap();
        let policy = Policy {
            every: Duration::from_millis(20),
            restart_pages: 256,
        };
        let file = WriteBack::of(&path);
        assert!(file.is_some(), "the database file opens for its write-back");
        let _checkpoints = Checkpointer::start(readers.clone(), writer.clone(), policy, file);
        // Commits back to back, each a fresh page and more: ~6,000 log pages (24 MB) in all.
        let mut largest = 0;
        for _ in 0..3_000 {
            sqlx::query("INSERT INTO pages (body) VALUES (randomblob(3000))")
                .execute(&writer)
                .await
                .unwrap();
            largest = largest.max(log_bytes(&path));
        }
        let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM pages")
            .fetch_one(&readers)
            .await
            .unwrap();
        assert_eq!(rows, 3_000, "nothing written is lost to a restart");
        assert!(
            largest < 8 << 20,
            "the log grew to {largest} bytes instead of starting over past 256 pages"
        );
    }
}
