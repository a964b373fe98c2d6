//! Helpers the unit tests of several modules share.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// A header map from static pairs.
pub fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    pairs
        .iter()
        .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
        .collect()
}

/// A fresh directory for one test, removed with everything in it when the test ends (pass or
/// panic): tests run many times on a developer's machine and must not fill its `/tmp`.
pub struct ScratchDir(std::path::PathBuf);

impl ScratchDir {
    /// `what` names the test's purpose in the directory's name, for whoever finds one left by a
    /// process that was killed.
    pub fn new(what: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("drydock-{what}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
