//! A PostgreSQL cluster of a test's own: made with `initdb` in a temporary
//! directory and run with `pg_ctl` on a free port, so that a test can
//! restart it mid-vote without disturbing the shared server other tests
//! (and other people) use. As real as that server: the same binaries,
//! durable commits (`fsync` on). Run as the `postgres` user when the test
//! runs as root, since PostgreSQL refuses to run as root.

use anyhow::{Context, bail};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A running cluster; stopped (immediately) and removed when dropped.
pub struct Cluster {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`, what `Store::connect` takes.
    pub url: String,
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// Whether PostgreSQL's commands run as the `postgres` user.
    as_postgres: bool,
    dir: tempfile::TempDir,
}

impl Cluster {
    /// A new cluster, started; `None` where PostgreSQL's server programs
    /// are not installed (an error under CI: [`crate::require_tool`]).
    pub fn start() -> anyhow::Result<Option<Cluster>> {
        let initdb = server_program("initdb");
        if !crate::require_tool(&initdb) {
            return Ok(None);
        }
        let bin = initdb.parent().context("initdb's directory")?.to_owned();
        let dir = tempfile::tempdir()?;
        let as_postgres = std::fs::metadata(dir.path())?.uid() == 0;
        if as_postgres {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()?;
            anyhow::ensure!(status.success(), "chown postgres {}", dir.path().display());
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let cluster = Cluster {
            url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            data: dir.path().join("data"),
            bin,
            port,
            as_postgres,
            dir,
        };
        cluster.run(
            "initdb",
            &[
                "-D".as_ref(),
                cluster.data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
            ],
        )?;
        cluster.pg_ctl_start()?;
        Ok(Some(cluster))
    }

    /// Stops the server at once, as a crash would (`-m immediate`: no
    /// checkpoint, every connection cut), and starts it again, which
    /// recovers from its write-ahead log. Returns once it accepts
    /// connections again.
    pub fn crash_and_restart(&self) -> anyhow::Result<()> {
        self.pg_ctl_stop()?;
        self.pg_ctl_start()
    }

    fn pg_ctl_start(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log");
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                self.data.as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "start".as_ref(),
            ],
        )
    }

    fn pg_ctl_stop(&self) -> anyhow::Result<()> {
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                self.data.as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        )
    }

    /// Runs one of PostgreSQL's programs, as `postgres` if need be.
    fn run(&self, program: &str, args: &[&std::ffi::OsStr]) -> anyhow::Result<()> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let output = command.args(args).output()?;
        if !output.status.success() {
            bail!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl_stop();
    }
}

/// Where PostgreSQL's server program `name` is: on `PATH`, or in Debian's
/// `/usr/lib/postgresql/VERSION/bin` (the newest), which is not on `PATH`.
fn server_program(name: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if let Some(found) = on_path {
        // Debian links some programs into PATH; the others are beside the target.
        return std::fs::canonicalize(&found).unwrap_or(found);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir(Path::new("/usr/lib/postgresql"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin").join(name))
        .filter(|p| p.is_file())
        .collect();
    versions.sort();
    versions.pop().unwrap_or_else(|| PathBuf::from(name))
}
