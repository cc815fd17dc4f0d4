//! `gavel demo`, the README's run command, as a person would start it: the
//! real binary, simulated tablets and chair, and a watcher that sees a vote
//! happen and its result committed. SIGTERM stops it cleanly.

use gavel_client::Client;
use gavel_protocol::MeetingId;
use gavel_protocol::messages::{RoundStatus, RoundView};
use gavel_tests::process::{self, Gavel};

#[tokio::test]
async fn the_demo_runs_a_live_session_that_a_watcher_can_follow() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut demo = Gavel::start(process::demo(
        env!("CARGO_BIN_EXE_gavel"),
        dir.path(),
        12,
        20,
    ))?;
    let url = demo.url();
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
        .and_then(RoundView::tally)
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

    assert!(
        demo.terminate()?.success(),
        "the demo stops cleanly on SIGTERM"
    );
    // What it told the person who started it: where the server and the hall screen are.
    let printed = demo.stdout();
    let line = |label: &str| {
        printed
            .iter()
            .find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("the demo prints {label} {printed:#?}"))
    };
    assert_eq!(line("server:"), url);
    assert_eq!(
        line("hall screen:"),
        format!("http://{}/screen/?meeting=phuc-loi-2026-ky-12", demo.addr)
    );
    Ok(())
}
