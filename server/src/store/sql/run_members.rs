//! A run's members, one row each (`run_members`): written when a decision changes them, read back
//! into the run's groups. The rest of the run is `runs.body` (a `RunRecord`, without members).
//! An upgrading member's target is stored once per run, in `run_targets`, and its row names it.

use super::known_targets::{Known, Naming};
use super::records::{self, StoredTarget, Targets};
use super::statement::{ROWS_PER_STATEMENT, Statement};
use super::{Backend, corrupt};
use crate::store::StoreResult;
use app::model::names::FleetName;
use app::model::run::{MemberRun, UpdateRun};
use sqlx::any::Any;
use sqlx::{AnyPool, Row, Transaction};

/// Where a member sits in its run: stage, group, index in the group. Fixed at creation.
type Place = app::model::run::Place;

/// The members at `places` in `run`; a place the run does not have is a caller's mistake that
/// must not be written.
pub fn at<'a>(run: &'a UpdateRun, places: &[Place]) -> StoreResult<Vec<(Place, &'a MemberRun)>> {
    places
        .iter()
        .map(|&place| {
            run.member_at(place)
                .map(|member| (place, member))
                .ok_or_else(|| corrupt("run member", format!("the run has no member at {place:?}")))
        })
        .collect()
}

/// Writes (inserts or replaces) the given members' rows, and the targets they name.
pub async fn write(
    tx: &mut Transaction<'_, Any>,
    fleet: &FleetName,
    run: &str,
    members: &[(Place, &MemberRun)],
) -> StoreResult<()> {
    let mut stored = Known::new();
    for chunk in members.chunks(ROWS_PER_STATEMENT) {
        for statement in upsert(fleet, run, chunk, &Known::new(), &mut stored)? {
            statement.query_for(tx).execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// The statements that write `members` (at most `ROWS_PER_STATEMENT`): the targets the
/// upgrading ones name, when any is neither `known` stored nor `stored` by a statement before,
/// then the members' rows. Adds the targets written to `stored`.
pub fn upsert(
    fleet: &FleetName,
    run: &str,
    members: &[(Place, &MemberRun)],
    known: &Known,
    stored: &mut Known,
) -> StoreResult<Vec<Statement>> {
    let mut rows = Vec::with_capacity(members.len());
    let mut naming = Naming::new(known, stored);
    for ((s, g, i), member) in members {
        let body = records::member_row(member, |target| naming.digest(target))
            .map_err(|e| corrupt("run member", e))?;
        rows.push((*s as i64, *g as i64, *i as i64, body));
    }
    let mut statements = Vec::with_capacity(2);
    if !naming.new.is_empty() {
        statements.push(targets_insert(fleet, run, naming.new));
    }
    let mut insert = Statement::insert_in_run(
        "INSERT INTO run_members (fleet, run, stage, grp, idx, body)",
        (fleet.as_str(), run),
        4,
        rows,
        |row, (s, g, i, body)| {
            row.bind(s).bind(g).bind(i).bind(body);
        },
    );
    // `WHERE true`: SQLite reads an upsert after `SELECT … FROM` only behind a `WHERE`.
    insert.push(
        " WHERE true ON CONFLICT (fleet, run, stage, grp, idx) DO UPDATE SET body = excluded.body",
    );
    statements.push(insert);
    Ok(statements)
}

/// The statement that stores `targets` in the run's targets, those stored already left as
/// they are (a digest names one content).
fn targets_insert(fleet: &FleetName, run: &str, targets: Vec<StoredTarget>) -> Statement {
    let mut insert = Statement::insert_in_run(
        "INSERT INTO run_targets (fleet, run, digest, body)",
        (fleet.as_str(), run),
        2,
        targets,
        |row, target| {
            row.bind(target.digest).bind(target.body);
        },
    );
    insert.push(" WHERE true ON CONFLICT (fleet, run, digest) DO NOTHING");
    insert
}

/// The run's stored targets, to read its members with.
async fn targets(pool: &AnyPool, fleet: &FleetName, run: &str) -> StoreResult<Targets> {
    let rows = sqlx::query("SELECT digest, body FROM run_targets WHERE fleet = $1 AND run = $2")
        .bind(fleet.as_str())
        .bind(run)
        .fetch_all(pool)
        .await?;
    let rows = rows
        .iter()
        .map(|row| Ok((row.try_get("digest")?, row.try_get("body")?)))
        .collect::<StoreResult<Vec<(String, String)>>>()?;
    records::targets_from(rows).map_err(|e| corrupt("run target", e))
}

/// Reads a run's members a stage at a time, each stage as one text: "grp idx body" per member,
/// one member a line (a body is compact JSON, which has no raw line breaks). One row per
/// stage instead of one per member: at 100,000 members, converting each row through sqlx's
/// `Any` driver cost more than parsing the bodies.
fn members_by_stage(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "SELECT stage, group_concat(grp || ' ' || idx || ' ' || body, char(10)) AS members FROM run_members WHERE fleet = $1 AND run = $2 GROUP BY stage"
        }
        Backend::Postgres => {
            "SELECT stage, string_agg(grp || ' ' || idx || ' ' || body, E'\\n') AS members FROM run_members WHERE fleet = $1 AND run = $2 GROUP BY stage"
        }
    }
}

/// Puts the stored members back into `run`'s groups (replacing whatever lists the body had).
pub async fn fill(
    pool: &AnyPool,
    backend: Backend,
    fleet: &FleetName,
    run: &mut UpdateRun,
) -> StoreResult<()> {
    let rows = sqlx::query(members_by_stage(backend))
        .bind(fleet.as_str())
        .bind(&run.name)
        .fetch_all(pool)
        .await?;
    // Read after the members: a target is stored no later than the first row naming it, and
    // stays as long as its run, so every target a row read names is found.
    let targets = targets(pool, fleet, &run.name).await?;
    let mut placed = Vec::new();
    for row in rows {
        let stage: i64 = row.try_get("stage")?;
        let text: String = row.try_get("members")?;
        for line in text.split('\n') {
            let (grp, idx, member) = member_line(line, &targets)?;
            placed.push(((stage, grp, idx), member));
        }
    }
    // Neither aggregate promises an order; each group's members go back in index order.
    placed.sort_unstable_by_key(|&((s, g, i), _)| (s, g, i));
    for group in run.stages.iter_mut().flat_map(|s| s.groups.iter_mut()) {
        group.members.clear();
    }
    for ((s, g, i), member) in placed {
        let group = run
            .stages
            .get_mut(s as usize)
            .and_then(|stage| stage.groups.get_mut(g as usize))
            .ok_or_else(|| corrupt("run member", format!("no group {g} in stage {s}")))?;
        if usize::try_from(i).ok() != Some(group.members.len()) {
            return Err(corrupt(
                "run member",
                format!("member {i} of group {g} in stage {s} is out of place"),
            ));
        }
        group.members.push(member);
    }
    Ok(())
}

/// One line of [`members_by_stage`]'s text: the group, the index in it, the member.
fn member_line(line: &str, targets: &Targets) -> StoreResult<(i64, i64, MemberRun)> {
    let bad = || corrupt("run member", format!("an unreadable row: {line:.80}"));
    let mut parts = line.splitn(3, ' ');
    let mut number =
        || -> StoreResult<i64> { parts.next().and_then(|n| n.parse().ok()).ok_or_else(bad) };
    let (grp, idx) = (number()?, number()?);
    let body = parts.next().ok_or_else(bad)?;
    let member = records::member_from_row(body, targets).map_err(|e| corrupt("run member", e))?;
    Ok((grp, idx, member))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::member::ClusterResourceId;
    use app::model::names::MemberName;
    use app::model::run::MemberState;

    fn member(name: &str) -> MemberRun {
        MemberRun {
            name: MemberName::parse(name).unwrap(),
            cluster_resource_id: ClusterResourceId::parse(&format!("sim:{name}")).unwrap(),
            attempts: 0,
            state: MemberState::NotStarted,
        }
    }

    fn run(groups: Vec<Vec<MemberRun>>) -> UpdateRun {
        let body = serde_json::json!({
            "name": "r",
            "spec": {"strategy": null, "update": {"upgrade": {"type": "NodeImageOnly"}}},
            "state": {"state": "notStarted"},
            "stages": [{"name": "s", "afterStageWaitInSeconds": 0, "state": {"state": "notStarted"},
                        "wait": {"state": "notStarted"},
                        "groups": groups.iter().enumerate().map(|(i, _)| serde_json::json!(
                            {"name": format!("g{i}"), "members": [], "state": {"state": "notStarted"}})).collect::<Vec<_>>()}],
            "notInAnyStage": [],
            "selectedImages": null
        });
        let mut run: UpdateRun = serde_json::from_value(body).unwrap();
        for (group, members) in run.stages[0].groups.iter_mut().zip(groups) {
            group.members = members;
        }
        run
    }

    #[test]
    fn the_body_holds_no_members() {
        let before = run(vec![vec![member("a"), member("b")], vec![member("c")]]);
        let mut after = before.clone();
        after.stages[0].groups[1].members[0].attempts = 1;
        let written = at(&after, &[(0, 1, 0)]).unwrap();
        assert_eq!(written.len(), 1);
        assert_eq!(written[0].1.attempts, 1);
        assert!(at(&after, &[(0, 2, 0)]).is_err(), "a place the run lacks");
        let body = records::to_text::<records::RunRecord>(&after).unwrap();
        let stored = records::from_text::<records::RunRecord>(&body).unwrap();
        assert!(
            stored.members().next().is_none(),
            "the body holds no members"
        );
        assert_eq!(stored.stages[0].groups.len(), 2);
    }
}
