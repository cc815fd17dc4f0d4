//! Gavel as an IT department runs and watches it: the real binary, its
//! metrics scraped before and after a real vote, its JSON log read line by
//! line, the example settings file of `deploy/` and the systemd unit.

use gavel_client::{Client, ClientError, Session};
use gavel_protocol::messages::RoundView;
use gavel_protocol::rules::Secrecy;
use gavel_protocol::{Choice, RefusalReason};
use gavel_tests::http::{self, Scrape, delta};
use gavel_tests::process::{self, Gavel, Prepared, prepare_example, vote};
use gavel_tests::{databases, require_tool};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// `gavel serve` on a port of its own, on `database_url`, keeping its key
/// in `data_dir`, with the log at its default level.
fn serve(data_dir: &Path, database_url: &str) -> Command {
    process::serve(env!("CARGO_BIN_EXE_gavel"), data_dir, Some(database_url))
}

async fn delegates(prepared: &Prepared, url: &str, seats: u32) -> anyhow::Result<Vec<Session>> {
    let mut all = Vec::new();
    for seat in 1..=seats {
        let mut session = prepared.seat(url, seat).await?;
        session.check_in().await?;
        all.push(session);
    }
    Ok(all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_vote_moves_the_metrics_as_it_should() -> anyhow::Result<()> {
    for db in databases().await {
        let dir = tempfile::tempdir()?;
        let prepared = prepare_example(&db.url, 5).await?;
        let mut command = serve(dir.path(), &db.url);
        command.args(["--metrics-listen", "127.0.0.1:0"]);
        let mut gavel = Gavel::start(command)?;
        let metrics = gavel.metrics_addr.clone().expect("a metrics listener");
        let url = gavel.url();
        assert_eq!(
            http::get(&gavel.addr, "/metrics").await?.status,
            404,
            "metrics are not served to the hall"
        );
        let before = Scrape::of(&metrics).await?;

        let mut chair = prepared.chair(&url).await?;
        // Logged in, so the meetings are restored: ready, also on this listener.
        let ready = http::get(&metrics, "/readyz").await?;
        assert_eq!(ready.status, 200, "{ready:?}");
        let mut seats = delegates(&prepared, &url, 5).await?;
        let watcher = Client::connect(&url)
            .await?
            .watch(&prepared.meeting)
            .await?;
        let choices = [
            Choice::Yes,
            Choice::Yes,
            Choice::No,
            Choice::Abstain,
            Choice::Yes,
        ];
        let item = prepared.item(Secrecy::Named);
        let (round, receipts) = vote(&mut chair, &mut seats, item, &choices, false).await?;
        let open = Scrape::of(&metrics).await?;
        assert_eq!(
            delta(&before, &open, "gavel_connections{role=\"delegate\"}"),
            5.0
        );
        assert_eq!(
            delta(&before, &open, "gavel_connections{role=\"chair\"}"),
            1.0
        );
        assert_eq!(
            delta(&before, &open, "gavel_connections{role=\"watcher\"}"),
            1.0
        );
        assert_eq!(delta(&before, &open, "gavel_rounds_open"), 1.0);

        // A ballot with a sequence number already used: refused as stale.
        let stale = seats[0]
            .cast_in(round, Choice::No, receipts[0].seq)
            .await
            .expect_err("an old sequence number is refused");
        assert_eq!(stale.reason(), Some(RefusalReason::StaleSequence));
        chair
            .chair(gavel_protocol::messages::ChairCommand::Close)
            .await?;
        // After the close: refused as late.
        let seq = seats[1].next_seq();
        let late = seats[1]
            .cast_in(round, Choice::No, seq)
            .await
            .expect_err("the window has closed");
        assert_eq!(late.reason(), Some(RefusalReason::Late));

        let after = Scrape::of(&metrics).await?;
        assert_eq!(delta(&before, &after, "gavel_ballots_accepted_total"), 5.0);
        assert_eq!(
            delta(
                &before,
                &after,
                "gavel_ballots_refused_total{reason=\"stale_sequence\"}"
            ),
            1.0
        );
        assert_eq!(
            delta(
                &before,
                &after,
                "gavel_ballots_refused_total{reason=\"late\"}"
            ),
            1.0
        );
        assert_eq!(delta(&before, &after, "gavel_rounds_open"), 0.0);
        // Every accepted ballot went through one committed batch.
        assert_eq!(delta(&before, &after, "gavel_ballot_batch_size_sum"), 5.0);
        let batches = delta(&before, &after, "gavel_ballot_batch_size_count");
        assert!((1.0..=5.0).contains(&batches), "{batches} batches");
        assert_eq!(
            delta(&before, &after, "gavel_ballot_commit_seconds_count"),
            batches
        );
        // One wait per acknowledgement; the refused ballots have none.
        assert_eq!(
            delta(&before, &after, "gavel_ballot_ack_seconds_count"),
            5.0
        );
        assert!(delta(&before, &after, "gavel_ballot_ack_seconds_sum") > 0.0);
        // The snapshot of the open round alone went to all seven connections.
        assert!(delta(&before, &after, "gavel_broadcast_seconds_count") >= 7.0);

        // Connections leave: counted out.
        drop((chair, seats, watcher));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let now = Scrape::of(&metrics).await?;
            let left = ["delegate", "chair", "watcher"].iter().all(|role| {
                delta(
                    &before,
                    &now,
                    &format!("gavel_connections{{role=\"{role}\"}}"),
                ) == 0.0
            });
            if left {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "connections not counted out:\n{}",
                now.0
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(gavel.terminate()?.success(), "{}", db.name);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_log_lines_parse_and_ballot_lines_name_meeting_round_and_seat() -> anyhow::Result<()> {
    for db in databases().await {
        let dir = tempfile::tempdir()?;
        let prepared = prepare_example(&db.url, 4).await?;
        let mut command = serve(dir.path(), &db.url);
        command.env("GAVEL_LOG_FORMAT", "json");
        let mut gavel = Gavel::start(command)?;
        let url = gavel.url();
        let mut chair = prepared.chair(&url).await?;
        let mut seats = delegates(&prepared, &url, 4).await?;
        let choices = [Choice::Yes, Choice::No, Choice::Abstain, Choice::Yes];
        let (named, _) = vote(
            &mut chair,
            &mut seats,
            prepared.item(Secrecy::Named),
            &choices,
            true,
        )
        .await?;
        let (secret, _) = vote(
            &mut chair,
            &mut seats,
            prepared.item(Secrecy::Secret),
            &choices,
            true,
        )
        .await?;
        let seq = seats[0].next_seq();
        match seats[0].cast_in(secret, Choice::No, seq).await {
            Err(ClientError::Refused { reason, .. }) => assert_eq!(reason, RefusalReason::Late),
            other => panic!("a ballot after the close: {other:?}"),
        }
        drop((chair, seats));
        assert!(gavel.terminate()?.success());

        let log = gavel.log();
        assert!(log.len() > 10, "{log:?}");
        let mut ballot_lines = 0;
        for line in &log {
            let event: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}: not a JSON object ({e}): {line}", db.name));
            for key in ["timestamp", "level", "message"] {
                assert!(event.contains_key(key), "{key} missing: {line}");
            }
            // No line links anything to a choice, in a named round or a secret one.
            assert!(!event.contains_key("choice"), "{line}");
            let message = event["message"].as_str().expect("a text message");
            if message.starts_with("ballot ") && !message.starts_with("ballot batch") {
                ballot_lines += 1;
                assert_eq!(event["meeting"], prepared.meeting.as_str(), "{line}");
                let round = event["round"].as_str().expect("a round");
                assert!(
                    round == named.to_string() || round == secret.to_string(),
                    "{line}"
                );
                assert!(
                    (1..=4).contains(&event["seat"].as_u64().expect("a seat")),
                    "{line}"
                );
            }
        }
        // Four accepted in each round, and the late one.
        assert!(ballot_lines >= 9, "{ballot_lines} ballot lines in {log:#?}");
    }
    Ok(())
}

/// A file of `deploy/`.
fn deploy(file: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../deploy")
        .join(file)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_settings_file_runs_a_server_that_becomes_ready() -> anyhow::Result<()> {
    // Only what a test machine needs changed: the data directory
    // (/var/lib/gavel is the service's) and the ports (taken, or not ours).
    let data = tempfile::tempdir()?;
    let gavel = || {
        let mut command = process::command(env!("CARGO_BIN_EXE_gavel"), data.path(), None);
        command
            .arg("--config")
            .arg(deploy("gavel.toml"))
            .arg("--data-dir")
            .arg(data.path());
        command
    };
    let meeting = Path::new(env!("CARGO_MANIFEST_DIR")).join("meetings/phuc-loi.toml");
    let import = gavel().args(["meeting", "import"]).arg(&meeting).output()?;
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let mut command = gavel();
    command.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
    ]);
    let mut server = Gavel::start(command)?;
    let metrics = server
        .metrics_addr
        .clone()
        .expect("the example serves metrics");
    // A hall screen connects (it waits for the meetings), then both
    // listeners say ready.
    let meeting_id = gavel_protocol::MeetingId::parse("phuc-loi-2026-ky-12").expect("an id");
    let screen = Client::connect(&server.url())
        .await?
        .watch(&meeting_id)
        .await?;
    assert_eq!(screen.meeting.id, meeting_id);
    for addr in [&server.addr, &metrics] {
        let ready = http::get(addr, "/readyz").await?;
        assert_eq!(
            (ready.status, ready.body.as_str()),
            (200, "ready\n"),
            "{addr}"
        );
    }
    assert_eq!(http::get(&metrics, "/metrics").await?.status, 200);
    assert!(
        data.path().join("gavel.sqlite3").exists(),
        "SQLite in the data directory"
    );
    drop(screen);
    assert!(server.terminate()?.success());
    Ok(())
}

/// `systemd-analyze verify` checks a unit the way systemd reads it, and
/// `systemd-analyze security` scores its sandbox. Verify also requires
/// ExecStart's program to exist, so a copy of the unit is checked with
/// ExecStart pointing at the binary just built instead of
/// /usr/local/bin/gavel; nothing else is changed. Needs systemd-analyze
/// ([`require_tool`]).
fn verify_unit(file: &str, installed_as: &str) -> anyhow::Result<()> {
    let unit = std::fs::read_to_string(deploy(file))?;
    let installed = "ExecStart=/usr/local/bin/gavel ";
    assert_eq!(
        unit.matches(installed).count(),
        1,
        "one ExecStart, as documented"
    );
    let built = format!("ExecStart={} ", env!("CARGO_BIN_EXE_gavel"));
    let dir = tempfile::tempdir()?;
    let copy = dir.path().join(installed_as);
    std::fs::write(&copy, unit.replace(installed, &built))?;

    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&copy)
        .output()?;
    let said = String::from_utf8_lossy(&verify.stderr).into_owned()
        + &String::from_utf8_lossy(&verify.stdout);
    assert!(verify.status.success(), "{said}");
    assert!(!said.contains(installed_as), "verify complains: {said}");

    // Exposure 2.0 or less on systemd's scale of 0 (locked down) to 10.
    let security = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--threshold=20", "--no-pager"])
        .arg(&copy)
        .output()?;
    assert!(
        security.status.success(),
        "{}",
        String::from_utf8_lossy(&security.stdout)
    );
    Ok(())
}

#[test]
fn the_systemd_unit_verifies_and_is_sandboxed() -> anyhow::Result<()> {
    if !require_tool("systemd-analyze") {
        return Ok(());
    }
    verify_unit("gavel.service", "gavel.service")
}

/// The template unit of a node of several, as its first instance.
#[test]
fn the_nodes_systemd_unit_verifies_and_is_sandboxed() -> anyhow::Result<()> {
    if !require_tool("systemd-analyze") {
        return Ok(());
    }
    verify_unit("gavel@.service", "gavel@a.service")
}

/// The nodes' settings files are settings Gavel reads.
#[test]
fn the_nodes_settings_files_parse() -> anyhow::Result<()> {
    for file in ["nodes/a.toml", "nodes/b.toml"] {
        let text = std::fs::read_to_string(deploy(file))?;
        let settings = gavel_server::config::FileSettings::parse(&text)?;
        assert!(settings.database_url.is_some(), "{file} names the database");
        assert_eq!(settings.lease_term_ms, Some(4000), "{file}");
    }
    Ok(())
}

/// A port free at the time of asking, for a program that takes no port 0.
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// `text` with `from` replaced, which must be there.
fn replaced(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "{from:?} is not in the file");
    text.replace(from, to)
}

/// nginx, run by the test; killed when dropped.
struct Nginx(std::process::Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The nginx example in front of the real server, as deployed with a
/// domain's certificate (here one made for 127.0.0.1): plain HTTP is sent
/// to HTTPS, and tablets and the chair vote through it over WSS. Only the
/// ports, the certificate's paths and Gavel's address are changed. One store
/// suffices: what is under test is the proxy. Needs nginx ([`require_tool`]).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vote_goes_through_the_nginx_example_over_tls() -> anyhow::Result<()> {
    if !require_tool("nginx") {
        return Ok(());
    }
    let data = tempfile::tempdir()?;
    let database_url = format!("sqlite://{}", data.path().join("gavel.sqlite3").display());
    let prepared = prepare_example(&database_url, 3).await?;
    let mut gavel = Gavel::start(serve(data.path(), &database_url))?;

    let nginx_dir = tempfile::tempdir()?;
    let tls = gavel_server::tls::TlsSource::SelfSigned { names: vec![] }.load(nginx_dir.path())?;
    let (http_port, https_port) = (free_port()?, free_port()?);
    let site = std::fs::read_to_string(deploy("proxy/nginx.conf"))?;
    let site = replaced(
        &site,
        "listen 80;",
        &format!("listen 127.0.0.1:{http_port};"),
    );
    let site = replaced(
        &site,
        "listen 443 ssl;",
        &format!("listen 127.0.0.1:{https_port} ssl;"),
    );
    let site = replaced(
        &site,
        "/etc/letsencrypt/live/vote.example.org/fullchain.pem",
        &nginx_dir.path().join("tls-cert.pem").display().to_string(),
    );
    let site = replaced(
        &site,
        "/etc/letsencrypt/live/vote.example.org/privkey.pem",
        &nginx_dir.path().join("tls-key.pem").display().to_string(),
    );
    let site = replaced(
        &site,
        "server 127.0.0.1:8080;",
        &format!("server {};", gavel.addr),
    );
    std::fs::write(nginx_dir.path().join("gavel.conf"), site)?;
    // The frame around the site that /etc/nginx/nginx.conf gives it,
    // everything in the test's directory, one process in the foreground.
    let main = "daemon off;\nmaster_process off;\npid nginx.pid;\nerror_log error.log;\n\
                events {}\nhttp {\n  access_log off;\n  client_body_temp_path body;\n  \
                proxy_temp_path proxy;\n  include gavel.conf;\n}\n";
    std::fs::write(nginx_dir.path().join("nginx.conf"), main)?;
    let _nginx = Nginx(
        Command::new("nginx")
            .arg("-p")
            .arg(nginx_dir.path())
            .args(["-c", "nginx.conf", "-e", "error.log"])
            .spawn()?,
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", https_port))
        .await
        .is_err()
    {
        let log = std::fs::read_to_string(nginx_dir.path().join("error.log")).unwrap_or_default();
        assert!(
            tokio::time::Instant::now() < deadline,
            "nginx did not start: {log}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let plain = http::get(&format!("127.0.0.1:{http_port}"), "/readyz").await?;
    assert_eq!(plain.status, 301, "plain HTTP is sent to HTTPS: {plain:?}");

    let wss = format!("wss://127.0.0.1:{https_port}/ws");
    let trust = gavel_client::Trust::Fingerprint(tls.fingerprint);
    let login = |key| {
        let (wss, trust, meeting) = (wss.clone(), trust.clone(), prepared.meeting.clone());
        async move {
            anyhow::Ok(
                Client::connect_trusting(&wss, &trust)
                    .await?
                    .login(&meeting, key)
                    .await?,
            )
        }
    };
    let mut chair = login(&prepared.chair).await?;
    let mut seats = Vec::new();
    for key in &prepared.seats {
        let mut session = login(key).await?;
        session.check_in().await?;
        seats.push(session);
    }
    let choices = [Choice::Yes, Choice::Yes, Choice::No];
    let (round, receipts) = vote(
        &mut chair,
        &mut seats,
        prepared.item(Secrecy::Named),
        &choices,
        true,
    )
    .await?;
    assert_eq!(receipts.len(), 3);
    let result = chair
        .state
        .round()
        .filter(|r| r.id == round)
        .and_then(RoundView::tally)
        .expect("the result reached the chair through nginx");
    assert_eq!((result.counts.yes, result.counts.no), (2, 1));
    drop((chair, seats));
    assert!(gavel.terminate()?.success());
    Ok(())
}

/// A server that cannot start (here: a store it does not know) exits with
/// its reason, and whoever started it hears that at once with the log,
/// rather than waiting for a ready file that never comes.
#[test]
fn a_server_that_cannot_start_says_why_and_is_not_waited_for() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let command = process::serve(
        env!("CARGO_BIN_EXE_gavel"),
        data.path(),
        Some("mysql://h/db"),
    );
    let Err(error) = Gavel::start(command) else {
        panic!("gavel started on a MySQL URL");
    };
    let error = format!("{error:#}");
    assert!(error.contains("exited"), "{error}");
    assert!(
        error.contains("must start with sqlite:// or postgres://"),
        "{error}"
    );
    Ok(())
}
