//! Statements whose shape depends on the data (multi-row inserts, `IN (…)` lists), written with
//! `$1, $2, …` placeholders, which PostgreSQL and SQLite both read (sqlx's query builder writes
//! `?` for the `Any` driver, which PostgreSQL does not).

use sqlx::AnyConnection;
use sqlx::any::{Any, AnyArguments};
use sqlx::query::Query;
use sqlx::{Arguments, AssertSqlSafe, Encode, Type};
use std::fmt::Write;

/// Rows a data-shaped statement writes at most: with ten values a row at most, well under the
/// 32,766 values SQLite allows a statement.
pub const ROWS_PER_STATEMENT: usize = 1_000;

pub struct Statement {
    /// The SQL without the placeholders `bind` adds: they are written for the database the
    /// statement goes to (see `render`), not formatted twice.
    sql: String,
    arguments: AnyArguments,
    count: usize,
    /// Where each placeholder added by `bind` goes in `sql`, and its number.
    placeholders: Vec<(usize, usize)>,
}

impl Statement {
    pub fn new(sql: &str) -> Self {
        Self {
            sql: sql.to_owned(),
            arguments: AnyArguments::default(),
            count: 0,
            placeholders: Vec::new(),
        }
    }

    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Binds `value` at the next placeholder, written here.
    pub fn bind<'t, T: Encode<'t, Any> + Type<Any>>(&mut self, value: T) -> &mut Self {
        self.count += 1;
        self.placeholders.push((self.sql.len(), self.count));
        // Encoding into an `Any` buffer only fails for types it cannot hold; ours are all
        // text and numbers.
        self.arguments
            .add(value)
            .expect("text and numbers encode into an Any buffer");
        self
    }

    /// Adds the value of the next of the numbered placeholders (`$1, $2, …`) the SQL was
    /// written with (which SQLite reads too).
    pub fn argument<'t, T: Encode<'t, Any> + Type<Any>>(&mut self, value: T) -> &mut Self {
        self.count += 1;
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

    /// `{insert} SELECT $1, $2, v.column1, …, v.column{width} FROM (VALUES …) AS v`: an insert
    /// of rows that all belong to one run, whose fleet and run are bound once instead of once a
    /// row (a wide step's members and events bound 800 fewer texts, each copied three times on
    /// its way to SQLite). `insert` names the table and its columns, fleet and run first; `row`
    /// binds each row's values as [`Statement::values`] does. The first `width` values of each
    /// row are inserted; a row may carry more, to order by. The caller adds what follows `v`.
    pub fn insert_in_run<R>(
        insert: &str,
        (fleet, run): (&str, &str),
        width: usize,
        rows: impl IntoIterator<Item = R>,
        row: impl Fn(&mut Row<'_>, R),
    ) -> Self {
        let mut statement = Self::new(insert);
        statement.push(" SELECT ");
        statement.bind(fleet.to_owned());
        statement.push(", ");
        statement.bind(run.to_owned());
        for column in 1..=width {
            let _ = write!(statement.sql, ", v.column{column}");
        }
        statement.push(" FROM (VALUES ");
        statement.values(rows, row);
        statement.push(") AS v");
        statement
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

    /// The statement for `connection`'s database.
    pub fn query_for(self, connection: &AnyConnection) -> Query<'static, Any, AnyArguments> {
        let backend = match connection.backend_name() {
            "SQLite" => super::Backend::Sqlite,
            _ => super::Backend::Postgres,
        };
        self.query_in(backend)
    }

    /// The statement for a database of `backend` (when no connection is at hand).
    pub fn query_in(self, backend: super::Backend) -> Query<'static, Any, AnyArguments> {
        let sql = self.render(matches!(backend, super::Backend::Postgres));
        sqlx::query_with(AssertSqlSafe(sql), self.arguments)
    }

    /// The SQL with its placeholders: numbered (`$1, $2, …`) for PostgreSQL, anonymous (`?`)
    /// for SQLite, where binding numbered ones costs a search per parameter through all of
    /// them (a thousand-row insert spent more time binding than writing). Each placeholder is
    /// written once, in order, so `?` binds the same values.
    fn render(&self, numbered: bool) -> String {
        let mut sql = String::with_capacity(self.sql.len() + 6 * self.placeholders.len());
        let mut from = 0;
        for &(at, number) in &self.placeholders {
            sql.push_str(&self.sql[from..at]);
            match numbered {
                true => {
                    let _ = write!(sql, "${number}");
                }
                false => sql.push('?'),
            }
            from = at;
        }
        sql.push_str(&self.sql[from..]);
        sql
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Two rows of two values, as each test's statement binds them.
    fn two_rows(row: &mut Row<'_>, (a, b): (i64, &str)) {
        row.bind(a).bind(b.to_owned());
    }

    #[test]
    fn sqlite_gets_the_same_statement_with_anonymous_placeholders() {
        let mut statement = Statement::new("INSERT INTO t (a, b) VALUES ");
        statement.values([(1, "x"), (2, "y")], two_rows);
        statement.push(" WHERE c = '$9'");
        assert_eq!(
            statement.render(true),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) WHERE c = '$9'"
        );
        assert_eq!(
            statement.render(false),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?) WHERE c = '$9'"
        );
    }

    #[test]
    fn a_runs_rows_bind_its_fleet_and_run_once() {
        let rows = [(1, "x"), (2, "y")];
        let statement = Statement::insert_in_run(
            "INSERT INTO t (f, r, a, b)",
            ("f1", "r1"),
            2,
            rows,
            two_rows,
        );
        assert_eq!(
            statement.render(true),
            "INSERT INTO t (f, r, a, b) SELECT $1, $2, v.column1, v.column2 FROM (VALUES ($3, $4), ($5, $6)) AS v"
        );
        assert_eq!(statement.count, 6);
    }
}
