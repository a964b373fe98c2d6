//! Slow and idle clients cannot hold the real server: headers must arrive in time, a silent
//! connection is closed, and connections beyond the limit wait their turn. Over a real socket,
//! against `drydock serve`.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
}

/// Reads until the server closes the connection (or 60 s pass); returns what it sent and how
/// long it took.
fn read_until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

fn serve(extra: &[&str]) -> (common::KillOnDrop, u16, common::TempDb) {
    let db = common::temp_db();
    let port = common::free_port();
    let mut args = vec!["--database-url", &db];
    args.extend_from_slice(extra);
    let server = common::spawn_serve(port, &args);
    (server, port, db)
}

#[test]
fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let (_server, port, _db) = serve(&["--header-read-timeout", "1"]);
    let mut slow = connect(port);
    slow.write_all(b"GET /api/v1/fleets HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    let (_, took) = read_until_closed(&mut slow);
    assert!(
        took < Duration::from_secs(30),
        "closed by the header timeout, not left open ({took:?})"
    );
    // A prompt client is still served.
    assert_eq!(
        common::http(port, "GET", "/api/v1/fleets", None).unwrap().0,
        200
    );
}

#[test]
fn a_connection_silent_mid_request_is_closed_after_the_idle_timeout() {
    let (_server, port, _db) = serve(&["--idle-timeout", "16", "--header-read-timeout", "600"]);
    let mut stalled = connect(port);
    // Headers promise a body that never comes.
    stalled
        .write_all(
            b"PUT /api/v1/fleets/f HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{",
        )
        .unwrap();
    let (_, took) = read_until_closed(&mut stalled);
    assert!(
        took >= Duration::from_secs(10) && took < Duration::from_secs(50),
        "closed by the idle timeout ({took:?})"
    );
}

#[test]
fn connections_beyond_the_limit_wait_until_one_closes() {
    let (_server, port, _db) = serve(&["--max-connections", "2", "--header-read-timeout", "600"]);
    let first = connect(port);
    let second = connect(port);
    // Both slots are taken by connections that send nothing; give the server a moment to take
    // them.
    std::thread::sleep(Duration::from_millis(300));
    let waiting = std::thread::spawn(move || {
        let started = Instant::now();
        let answer = common::http(port, "GET", "/api/v1/fleets", None);
        (answer, started.elapsed())
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !waiting.is_finished(),
        "the third connection waits for a slot"
    );
    drop(first);
    let (answer, took) = waiting.join().unwrap();
    assert_eq!(answer.unwrap().0, 200, "served once a slot freed");
    assert!(took >= Duration::from_secs(2));
    drop(second);
}
