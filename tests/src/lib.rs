//! Helpers shared by Gavel's end-to-end tests (the tests themselves are in `tests/`).
//!
//! Every behaviour that touches the store must hold on both backends, so a
//! test asks [`databases`] for one fresh, empty database per backend and runs
//! the same steps on each. Fresh means no test sees another's rows, and tests
//! can run in parallel:
//!
//! - SQLite: a file in a temporary directory, removed with it;
//! - PostgreSQL: a new database with a random name on the server named by
//!   `TEST_DATABASE_URL` (e.g. `postgres://postgres@127.0.0.1:5432/test`; the
//!   role needs `CREATEDB`), dropped when the [`TestDatabase`] is dropped.
//!
//! Without `TEST_DATABASE_URL` the tests run on SQLite alone and say so on
//! stderr, so that `cargo test` works on a laptop with no database server;
//! under CI (`CI=true`) a missing PostgreSQL is an error, so that it cannot
//! silently drop out of the suite. The same holds for the programs some
//! tests run (nginx, pg_dump, Chromium...): [`require_tool`].

/// Picking an item of the example meeting and opening a round on it.
pub mod chair;
/// A PostgreSQL cluster of a test's own, which it may crash and restart.
pub mod cluster;
/// Small real PDFs, and the example meeting with documents.
pub mod documents;
/// A meeting's node killed or stopped in the middle of a burst of ballots.
pub mod failover;
/// An exported record edited as a forger would, for tamper tests.
pub mod forge;
/// Plain HTTP GET for the probes, `/metrics` and the meeting view.
pub mod http;
/// The real `gavel` binary as an operator runs it, and a meeting for it.
pub mod process;
/// A TCP proxy that a test cuts and restores, in front of PostgreSQL or of
/// several Gavel nodes.
pub mod proxy;
/// A generated meeting with a key for every seat.
pub mod roster;
/// A secretariat device enrolled and logged in over the real HTTP API.
pub mod secretariat;
/// A real Gavel server for a test, on a port of its own.
pub mod server;

use sqlx::{Connection, Executor, PgConnection};
use std::path::Path;

/// One fresh, empty database. Keep it alive for as long as the test uses it.
pub struct TestDatabase {
    /// `"sqlite"` or `"postgres"`, as `Store::backend` names them.
    pub name: &'static str,
    /// What `Store::connect` takes.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    _scratch: Option<ScratchDatabase>,
}

/// A fresh database on every backend available to this run: SQLite always,
/// PostgreSQL when `TEST_DATABASE_URL` is set.
pub async fn databases() -> Vec<TestDatabase> {
    let mut all = vec![sqlite()];
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) => all.push(postgres(&admin_url).await),
        Err(_) if under_ci() => panic!(
            "TEST_DATABASE_URL is not set: under CI the tests must also run on PostgreSQL \
             (e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)"
        ),
        Err(_) => eprintln!("note: TEST_DATABASE_URL is not set; testing on SQLite only"),
    }
    all
}

/// Whether this run is CI's (`CI=true`), where nothing may be skipped.
fn under_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Whether the program `tool` (a name looked up on `PATH`, or a path) is
/// there for the test that needs it; the test returns early where it is
/// not. Locally the skip says so on stderr; under CI (`CI=true`) a missing
/// tool panics, so that a test cannot silently drop out of the suite
/// (`scripts/test` installs every tool a test asks for).
pub fn require_tool(tool: impl AsRef<Path>) -> bool {
    let tool = tool.as_ref();
    let found = if tool.components().count() > 1 {
        is_executable(tool)
    } else {
        std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path).any(|dir| is_executable(&dir.join(tool)))
        })
    };
    if !found {
        let test = std::thread::current()
            .name()
            .unwrap_or("this test")
            .to_owned();
        assert!(
            !under_ci(),
            "{} is missing: under CI {test} must run, not be skipped",
            tool.display()
        );
        eprintln!(
            "note: {} is missing; {test} is skipped here",
            tool.display()
        );
    }
    found
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn sqlite() -> TestDatabase {
    let dir = tempfile::tempdir().expect("creating a temporary directory for SQLite");
    TestDatabase {
        name: "sqlite",
        url: format!("sqlite://{}", dir.path().join("gavel.db").display()),
        _dir: Some(dir),
        _scratch: None,
    }
}

async fn postgres(admin_url: &str) -> TestDatabase {
    let name = format!("gavel_test_{:016x}", rand::random::<u64>());
    let mut admin = PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|e| panic!("connecting to TEST_DATABASE_URL {admin_url}: {e}"));
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
    admin
        .close()
        .await
        .expect("closing the administrative connection");
    TestDatabase {
        name: "postgres",
        url: with_database(admin_url, &name),
        _dir: None,
        _scratch: Some(ScratchDatabase {
            admin_url: admin_url.to_owned(),
            name,
        }),
    }
}

/// `url` with its database (the path) replaced by `name`, keeping any query.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority = base.find("://").map_or(0, |i| i + 3);
    let path = base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i);
    let mut out = format!("{}/{name}", &base[..path]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// A PostgreSQL database that is dropped when this value is.
struct ScratchDatabase {
    admin_url: String,
    name: String,
}

impl Drop for ScratchDatabase {
    /// Drops the database `WITH (FORCE)`, which ends the connections a test's
    /// pool may still hold. `Drop` is not async and usually runs on the
    /// test's runtime, where blocking on another future panics, so the work
    /// runs on its own thread with its own small runtime. A failure is only
    /// reported: panicking in `drop` would hide the test's own outcome.
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let statement = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(async {
                    let mut admin = PgConnection::connect(&admin_url).await?;
                    admin.execute(statement.as_str()).await?;
                    admin.close().await
                })
                .map_err(|e| e.to_string())
        })
        .join();
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("warning: could not drop test database {}: {e}", self.name),
            Err(_) => eprintln!("warning: dropping test database {} panicked", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{require_tool, with_database};

    #[test]
    fn a_tool_is_found_on_the_path_or_by_its_path() {
        assert!(require_tool("sh"));
        assert!(require_tool("/bin/sh"));
    }

    #[test]
    fn the_database_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
