//! A `gavel serve` started for one benchmark run.

use anyhow::Context as _;
use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use gavel_tests::roster::Roster;

/// Names a file that keeps the log of the `gavel serve` a run starts (at the
/// level `RUST_LOG` gives, `info` by default), to see where a run's time
/// went; without it the log is read only for the listening address.
pub const SERVER_LOG_ENV: &str = "GAVEL_SWARM_SERVER_LOG";

/// A `gavel serve` started for one run; killed when dropped.
pub struct GavelProcess {
    child: Child,
    pub url: String,
    /// The one-time code the chair's key enrolls with.
    pub chair_code: String,
    _data_dir: tempfile::TempDir,
}

impl GavelProcess {
    /// Imports `roster` with `gavel meeting import`, issues the chair's code
    /// with `gavel codes`, and starts `gavel serve` on a free port with no
    /// per-address connection limit (every tablet comes from 127.0.0.1).
    /// Without `database_url` the store is SQLite in a scratch directory.
    pub fn start(
        gavel: &Path,
        roster: &Roster,
        database_url: Option<&str>,
    ) -> anyhow::Result<GavelProcess> {
        let dir = tempfile::tempdir()?;
        let log_file = std::env::var_os(SERVER_LOG_ENV).map(std::path::PathBuf::from);
        // Quiet unless the log is kept: only the line with the address is read.
        let log_filter = match &log_file {
            Some(_) => std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_owned()),
            None => "gavel_server::app=info,warn".to_owned(),
        };
        let file = dir.path().join("meeting.toml");
        std::fs::write(&file, roster.definition())?;
        let command = |args: &[&str]| {
            let mut command = Command::new(gavel);
            command
                .args(args)
                .env("GAVEL_DATA_DIR", dir.path())
                .env("RUST_LOG", log_filter.as_str());
            match database_url {
                Some(url) => command.env("DATABASE_URL", url),
                None => command.env_remove("DATABASE_URL"),
            };
            command
        };
        let output = |args: &[&str]| -> anyhow::Result<String> {
            let out = command(args)
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
        let mut child = command(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--connections-per-address",
            "1000000",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting gavel serve")?;
        let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
        let addr = loop {
            let line = lines
                .next()
                .context("gavel serve exited before listening")??;
            if let Some((_, addr)) = line.split_once("gavel listening addr=") {
                break addr.trim().to_owned();
            }
        };
        // Keep draining the log so that the server never blocks on a full pipe.
        let mut keep = log_file
            .map(|path| {
                std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))
            })
            .transpose()?;
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some(file) = keep.as_mut() {
                    let _ = writeln!(file, "{line}");
                }
            }
        });
        Ok(GavelProcess {
            url: format!("ws://{addr}/ws"),
            chair_code,
            child,
            _data_dir: dir,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for GavelProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
