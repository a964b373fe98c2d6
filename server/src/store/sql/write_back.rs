//! The kernel asked to write a SQLite file's pages out as the background checkpoint copies them
//! in, so the log's restart does not wait for seconds of them at once.
//!
//! A passive checkpoint copies log frames into the database file but syncs the file only when
//! it copied the whole log, which a log written without pause never lets it do. The copied
//! pages then stay dirty in the kernel's cache until the restart pass (`checkpoints.rs`) syncs
//! them all, holding the writer: one `fsync` of 70–100 ms every 3–4 s of a 100,000-member run
//! (2026-12-07). Starting their write-back after each background pass (`sync_file_range`, which
//! does not wait for the disk) leaves that `fsync` little to do.
//!
//! That needs a descriptor of the file, and closing any descriptor of a file drops every POSIX
//! lock the process holds on it, SQLite's included (its "How To Corrupt An SQLite Database
//! File", 2.2: in WAL mode a connection holds a shared lock on the file for its whole life,
//! which tells another process's last connection not to delete the log). So a file's
//! descriptor is opened once per process and never closed: one per database file the process
//! opens (one for a server; one per scratch database in a test binary).

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

/// The process's descriptor of one database file, leaked so that nothing can close it.
#[derive(Clone, Copy)]
pub struct WriteBack(&'static File);

/// Descriptors by the file they are of (device and inode).
type Opened = Mutex<HashMap<(u64, u64), &'static File>>;

fn opened() -> &'static Opened {
    static OPENED: OnceLock<Opened> = OnceLock::new();
    OPENED.get_or_init(Default::default)
}

impl WriteBack {
    /// The descriptor of the database file at `path`, opened the first time a store of the
    /// process asks for that file; `None` if the file cannot be opened (the checkpoints then
    /// go on without it).
    pub fn of(path: &Path) -> Option<Self> {
        use std::os::unix::fs::MetadataExt;
        // Identified without opening it: an extra descriptor could only be closed again.
        let metadata = std::fs::metadata(path).ok()?;
        let key = (metadata.dev(), metadata.ino());
        let mut opened = opened().lock().unwrap_or_else(|e| e.into_inner());
        if let Some(file) = opened.get(&key).filter(|file| still_linked(file)) {
            return Some(Self(file));
        }
        // A deleted file's inode number can come back for a new file: the old descriptor stays
        // open (it is leaked like every other), only no longer used.
        let file: &'static File = Box::leak(Box::new(File::open(path).ok()?));
        opened.insert(key, file);
        Some(Self(file))
    }

    /// Asks the kernel to start writing out the file's dirty pages, without waiting for them.
    /// Blocking (the request queue may be full): call it off the async workers.
    pub fn start(&self) -> std::io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: the descriptor is open for the process's life; the call only reads it.
            let done = unsafe {
                libc::sync_file_range(self.0.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE)
            };
            if done != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }

    /// Whether two are the same descriptor (the tests' check that none is opened twice).
    #[cfg(test)]
    fn same_as(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

/// Whether the descriptor's file still has a name (is not deleted).
fn still_linked(file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    file.metadata().is_ok_and(|m| m.nlink() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_gets_one_descriptor_however_many_stores_open_it() {
        let dir = crate::test_support::ScratchDir::new("write-back");
        let path = dir.join("one.db");
        std::fs::write(&path, b"pages").unwrap();
        let first = WriteBack::of(&path).unwrap();
        let again = WriteBack::of(&path).unwrap();
        assert!(first.same_as(&again), "the same file was opened twice");
        first
            .start()
            .expect("a read-only descriptor starts the write-back");
    }

    #[test]
    fn a_file_made_where_a_deleted_one_was_gets_a_descriptor_of_its_own() {
        let dir = crate::test_support::ScratchDir::new("write-back");
        let path = dir.join("replaced.db");
        std::fs::write(&path, b"old").unwrap();
        let old = WriteBack::of(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, b"new").unwrap();
        let new = WriteBack::of(&path).unwrap();
        assert!(
            !new.same_as(&old),
            "the new file was given the deleted one's descriptor"
        );
        assert!(still_linked(new.0));
        assert!(!still_linked(old.0));
    }

    #[test]
    fn a_missing_file_has_none() {
        let dir = crate::test_support::ScratchDir::new("write-back");
        assert!(WriteBack::of(&dir.join("missing.db")).is_none());
    }
}
