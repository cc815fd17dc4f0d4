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
    data_dir: tempfile::TempDir,
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
        let gavel = serve(command(), log_file.as_deref())?;
        Ok(GavelProcess {
            url: gavel.url(),
            chair_code,
            gavel,
            data_dir: dir,
        })
    }

    /// A second node of this server's deployment on PostgreSQL
    /// `database_url`: its own data directory, holding this one's server
    /// key. It takes no meeting while this one hosts them all (one meeting,
    /// two nodes: a share of one each). Its log goes to
    /// [`SERVER_LOG_ENV`]'s file with `.node2` added, if that is set.
    pub fn second_node(&self, gavel: &Path, database_url: &str) -> anyhow::Result<GavelProcess> {
        let dir = tempfile::tempdir()?;
        std::fs::copy(
            self.data_dir.path().join("server.key"),
            dir.path().join("server.key"),
        )
        .context("sharing the server's key with the second node")?;
        let log_file = std::env::var_os(SERVER_LOG_ENV).map(|path| {
            let mut path = path;
            path.push(".node2");
            std::path::PathBuf::from(path)
        });
        let mut command = process::command(gavel, dir.path(), Some(database_url));
        command.env(
            "RUST_LOG",
            match &log_file {
                Some(_) => std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
                None => "gavel_server::app=info,warn".to_owned(),
            },
        );
        let gavel = serve(command, log_file.as_deref())?;
        Ok(GavelProcess {
            url: gavel.url(),
            chair_code: self.chair_code.clone(),
            gavel,
            data_dir: dir,
        })
    }

    /// The address of its HTTP listener.
    pub fn addr(&self) -> &str {
        &self.gavel.addr
    }

    pub fn pid(&self) -> u32 {
        self.gavel.pid()
    }
}

/// Starts `gavel serve` as `command` on a free port with no per-address
/// connection limit (every tablet comes from 127.0.0.1), its log to
/// `log_file` if given.
fn serve(mut command: std::process::Command, log_file: Option<&Path>) -> anyhow::Result<Gavel> {
    command.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--connections-per-address",
        "1000000",
    ]);
    match log_file {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            Gavel::start_logging_to(command, file)
        }
        None => Gavel::start(command),
    }
}
