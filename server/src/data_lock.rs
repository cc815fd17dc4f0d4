//! One process per SQLite data directory.
//!
//! An SQLite store has no leases (see `store::lease`): its meetings' hubs
//! would be run twice by two `gavel` processes on one file, each believing
//! it alone counts the ballots. So a process that serves meetings from a
//! data directory holds an exclusive lock on `gavel.lock` in it while it
//! runs (`flock`), with its process id and host written there, and a second one
//! refuses to start, naming them. The operating system drops the lock when
//! the process ends, however it ends, so a killed server leaves no lock to
//! clear by hand.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::os::fd::AsRawFd as _;
use std::path::{Path, PathBuf};

/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = "gavel.lock";

/// Held while the process serves the data directory.
#[derive(Debug)]
pub struct DataLock {
    _file: File,
}

#[derive(Debug, thiserror::Error)]
pub enum DataLockError {
    #[error(
        "{path} is held by another gavel process ({holder}); an SQLite store is served by one \
         process at a time: stop that one, or run several nodes on PostgreSQL"
    )]
    Held { path: PathBuf, holder: String },
    #[error("locking {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl DataLock {
    /// Takes the data directory's lock, or says which process holds it.
    pub fn take(data_dir: &Path) -> Result<DataLock, DataLockError> {
        let path = data_dir.join(LOCK_FILE);
        let io = |source| DataLockError::Io {
            path: path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // SAFETY: `flock` is given a descriptor that `file` owns and keeps
        // open, and reads or writes no memory of ours.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if locked != 0 {
            let error = std::io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let mut holder = String::new();
                file.read_to_string(&mut holder).map_err(io)?;
                let holder = match holder.trim() {
                    "" => "it has not written its name yet".to_owned(),
                    named => named.to_owned(),
                };
                return Err(DataLockError::Held { path, holder });
            }
            return Err(io(error));
        }
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        write!(file, "pid {} on {host}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(DataLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_name() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataLock::take(dir.path()).unwrap();
        let refused = DataLock::take(dir.path()).unwrap_err();
        let message = refused.to_string();
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        drop(first);
        DataLock::take(dir.path()).expect("taken again once let go");
    }
}
