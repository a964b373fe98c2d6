//! Statements whose shape depends on the data (multi-row inserts, `IN (…)` lists), written with
//! `$1, $2, …` placeholders, which PostgreSQL and SQLite both read (sqlx's query builder writes
//! `?` for the `Any` driver, which PostgreSQL does not).

use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;
use sqlx::{Arguments, AssertSqlSafe, Encode, Type};
use std::fmt::Write;

pub struct Statement {
    sql: String,
    arguments: AnyArguments,
    count: usize,
}

impl Statement {
    pub fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_owned(),
            arguments: AnyArguments::default(),
            count: 0,
        }
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Binds `value` at the next placeholder, written here.
    pub fn bind<'t, T: Encode<'t, Any> + Type<Any>>(&mut self, value: T) -> &mut Self {
        self.count += 1;
        let _ = write!(self.sql, "${}", self.count);
        // Encoding into an `Any` buffer only fails for types it cannot hold; ours are all
        // text and numbers.
        self.arguments
            .add(value)
            .expect("text and numbers encode into an Any buffer");
        self
    }

    /// `(v1, v2, …), (…)` for each row, binding what `row` binds (separated by commas).
    pub fn values<R>(&mut self, rows: impl IntoIterator<Item = R>, row: impl Fn(&mut Row<'_>, R)) {
        for (i, item) in rows.into_iter().enumerate() {
            self.push(if i == 0 { "(" } else { ", (" });
            row(
                &mut Row {
                    statement: self,
                    first: true,
                },
                item,
            );
            self.push(")");
        }
    }

    /// `a, b, c`: each item bound, separated by commas.
    pub fn list<'t, T: Encode<'t, Any> + Type<Any>>(&mut self, items: impl IntoIterator<Item = T>) {
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(item);
        }
    }

    pub fn query(self) -> Query<'static, Any, AnyArguments> {
        sqlx::query_with(AssertSqlSafe(self.sql), self.arguments)
    }
}

/// One row of `values`: each `bind` is preceded by a comma but the first.
pub struct Row<'s> {
    statement: &'s mut Statement,
    first: bool,
}

impl Row<'_> {
    pub fn bind<'t, T: Encode<'t, Any> + Type<Any>>(&mut self, value: T) -> &mut Self {
        if !std::mem::take(&mut self.first) {
            self.statement.push(", ");
        }
        self.statement.bind(value);
        self
    }
}
