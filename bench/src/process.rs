//! A `gavel serve` started for one benchmark run.

use anyhow::Context as _;
use std::path::Path;

use gavel_tests::process::{self, Gavel};
use gavel_tests::roster::Roster;

/// Names a file that keeps the log of the `gavel serve` a run starts (at the
/// level `RUST_LOG` gives, `info` by default), to see where a run's time
/// went; without it the server logs little (its warnings), kept in memory.
pub const SERVER_LOG_ENV: &str = "GAVEL_SWARM_SERVER_LOG";

/// A document file the meeting names, written beside its meeting file.
pub struct DocumentFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A `gavel serve` started for one run; killed when dropped.
pub struct GavelProcess {
    gavel: Gavel,
    pub url: String,
    /// The one-time code the chair's key enrolls with.
    pub chair_code: String,
    _data_dir: tempfile::TempDir,
}

impl GavelProcess {
    /// Imports `definition` (the meeting of `roster`, whose keys it
    /// carries), its first item carrying `documents` (delegates only), with
    /// `gavel meeting import`, issues the chair's code with `gavel codes`,
    /// and starts `gavel serve` on a free port with no per-address
    /// connection limit (every tablet comes from 127.0.0.1). Without
    /// `database_url` the store is SQLite in a scratch directory.
    pub fn start(
        gavel: &Path,
        roster: &Roster,
        definition: &str,
        documents: &[DocumentFile],
        database_url: Option<&str>,
    ) -> anyhow::Result<GavelProcess> {
        let dir = tempfile::tempdir()?;
        let log_file = std::env::var_os(SERVER_LOG_ENV).map(std::path::PathBuf::from);
        let log_filter = match &log_file {
            Some(_) => std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
            None => "gavel_server::app=info,warn".to_owned(),
        };
        let file = dir.path().join("meeting.toml");
        let mut definition = definition.to_owned();
        for document in documents {
            std::fs::write(dir.path().join(&document.name), &document.bytes)?;
            definition.push_str(&format!(
                "\n[[topics.items.documents]]\ntitle = \"{name}\"\nkind = \"report\"\n\
                 file = \"{name}\"\npublic = false\n",
                name = document.name
            ));
        }
        std::fs::write(&file, definition)?;
        let command = || {
            let mut command = process::command(gavel, dir.path(), database_url);
            command.env("RUST_LOG", log_filter.as_str());
            command
        };
        let output = |args: &[&str]| -> anyhow::Result<String> {
            let out = command()
                .args(args)
                .output()
                .with_context(|| format!("running {}", gavel.display()))?;
            anyhow::ensure!(
                out.status.success(),
                "gavel {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        };
        output(&["meeting", "import", &file.to_string_lossy()])?;
        let codes = output(&[
            "codes",
            "--meeting",
            roster.meeting.as_str(),
            "--chair",
            "--seats",
            "",
        ])?;
        let chair_code = codes
            .lines()
            .find(|l| l.contains("chair"))
            .and_then(|l| l.split_whitespace().next())
            .context("gavel codes printed no chair's code")?
            .to_owned();
        let mut serve = command();
        serve.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--connections-per-address",
            "1000000",
        ]);
        let gavel = match log_file {
            Some(path) => {
                let file = std::fs::File::create(&path)
                    .with_context(|| format!("creating {}", path.display()))?;
                Gavel::start_logging_to(serve, file)?
            }
            None => Gavel::start(serve)?,
        };
        Ok(GavelProcess {
            url: gavel.url(),
            chair_code,
            gavel,
            _data_dir: dir,
        })
    }

    pub fn pid(&self) -> u32 {
        self.gavel.pid()
    }
}
