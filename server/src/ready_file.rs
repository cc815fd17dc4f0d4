//! `--ready-file PATH`: where a started server says it listens, for the
//! program that started it (a test, a benchmark, a supervisor script) to
//! read instead of scraping the log. With `--listen 127.0.0.1:0` only the
//! server knows which port the kernel gave it.
//!
//! The file is JSON, e.g. `{"listen":"127.0.0.1:41234","metrics":"127.0.0.1:41235"}`
//! (`metrics` only with a metrics listener). It is written once every
//! listener is bound, before the first connection is accepted, as a temporary
//! file renamed into place: a reader that sees the file sees all of it. It
//! says the server accepts connections; whether its meetings are restored is
//! `/readyz`'s to say. It is not removed at exit, so a reader removes a
//! stale one before starting the server.

use serde::{Deserialize, Serialize};
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The contents of the ready file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadyFile {
    /// The hall's listener (HTTP or HTTPS, with the WebSocket on `/ws`).
    pub listen: SocketAddr,
    /// The metrics listener, if there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<SocketAddr>,
}

impl ReadyFile {
    /// Writes `path` atomically: a temporary file beside it, renamed over it.
    pub fn write(&self, path: &Path) -> io::Result<()> {
        let json = serde_json::to_string(self).map_err(io::Error::other)?;
        let temporary = temporary_beside(path);
        std::fs::write(&temporary, json + "\n")?;
        std::fs::rename(&temporary, path)
    }

    /// The file at `path`, or `None` while it does not exist yet.
    pub fn read(path: &Path) -> io::Result<Option<ReadyFile>> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// `DIR/.NAME.tmp` for `DIR/NAME`: in the same directory, so that the rename
/// stays on one file system and is atomic.
fn temporary_beside(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    path.with_file_name(format!(".{name}.tmp"))
}

#[cfg(test)]
mod tests {
    use super::ReadyFile;

    #[test]
    fn what_is_written_is_read_back_and_no_temporary_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ready.json");
        assert_eq!(ReadyFile::read(&path).unwrap(), None);
        let ready = ReadyFile {
            listen: "127.0.0.1:41234".parse().unwrap(),
            metrics: None,
        };
        ready.write(&path).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\"listen\":\"127.0.0.1:41234\"}\n"
        );
        let with_metrics = ReadyFile {
            metrics: Some("127.0.0.1:9464".parse().unwrap()),
            ..ready
        };
        with_metrics.write(&path).unwrap();
        assert_eq!(ReadyFile::read(&path).unwrap(), Some(with_metrics));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["ready.json"]);
    }
}
