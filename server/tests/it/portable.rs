//! `drydock export` / `drydock import`, through the real binary: a store with a finished run,
//! a strategy, a user and a webhook, exported and imported into SQLite and PostgreSQL, answers
//! the same and exports the same again; a cut-off file, a foreign file and a database that is
//! not empty are refused, and leave the target as it was.

use crate::common::{self, free_port, http, spawn_serve};
use serde_json::{Value, json};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_drydock");

fn drydock(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn ok(port: u16, method: &str, path: &str, body: Option<Value>) -> Value {
    let (status, answer) = http(port, method, path, body.as_ref()).unwrap();
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

/// A demo fleet on `url` with a strategy, a webhook and a run carried out to the end.
fn fill(url: &str) {
    let port = free_port();
    let _server = spawn_serve(
        port,
        &["--demo", "--database-url", url, "--time-scale", "100000"],
    );
    let stages = json!({"properties": {"strategy": {"stages": [
        {"name": "canary", "groups": [{"name": "group-1a"}, {"name": "group-1b"}]},
        {"name": "rest", "groups": [{"name": "group-2a"}, {"name": "group-2b"}]}]}}});
    ok(
        port,
        "PUT",
        "/api/v1/fleets/demo/updateStrategies/s",
        Some(stages),
    );
    let hook = json!({"properties": {"url": "http://127.0.0.1:9/nowhere", "eventTypes": ["io.drydock.run.*"]}});
    ok(port, "PUT", "/api/v1/webhooks/w", Some(hook));
    for data in ["one", "two"] {
        let bundle = json!({"properties": {"manifests": [{"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "web"}, "data": {"value": data}}]}});
        ok(
            port,
            "PUT",
            "/api/v1/fleets/demo/resources/web",
            Some(bundle),
        );
    }
    let run = json!({"properties": {"updateStrategyId": "s",
        "managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}});
    ok(port, "PUT", "/api/v1/fleets/demo/updateRuns/r", Some(run));
    ok(port, "POST", "/api/v1/fleets/demo/updateRuns/r/start", None);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let run = ok(port, "GET", "/api/v1/fleets/demo/updateRuns/r", None);
        if run["properties"]["status"]["status"]["state"] == "Completed" {
            break;
        }
        assert!(Instant::now() < deadline, "the run did not finish: {run}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// What a server on `url` answers about the things `fill` made.
fn answers(url: &str) -> Vec<Value> {
    let port = free_port();
    let _server = spawn_serve(port, &["--database-url", url, "--time-scale", "1"]);
    [
        "/api/v1/fleets/demo/members",
        "/api/v1/fleets/demo/updateStrategies/s",
        "/api/v1/fleets/demo/updateRuns/r",
        "/api/v1/webhooks/w",
        "/api/v1/fleets/demo/resources/web",
        "/api/v1/fleets/demo/resources/web/snapshots",
    ]
    .iter()
    .map(|path| ok(port, "GET", path, None))
    .collect()
}

fn export(url: &str, file: &std::path::Path) -> String {
    let out = drydock(&[
        "export",
        "--database-url",
        url,
        "--file",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(file).unwrap();
    // The header says which back end it came from; the rest must be the same.
    text.split_once('\n').unwrap().1.to_owned()
}

fn import(url: &str, file: &std::path::Path) -> Output {
    drydock(&[
        "import",
        "--database-url",
        url,
        "--file",
        file.to_str().unwrap(),
    ])
}

/// Every back end this run of the suite has, as fresh databases.
fn targets(dir: &std::path::Path, name: &str) -> Vec<String> {
    let mut urls = vec![format!(
        "sqlite://{}",
        dir.join(format!("{name}.db")).display()
    )];
    if common::postgres().is_some() {
        urls.push(common::temp_db().to_string());
    }
    urls
}

fn round_trip(source: &str, dir: &std::path::Path) {
    fill(source);
    let before = answers(source);
    let exported = export(source, &dir.join("export.jsonl"));
    assert!(
        exported.contains("\"table\":\"run_events\""),
        "events are carried"
    );
    for (i, target) in targets(dir, "imported").iter().enumerate() {
        let out = import(target, &dir.join("export.jsonl"));
        assert!(
            out.status.success(),
            "{target}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Compared before a server runs on it: a server writes (its clock, webhook retries).
        let again = export(target, &dir.join(format!("again-{i}.jsonl")));
        let differs = again.lines().zip(exported.lines()).find(|(a, b)| a != b);
        assert!(
            differs.is_none() && again.lines().count() == exported.lines().count(),
            "{target} exports what it imported; first difference: {differs:?}"
        );
        assert_eq!(answers(target), before, "{target} answers as {source} did");
    }
    let older = without_column(&dir.join("export.jsonl"), "members", "taints");
    let target = format!("sqlite://{}", dir.join("older.db").display());
    let out = import(&target, &older);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        answers(&target),
        before,
        "a file without taints imports as none"
    );
}

/// A copy of an export as a Drydock from before `table` had `column` wrote it.
fn without_column(file: &std::path::Path, table: &str, column: &str) -> std::path::PathBuf {
    let text = std::fs::read_to_string(file).unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|line| {
            let mut value: Value = serde_json::from_str(line).unwrap();
            if value["table"] == table {
                value["row"].as_object_mut().unwrap().remove(column);
            }
            value.to_string()
        })
        .collect();
    let older = file.with_extension("older.jsonl");
    std::fs::write(&older, lines.join("\n") + "\n").unwrap();
    older
}

#[test]
fn a_store_moved_by_export_and_import_answers_the_same_on_either_back_end() {
    let dir = common::temp_dir("portable");
    let source = common::temp_db();
    round_trip(&source, &dir);
}

#[test]
fn from_sqlite_to_postgresql() {
    if common::postgres().is_none() {
        return;
    }
    let dir = common::temp_dir("portable-sqlite");
    round_trip(
        &format!("sqlite://{}", dir.join("source.db").display()),
        &dir,
    );
}

#[test]
fn bad_files_and_full_databases_are_refused_and_change_nothing() {
    let dir = common::temp_dir("portable-refusals");
    let source = format!("sqlite://{}", dir.join("source.db").display());
    let port = free_port();
    drop(spawn_serve(port, &["--demo", "--database-url", &source]));
    let file = dir.join("whole.jsonl");
    export(&source, &file);
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    let cut = dir.join("cut.jsonl");
    std::fs::write(&cut, lines[..lines.len() - 3].join("\n")).unwrap();
    let foreign = dir.join("foreign.jsonl");
    std::fs::write(&foreign, "{\"format\": \"something-else\"}\n").unwrap();
    let wrong_type = dir.join("wrong-type.jsonl");
    std::fs::write(
        &wrong_type,
        text.replacen(
            "\"name\":\"demo\",\"version\":1}",
            "\"name\":\"demo\",\"version\":\"one\"}",
            1,
        ),
    )
    .unwrap();
    for (bad, says) in [
        (&cut, "cut off"),
        (&foreign, "not a Drydock export"),
        (&wrong_type, "is not a whole number"),
    ] {
        for target in targets(&dir, &format!("target-{}", says.len())) {
            let out = import(&target, bad);
            assert!(!out.status.success(), "{target} took {bad:?}");
            let said = String::from_utf8_lossy(&out.stderr);
            assert!(said.contains(says), "{said}");
            let empty = export(&target, &dir.join("after.jsonl"));
            assert_eq!(
                empty.lines().count(),
                1,
                "nothing was imported into {target}: {empty}"
            );
        }
    }
    let out = import(&source, &file);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));

    // Exporting a database that is not there says so, and makes none.
    let missing = dir.join("missing.db");
    let url = format!("sqlite://{}", missing.display());
    let out = drydock(&["export", "--database-url", &url, "--file", "-"]);
    assert!(!out.status.success());
    assert!(!missing.exists(), "export created {missing:?}");
}
