//! `drydock export` / `drydock import`: the whole store as a portable file, the same from SQLite
//! and PostgreSQL, and the way from one to the other. JSON Lines: a header naming the format
//! and schema, one line per row (`{"table", "row": {column: value}}`), and an end line with the
//! count, so a cut-off file is refused rather than half imported. Which tables and columns the
//! file carries is written here, not read from the database: the format changes only on purpose.
//! Browser sessions and single sign-on logins in flight are not carried (everyone signs in
//! again); password and token hashes are, so the file is as secret as the database.

use super::{Backend, SqlStore, corrupt};
use crate::store::{StoreError, StoreResult};
use futures_util::TryStreamExt;
use serde_json::{Map, Value, json};
use sqlx::any::{Any, AnyArguments, AnyRow};
use sqlx::{Arguments, AssertSqlSafe, Row};
use std::io::{BufRead, Write};

pub const FORMAT: &str = "drydock-export";
pub const VERSION: u32 = 1;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Int,
    Real,
}

use Kind::{Int, Real, Text};

struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
    order: &'static str,
}

/// Every table the file carries, parents before children, with its columns.
const TABLES: &[Table] = &[
    Table {
        name: "fleets",
        columns: &[("name", Text), ("version", Int), ("created_at", Int)],
        order: "name",
    },
    Table {
        name: "members",
        columns: &[
            ("fleet", Text),
            ("name", Text),
            ("cluster_resource_id", Text),
            ("update_group", Text),
            ("labels", Text),
            ("taints", Text),
            ("version", Int),
            ("created_at", Int),
        ],
        order: "fleet, name",
    },
    Table {
        name: "settings",
        columns: &[("key", Text), ("value", Text)],
        order: "key",
    },
    Table {
        name: "strategies",
        columns: &[
            ("fleet", Text),
            ("name", Text),
            ("strategy", Text),
            ("version", Int),
            ("created_at", Int),
        ],
        order: "fleet, name",
    },
    Table {
        name: "auto_upgrade_profiles",
        columns: &[
            ("fleet", Text),
            ("name", Text),
            ("profile", Text),
            ("status", Text),
            ("version", Int),
            ("created_at", Int),
        ],
        order: "fleet, name",
    },
    Table {
        name: "resources",
        columns: &[
            ("fleet", Text),
            ("name", Text),
            ("latest", Int),
            ("created_at", Int),
        ],
        order: "fleet, name",
    },
    Table {
        name: "resource_snapshots",
        columns: &[
            ("fleet", Text),
            ("resource", Text),
            ("idx", Int),
            ("manifests", Text),
            ("hash", Text),
            ("created_at", Int),
        ],
        order: "fleet, resource, idx",
    },
    Table {
        name: "resource_indices",
        columns: &[("fleet", Text), ("name", Text), ("last_index", Int)],
        order: "fleet, name",
    },
    Table {
        name: "placements",
        columns: &[
            ("fleet", Text),
            ("name", Text),
            ("placement", Text),
            ("version", Int),
            ("created_at", Int),
        ],
        order: "fleet, name",
    },
    Table {
        name: "resource_overrides",
        columns: &[
            ("fleet", Text),
            ("name", Text),
            ("spec", Text),
            ("version", Int),
            ("created_at", Int),
        ],
        order: "fleet, name",
    },
    Table {
        name: "placement_members",
        columns: &[
            ("fleet", Text),
            ("placement", Text),
            ("member", Text),
            ("record", Text),
        ],
        order: "fleet, placement, member",
    },
    Table {
        name: "runs",
        columns: &[
            ("fleet", Text),
            ("name", Text),
            ("uid", Text),
            ("body", Text),
            ("state", Text),
            ("version", Int),
            ("wake_at", Int),
            ("created_at", Int),
        ],
        order: "fleet, name",
    },
    Table {
        name: "pass_links",
        columns: &[("fleet", Text), ("run", Text), ("next", Text)],
        order: "fleet, run",
    },
    Table {
        name: "run_members",
        columns: &[
            ("fleet", Text),
            ("run", Text),
            ("stage", Int),
            ("grp", Int),
            ("idx", Int),
            ("body", Text),
        ],
        order: "fleet, run, stage, grp, idx",
    },
    Table {
        name: "run_targets",
        columns: &[
            ("fleet", Text),
            ("run", Text),
            ("digest", Text),
            ("body", Text),
        ],
        order: "fleet, run, digest",
    },
    Table {
        name: "run_events",
        columns: &[
            ("id", Int),
            ("fleet", Text),
            ("run", Text),
            ("at", Int),
            ("event", Text),
        ],
        order: "id",
    },
    Table {
        name: "cluster_leases",
        columns: &[
            ("cluster", Text),
            ("fleet", Text),
            ("run", Text),
            ("run_uid", Text),
            ("member", Text),
            ("operation_id", Text),
            ("since", Int),
        ],
        order: "cluster",
    },
    Table {
        name: "provider_journal",
        columns: &[("provider", Text), ("operation_id", Text), ("record", Text)],
        order: "provider, operation_id",
    },
    Table {
        name: "sim_catalog",
        columns: &[("id", Int), ("catalog", Text), ("version", Int)],
        order: "id",
    },
    Table {
        name: "sim_clusters",
        columns: &[
            ("name", Text),
            ("state", Text),
            ("version", Int),
            ("fail_next", Int),
            ("failure_rate", Real),
            ("transient_rate", Real),
            ("unreachable", Int),
            ("lose_next", Int),
            ("stuck_next", Int),
        ],
        order: "name",
    },
    Table {
        name: "sim_targets",
        columns: &[("digest", Text), ("body", Text)],
        order: "digest",
    },
    Table {
        name: "sim_operations",
        columns: &[
            ("operation_id", Text),
            ("cluster", Text),
            ("kind", Text),
            ("target", Text),
            ("started_at", Int),
            ("ends_at", Int),
            ("failure", Text),
            ("applied", Int),
        ],
        order: "operation_id",
    },
    Table {
        name: "sim_resources",
        columns: &[
            ("cluster", Text),
            ("owner", Text),
            ("revision", Text),
            ("manifests", Text),
            ("applies", Int),
            ("applied_at", Int),
            ("available_at", Int),
        ],
        order: "cluster, owner",
    },
    Table {
        name: "sim_resource_faults",
        columns: &[
            ("cluster", Text),
            ("apply_fail_next", Int),
            ("ready_after_seconds", Int),
        ],
        order: "cluster",
    },
    Table {
        name: "webhooks",
        columns: &[
            ("name", Text),
            ("spec", Text),
            ("version", Int),
            ("since_event", Int),
            ("created_at", Int),
        ],
        order: "name",
    },
    Table {
        name: "webhook_deliveries",
        columns: &[
            ("id", Int),
            ("webhook", Text),
            ("event_id", Int),
            ("event_type", Text),
            ("payload", Text),
            ("state", Text),
            ("attempts", Int),
            ("next_attempt_at", Int),
            ("last_attempt_at", Int),
            ("last_status", Int),
            ("last_error", Text),
            ("created_at", Int),
        ],
        order: "id",
    },
    Table {
        name: "users",
        columns: &[
            ("name", Text),
            ("password_hash", Text),
            ("grants", Text),
            ("version", Int),
            ("created_at", Int),
            ("password_changed_at", Int),
            ("issuer", Text),
            ("subject", Text),
        ],
        order: "name",
    },
    Table {
        name: "api_tokens",
        columns: &[
            ("id", Text),
            ("secret_hash", Text),
            ("owner", Text),
            ("role", Text),
            ("fleet", Text),
            ("description", Text),
            ("created_at", Int),
            ("expires_at", Int),
            ("revoked_at", Int),
            ("last_used_at", Int),
        ],
        order: "id",
    },
    Table {
        name: "audit_log",
        columns: &[
            ("id", Int),
            ("at", Int),
            ("actor", Text),
            ("credential", Text),
            ("action", Text),
            ("fleet", Text),
            ("run", Text),
            ("address", Text),
            ("outcome", Text),
            ("status", Int),
            ("code", Text),
        ],
        order: "id",
    },
];

/// Tables whose ids a PostgreSQL identity draws: it must go on after the imported ones.
const IDENTITIES: &[&str] = &["run_events", "webhook_deliveries", "audit_log"];

/// How many rows of each table went through.
pub type Counts = Vec<(&'static str, u64)>;

fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn value_of(row: &AnyRow, index: usize, kind: Kind) -> StoreResult<Value> {
    Ok(match kind {
        Text => row
            .try_get::<Option<String>, _>(index)?
            .map_or(Value::Null, Value::String),
        Int => row
            .try_get::<Option<i64>, _>(index)?
            .map_or(Value::Null, Value::from),
        Real => row
            .try_get::<Option<f64>, _>(index)?
            .map_or(Value::Null, Value::from),
    })
}

fn write_line(out: &mut impl Write, line: &Value) -> StoreResult<()> {
    serde_json::to_writer(&mut *out, line).map_err(|e| corrupt("export", e))?;
    out.write_all(b"\n").map_err(|e| corrupt("export", e))
}

impl SqlStore {
    /// Writes every carried table to `out`; the rows of each.
    pub async fn export(&self, out: &mut impl Write) -> StoreResult<Counts> {
        let schema = super::migrations(self.backend)
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        let header = json!({"format": FORMAT, "version": VERSION, "schema": schema,
                            "from": format!("{:?}", self.backend).to_lowercase()});
        write_line(out, &header)?;
        let mut counts = Counts::new();
        let mut total = 0;
        for table in TABLES {
            let sql = format!(
                "SELECT {} FROM {} ORDER BY {}",
                column_list(table),
                table.name,
                table.order
            );
            let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(&self.pool);
            let mut count = 0;
            while let Some(row) = rows.try_next().await? {
                let mut fields = Map::new();
                for (i, (column, kind)) in table.columns.iter().enumerate() {
                    fields.insert((*column).to_owned(), value_of(&row, i, *kind)?);
                }
                write_line(out, &json!({"table": table.name, "row": fields}))?;
                count += 1;
            }
            counts.push((table.name, count));
            total += count;
        }
        write_line(out, &json!({"end": true, "rows": total}))?;
        out.flush().map_err(|e| corrupt("export", e))?;
        Ok(counts)
    }

    /// Reads a file `export` wrote into this store, which must hold nothing yet; all or nothing.
    pub async fn import(&self, input: impl BufRead) -> StoreResult<Counts> {
        let mut lines = input.lines();
        let header =
            next_json(&mut lines, 1)?.ok_or_else(|| invalid("the file is empty".into()))?;
        check_header(&header)?;
        let mut tx = self.begin_write().await?;
        for table in TABLES {
            let sql = format!("SELECT COUNT(*) FROM {}", table.name);
            let count: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
                .fetch_one(&mut *tx)
                .await?;
            if count > 0 {
                return Err(invalid(format!(
                    "the database is not empty ({} holds {count} rows): import into a new one",
                    table.name
                )));
            }
        }
        let mut counts: Counts = TABLES.iter().map(|t| (t.name, 0)).collect();
        let mut number = 1;
        let ended = loop {
            number += 1;
            let Some(line) = next_json(&mut lines, number)? else {
                break None;
            };
            if line.get("end").is_some() {
                break Some(line["rows"].as_u64().unwrap_or(u64::MAX));
            }
            let (index, table) = table_of(&line, number)?;
            insert(&mut tx, table, &line["row"], number).await?;
            counts[index].1 += 1;
        };
        let total: u64 = counts.iter().map(|(_, n)| n).sum();
        match ended {
            Some(rows) if rows == total => {}
            Some(rows) => {
                return Err(invalid(format!(
                    "the file says {rows} rows but holds {total}"
                )));
            }
            None => {
                return Err(invalid(
                    "the file ends before its end line: it was cut off".into(),
                ));
            }
        }
        if self.backend == Backend::Postgres {
            for table in IDENTITIES {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                );
                sqlx::query(AssertSqlSafe(sql)).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(counts)
    }
}

fn invalid(message: String) -> StoreError {
    StoreError::Setup(format!("cannot import: {message}"))
}

fn next_json(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    number: usize,
) -> StoreResult<Option<Value>> {
    let Some(line) = lines.next() else {
        return Ok(None);
    };
    let line = line.map_err(|e| invalid(format!("line {number}: {e}")))?;
    serde_json::from_str(&line)
        .map(Some)
        .map_err(|e| invalid(format!("line {number} is not JSON: {e}")))
}

fn check_header(header: &Value) -> StoreResult<()> {
    if header["format"] != FORMAT {
        return Err(invalid(format!(
            "the file is not a Drydock export (its first line should name format {FORMAT:?})"
        )));
    }
    if header["version"] != VERSION {
        return Err(invalid(format!(
            "the file is format version {}, this Drydock reads version {VERSION}",
            header["version"]
        )));
    }
    Ok(())
}

fn table_of(line: &Value, number: usize) -> StoreResult<(usize, &'static Table)> {
    let name = line["table"].as_str().unwrap_or_default();
    TABLES
        .iter()
        .enumerate()
        .find(|(_, t)| t.name == name)
        .ok_or_else(|| {
            invalid(format!(
                "line {number} names no table Drydock exports ({name:?})"
            ))
        })
}

async fn insert(
    tx: &mut sqlx::Transaction<'_, Any>,
    table: &Table,
    row: &Value,
    number: usize,
) -> StoreResult<()> {
    let fields = row
        .as_object()
        .ok_or_else(|| invalid(format!("line {number} has no row")))?;
    let mut arguments = AnyArguments::default();
    // A column the file does not carry (a file from before the column was added) takes the
    // database's default.
    let carried: Vec<&(&str, Kind)> = table
        .columns
        .iter()
        .filter(|(column, _)| fields.contains_key(*column))
        .collect();
    for (column, kind) in carried.iter().copied() {
        let value = &fields[*column];
        let bad = || {
            invalid(format!(
                "line {number}: {}.{column} is not a {}",
                table.name,
                match kind {
                    Text => "text",
                    Int => "whole number",
                    Real => "number",
                }
            ))
        };
        let added = match (kind, value) {
            (Text, Value::Null) => arguments.add(None::<String>),
            (Int, Value::Null) => arguments.add(None::<i64>),
            (Real, Value::Null) => arguments.add(None::<f64>),
            (Text, Value::String(text)) => arguments.add(Some(text.clone())),
            (Int, Value::Number(n)) => arguments.add(Some(n.as_i64().ok_or_else(bad)?)),
            (Real, Value::Number(n)) => arguments.add(Some(n.as_f64().ok_or_else(bad)?)),
            _ => return Err(bad()),
        };
        added.map_err(|e| corrupt("import", e))?;
    }
    let placeholders = (1..=carried.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let columns: Vec<String> = carried
        .iter()
        .map(|(column, _)| format!("\"{column}\""))
        .collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({placeholders})",
        table.name,
        columns.join(", ")
    );
    sqlx::query_with(AssertSqlSafe(sql), arguments)
        .execute(&mut **tx)
        .await
        .map_err(|e| invalid(format!("line {number} ({}): {e}", table.name)))?;
    Ok(())
}
