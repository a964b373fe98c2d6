//! A transaction's statements run back to back, each built while the database runs the one
//! before it. SQLite runs a statement on its connection's own thread (PostgreSQL on its own
//! server), so the caller's core would otherwise sit idle while it runs and the database's
//! while the caller serializes the next statement's rows: a wide decision's step spent about
//! a millisecond each way, one after the other.

use super::statement::Statement;
use crate::store::StoreResult;
use sqlx::Transaction;
use sqlx::any::{Any, AnyQueryResult};

/// Runs `statements` in order on `tx`. The next statement is built (the iterator advanced)
/// while the one before it runs; `done` hears what each did, with the tag it came with, as soon
/// as it ran, and stops the rest by returning an error. A statement is never run before `done`
/// accepted the one before it.
pub async fn execute<T>(
    tx: &mut Transaction<'_, Any>,
    mut statements: impl Iterator<Item = StoreResult<(T, Statement)>>,
    mut done: impl FnMut(T, AnyQueryResult) -> StoreResult<()>,
) -> StoreResult<()> {
    let mut next = statements.next().transpose()?;
    while let Some((tag, statement)) = next {
        let query = statement.query_for(tx);
        // `join!` polls the statement first: that sends it to the database, and the rest of
        // this turn builds the next one.
        let (ran, built) = tokio::join!(query.execute(&mut **tx), async {
            statements.next().transpose()
        });
        done(tag, ran?)?;
        next = built?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    fn insert(n: i64) -> Statement {
        let mut statement = Statement::new("INSERT INTO t (n) VALUES ");
        statement.values([n], |row, n| {
            row.bind(n);
        });
        statement
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn statements_run_in_order_and_a_refusal_stops_the_rest() {
        sqlx::any::install_default_drivers();
        let pool = super::super::sqlite_pool("sqlite::memory:", true, 1)
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        let mut tx = pool.begin().await.unwrap();
        let mut built = 0;
        let statements = (1..=5).map(|n| {
            built += 1;
            Ok((n, insert(n)))
        });
        let mut heard = Vec::new();
        let ran = execute(&mut tx, statements, |n, done| {
            heard.push((n, done.rows_affected()));
            match n {
                3 => Err(StoreError::Concurrent),
                _ => Ok(()),
            }
        })
        .await;
        assert!(matches!(ran, Err(StoreError::Concurrent)));
        assert_eq!(heard, [(1, 1), (2, 1), (3, 1)]);
        let rows: Vec<i64> = sqlx::query_scalar("SELECT n FROM t ORDER BY id")
            .fetch_all(&mut *tx)
            .await
            .unwrap();
        assert_eq!(rows, [1, 2, 3], "in order, and none after the refusal");
        assert_eq!(
            built, 4,
            "the next statement is built while one runs, no further"
        );
    }
}
