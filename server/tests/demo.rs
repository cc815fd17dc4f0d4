//! `gavel demo`, the README's run command, as a person would start it: the
//! real binary, simulated tablets and chair, and a watcher that sees a vote
//! happen and its result committed. SIGTERM stops it cleanly.

use gavel_client::Client;
use gavel_protocol::MeetingId;
use gavel_protocol::messages::RoundStatus;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn the_demo_runs_a_live_session_that_a_watcher_can_follow() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut demo = Command::new(env!("CARGO_BIN_EXE_gavel"))
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--tablets",
            "12",
            "--window",
            "20",
        ])
        .env("GAVEL_DATA_DIR", dir.path())
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = demo.stdout.take().expect("piped");
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("the demo prints its address")?;
        if let Some(url) = line.trim().strip_prefix("server:") {
            break url.trim().to_owned();
        }
    };
    let screen = loop {
        let line = lines
            .next()
            .expect("the demo prints the hall screen's address")?;
        if let Some(screen) = line.trim().strip_prefix("hall screen:") {
            break screen.trim().to_owned();
        }
    };
    assert_eq!(
        screen,
        format!(
            "http://{}/screen/?meeting=phuc-loi-2026-ky-12",
            url.trim_start_matches("ws://").trim_end_matches("/ws")
        )
    );
    let meeting = MeetingId::parse("phuc-loi-2026-ky-12").unwrap();
    let mut watcher = Client::connect(&url).await?.watch(&meeting).await?;
    // The simulated chair opens a vote; the simulated tablets check in and vote;
    // the round closes and its committed result reaches the watcher.
    watcher
        .wait_until(|s| s.round().is_some_and(|r| r.status == RoundStatus::Closed))
        .await?;
    let result = watcher
        .state
        .round()
        .and_then(|r| r.result)
        .expect("a closed round has a result");
    assert_eq!(result.counts.total_seats, 40);
    assert_eq!(
        result.counts.present, 12,
        "the 12 simulated tablets checked in"
    );
    assert!(
        (1..=12).contains(&result.counts.taking_part()),
        "{result:?}"
    );
    assert_eq!(result.passed, result.counts.yes >= 21);

    let status = Command::new("kill")
        .args(["-TERM", &demo.id().to_string()])
        .status()?;
    assert!(status.success());
    assert!(demo.wait()?.success(), "the demo stops cleanly on SIGTERM");
    Ok(())
}
