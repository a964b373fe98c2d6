//! Server-rendered pages in a process that builds more than one server.

use crate::common;
use axum::http::StatusCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Building a server works out the app's pages by rendering the app with resource loading
/// switched off for the whole process. A page rendered meanwhile (another test's server, here
/// another thread's) waited for its resources forever: the sign-in page came whole but for the
/// user menu, and its response never ended. Each render here overlaps servers being built.
#[tokio::test]
async fn pages_finish_while_another_server_is_being_built() {
    let s = common::start_secured("sqlite::memory:", true).await;
    let building = Building(Arc::new(AtomicBool::new(true)));
    let builder = std::thread::spawn({
        let building = building.0.clone();
        move || {
            let mut built = 0;
            while building.load(Ordering::Relaxed) {
                // A runtime a server, so each one's background tasks end with it.
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(common::start());
                built += 1;
            }
            built
        }
    });
    for rendered in 0..1_000 {
        let page = tokio::time::timeout(
            Duration::from_secs(20),
            s.send("GET", "/login", None, "text/html"),
        )
        .await;
        let Ok(page) = page else {
            panic!("sign-in page {rendered} did not finish while servers were being built");
        };
        assert_eq!(page.status, StatusCode::OK);
    }
    drop(building);
    let built = builder.join().unwrap();
    assert!(
        built > 0,
        "no server was built while the pages were rendered"
    );
}

/// Keeps the builder thread building until dropped: when the test ends, and as well when it
/// fails, so a failed test leaves no thread building servers beside the rest of the suite.
struct Building(Arc<AtomicBool>);

impl Drop for Building {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}
